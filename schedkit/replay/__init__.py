"""Trace replay: a recorded workload through a scheduler profile on the simulated clock."""
