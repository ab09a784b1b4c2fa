"""Fill mode: the pods of a trace submitted at once, in order, with no departures (the protocol the FGD
paper uses on openb: keep submitting until the cluster's demand reaches a target share of capacity).

With ``--target-demand``, the trace's pods (in trace order or a seeded shuffle) are tuned to that
multiple of the cluster's capacity as the FGD simulator tunes them (``fill_workload``): copies drawn at
random appended, or pods removed at random. Without a target every pod is submitted once. All arrive at
time 0; the queue keeps their order (equal timestamps break ties by row), and with nothing ever leaving,
a pod that does not fit when its turn comes stays pending, as the simulator drops it.
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


def per_unit_demand(workload: Trace, resource: str) -> np.ndarray:
    """Per shape, what the simulator's stop test adds for one more pod: for gpu-milli the milli of ONE of
    its devices (simulator.go tuneUpPods compares ``total + podRes.MilliGpu``, not the pod's total)."""
    demand = shape_demand(workload, resource)
    if resource != GPU_MILLI:
        return demand
    devices = np.array([pod.requests.get(GPU_RESOURCE, 0) for pod in workload.shapes], dtype=np.float64)
    return demand / np.maximum(devices, 1)


def _clones(rng: np.random.Generator, count: int, demand: np.ndarray, step: np.ndarray, total: float,
            goal: float) -> list[int]:
    """tuneUpPods: originals drawn uniformly with replacement, appended while ``total + step`` stays within
    the goal (the first that would pass it stops the drawing); drawn in chunks, decided in order."""
    taken: list[int] = []
    while True:
        chunk = rng.integers(0, count, size=4096)
        before = total + np.concatenate([[0.0], np.cumsum(demand[chunk])[:-1]])  # total before each draw
        stop = np.flatnonzero(before + step[chunk] > goal)
        end = int(stop[0]) if len(stop) else len(chunk)
        taken.extend(chunk[:end].tolist())
        if len(taken) > MAX_FILL_PODS:
            raise InputError(f"the fill target would submit more than {MAX_FILL_PODS:,} pods, more than a replay here "
                             "holds; give a smaller target")
        if len(stop):
            return taken
        total = float(before[-1] + demand[chunk[-1]])


def fill_workload(workload: Trace, target: float | None, resource: str, shuffle: bool,
                  seed: int) -> tuple[Trace, dict]:
    """The submission sequence and a description of it for the summary.

    With a target, the FGD simulator's workload tuning (hkust-adsl/kubernetes-scheduler-simulator
    pkg/simulator/simulator.go TunePodsByNodeTotalResource): the trace's pods (shuffled with ``shuffle``),
    then, while their summed demand is below ``target`` x capacity, copies of pods drawn uniformly from the
    trace (``<name>-tuned-<i>``, appended in the order drawn); above it, pods removed at random until it
    is not. The demand counts milli-GPU (a 0.5-GPU pod counts 500) for ``gpu-milli``. Go's random stream
    cannot be reproduced: the draws come from numpy's generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    count = workload.num_pods
    rows = rng.permutation(count) if shuffle else np.arange(count)
    info: dict = {"order": "shuffled" if shuffle else "trace", "targetResource": None, "targetDemand": None}
    clone_of = np.zeros(0, dtype=np.int64)
    if target is not None:
        if not math.isfinite(target) or target <= 0:
            raise InputError(f"--target-demand must be a finite number above 0, got {target:g}")
        total_capacity = capacity(workload, resource)
        if total_capacity <= 0:
            raise InputError(f"no node has any {resource}: a demand target on it cannot be reached")
        demand = shape_demand(workload, resource)[workload.shape_of]
        if demand.sum() <= 0:
            raise InputError(f"no pod in the trace requests {resource}: a demand target on it cannot be reached")
        goal = target * total_capacity
        total = float(demand.sum())
        if goal / total * count > MAX_FILL_PODS:
            raise InputError(f"--target-demand {target:g} would submit about {goal / total * count:,.0f} pods, more "
                             f"than a replay here holds ({MAX_FILL_PODS:,}); give a smaller target")
        if total < goal:
            step = per_unit_demand(workload, resource)[workload.shape_of]
            clone_of = np.asarray(_clones(rng, count, demand, step, total, goal), dtype=np.int64)
            total += float(demand[clone_of].sum())
        elif total > goal:
            # tuneDownPods: a pod drawn uniformly from those left, removed, until the total is within the goal
            order = rng.permutation(len(rows))
            removed = np.cumsum(demand[rows[order]])
            k = int(np.flatnonzero(total - removed <= goal)[0]) + 1
            keep = np.ones(len(rows), dtype=bool)
            keep[order[:k]] = False
            total -= float(removed[k - 1])
            rows = rows[keep]
        info.update(targetResource=resource, targetDemand=target, submittedDemand=total / total_capacity,
                    tunedUp=int(len(clone_of)), tunedDown=int(count - len(rows)))
    taken = workload.take(np.concatenate([rows, clone_of]), arrival=np.zeros(len(rows) + len(clone_of)), timed=False)
    if len(clone_of):
        names = taken.names.copy()
        names[len(rows):] = [f"{workload.names[c]}-tuned-{i}" for i, c in enumerate(clone_of.tolist())]
        taken.names = names
    info["submitted"] = int(len(taken.names))
    return taken, info
