"""The benchmark suite's workloads: the same generators `schedkit bench` uses (schedkit.workloads)."""

from schedkit.workloads import *  # noqa: F401,F403
from schedkit.workloads import TOPOLOGY_WORKLOADS, Workload, config_with_percentage, scheduling_basic  # noqa: F401
