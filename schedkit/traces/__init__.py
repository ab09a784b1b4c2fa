"""Recorded workload traces as Kubernetes objects: each pod with its arrival and departure time."""

from .openb import TracePod, load_openb_nodes, load_openb_pods

__all__ = ["TracePod", "load_openb_nodes", "load_openb_pods"]
