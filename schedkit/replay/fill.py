"""Fill mode: the pods of a trace submitted at once, in order, with no departures (the protocol the FGD
paper uses on openb: keep submitting until the cluster's demand reaches a target share of capacity).

With ``--target-demand``, pods are taken in trace order (or a seeded shuffle of it) until the summed
requests of a resource reach that multiple of the cluster's capacity, going round the trace again
(copies named ``<name>-r1``, ``-r2``, ...) when one pass is not enough. Without a target every pod is
submitted once. All arrive at time 0; the queue keeps their order (equal timestamps break ties by row).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..traces.openb import GPU_MILLI_ANNOTATION, GPU_RESOURCE
from ..traces.workload import Trace

GPU_MILLI = "gpu-milli"  # pseudo-resource: thousandths of a GPU, shared GPUs counted by their fraction
MAX_FILL_PODS = 5_000_000  # a replay takes about 1.3 GB per million pods: keep a fill well inside memory


def shape_demand(workload: Trace, resource: str) -> np.ndarray:
    """Per shape, what a pod asks of ``resource`` (cpu in millicores, memory in bytes, others in units)."""
    out = np.zeros(len(workload.shapes), dtype=np.float64)
    for s, pod in enumerate(workload.shapes):
        if resource == GPU_MILLI:
            gpus = pod.requests.get(GPU_RESOURCE, 0)
            annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
            try:
                milli = int(annotations.get(GPU_MILLI_ANNOTATION, 1000))
            except ValueError:
                milli = 1000
            out[s] = gpus * milli if gpus else 0
        else:
            out[s] = pod.requests.get(resource, 0)
    return out


def capacity(workload: Trace, resource: str) -> float:
    if resource == GPU_MILLI:
        return float(sum(node.allocatable.get(GPU_RESOURCE, 0) for node in workload.nodes) * 1000)
    return float(sum(node.allocatable.get(resource, 0) for node in workload.nodes))


def default_resource(workload: Trace) -> str:
    return GPU_RESOURCE if capacity(workload, GPU_RESOURCE) > 0 else "cpu"


def fill_workload(workload: Trace, target: float | None, resource: str, shuffle: bool,
                  seed: int) -> tuple[Trace, dict]:
    """The submission sequence and a description of it for the summary."""
    rng = np.random.default_rng(seed)
    count = workload.num_pods

    def one_pass() -> np.ndarray:
        return rng.permutation(count) if shuffle else np.arange(count)

    info: dict = {"order": "shuffled" if shuffle else "trace", "targetResource": None, "targetDemand": None}
    if target is None:
        rows = one_pass()
        copies = np.zeros(count, dtype=np.int64)
    else:
        if not math.isfinite(target) or target <= 0:
            raise InputError(f"--target-demand must be a finite number above 0, got {target:g}")
        total_capacity = capacity(workload, resource)
        if total_capacity <= 0:
            raise InputError(f"no node has any {resource}: a demand target on it cannot be reached")
        demand = shape_demand(workload, resource)[workload.shape_of]
        if demand.sum() <= 0:
            raise InputError(f"no pod in the trace requests {resource}: a demand target on it cannot be reached")
        goal = target * total_capacity
        expected = goal / float(demand.sum()) * count  # pods it takes, going round the trace
        if expected > MAX_FILL_PODS:
            raise InputError(f"--target-demand {target:g} would submit about {expected:,.0f} pods, more than a "
                             f"replay here holds ({MAX_FILL_PODS:,}); give a smaller target")
        parts, copy_ids, reached, k = [], [], 0.0, 0
        while reached < goal:
            rows = one_pass()
            cumulative = reached + np.cumsum(demand[rows])
            stop = int(np.searchsorted(cumulative, goal)) + 1  # include the pod that reaches the goal
            parts.append(rows[:stop])
            copy_ids.append(np.full(min(stop, count), k, dtype=np.int64))
            reached = float(cumulative[min(stop, count) - 1])
            k += 1
        rows = np.concatenate(parts)
        copies = np.concatenate(copy_ids)
        info.update(targetResource=resource, targetDemand=target, submittedDemand=reached / total_capacity,
                    passes=k)
    taken = workload.take(rows, arrival=np.zeros(len(rows)), timed=False)
    if copies.any():
        names = taken.names.copy()
        for i in np.flatnonzero(copies):
            names[i] = f"{names[i]}-r{copies[i]}"
        taken.names = names
    info["submitted"] = int(len(rows))
    return taken, info
