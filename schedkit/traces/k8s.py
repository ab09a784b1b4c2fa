"""Kubernetes manifests as a trace: small hand-written scenarios.

Pods carry their timing as annotations: ``schedkit.io/arrival`` (seconds on the trace clock, default
0), and optionally ``schedkit.io/duration`` (runtime once scheduled) or ``schedkit.io/end`` (absolute
deletion time). Pods already bound (``spec.nodeName``) with no arrival annotation are running when the
replay starts and stay. Nodes come from the same files or from ``--nodes``.
"""

from __future__ import annotations

import math

import numpy as np

from ..cluster import cluster_from_objects
from ..errors import InputError
from ..manifests import load_objects
from ..objects import Pod
from ..validation import validate_objects
from .workload import Trace, seconds_problem

ARRIVAL = "schedkit.io/arrival"
DURATION = "schedkit.io/duration"
END = "schedkit.io/end"
RECREATE = "schedkit.io/recreate"  # "true": the pod's owner creates a replacement when preemption deletes it


def _seconds(pod: Pod, key: str) -> float:
    annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(key)
    if text is None:
        return math.nan
    try:
        value = float(str(text))
    except ValueError:
        value = math.nan
    problem = f"must be a number of seconds, got {text!r}" if math.isnan(value) else seconds_problem(value)
    if problem:
        raise InputError(problem, pod.source, f"pod {pod.key}: metadata.annotations[{key}]")
    return value


def load_k8s_trace(paths: list[str], node_paths: list[str] | None = None) -> Trace:
    objects = load_objects(list(paths) + list(node_paths or []))
    cluster = cluster_from_objects(objects)
    validate_objects(objects)
    if not cluster.nodes:
        raise InputError("no Node objects found (give them in the trace or with --nodes)", ", ".join(paths))
    running: list[Pod] = []
    trace: list[Pod] = []
    for pod in cluster.pods:
        annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
        if pod.node_name and ARRIVAL not in annotations:
            running.append(pod)
        else:
            trace.append(pod)
    if not trace:
        raise InputError("no pods to replay: every Pod is already bound and none has a schedkit.io/arrival "
                         "annotation", ", ".join(paths))
    arrival = np.array([_seconds(p, ARRIVAL) for p in trace])
    arrival = np.where(np.isnan(arrival), 0.0, arrival)
    duration = np.array([_seconds(p, DURATION) for p in trace])
    deadline = np.array([_seconds(p, END) for p in trace])
    for i, pod in enumerate(trace):
        if not np.isnan(duration[i]) and not np.isnan(deadline[i]):
            raise InputError(f"has both {DURATION} and {END}; give one", pod.source, f"pod {pod.key}")
        if deadline[i] < arrival[i]:
            raise InputError(f"{END} {deadline[i]:g} is before {ARRIVAL} {arrival[i]:g}", pod.source, f"pod {pod.key}")
    return Trace(cluster.nodes, trace, np.arange(len(trace), dtype=np.int64),
                 np.array([p.name for p in trace], dtype=object), np.array([p.namespace for p in trace], dtype=object),
                 arrival, duration, deadline, ", ".join(paths), running, cluster.namespaces,
                 recreate=np.array([_recreate(p) for p in trace], dtype=bool),
                 disruption_budgets=list(cluster.disruption_budgets),
                 running_recreate=frozenset(p.key for p in running if _recreate(p)))


def _recreate(pod: Pod) -> bool:
    annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(RECREATE)
    if text is None or str(text).lower() == "false":
        return False
    if str(text).lower() == "true":
        return True
    raise InputError(f"must be \"true\" or \"false\", got {text!r}", pod.source,
                     f"pod {pod.key}: metadata.annotations[{RECREATE}]")
