"""Recorded workload traces: schedkit's own schema, Alibaba openb, Kubernetes manifests."""

from .loader import FORMATS, load_trace
from .openb import TracePod, load_openb_nodes, load_openb_pods, load_openb_workload
from .workload import Trace

__all__ = ["FORMATS", "Trace", "TracePod", "load_trace", "load_openb_nodes", "load_openb_pods",
           "load_openb_workload"]
