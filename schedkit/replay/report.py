"""What a replay produced, as tables and numbers: placements, timeline, summary.

``placements``: one row per pod. ``timeline``: one row per simulated time something happened,
cluster-wide allocated and allocatable per resource, running and pending pods. ``summary``: pod
counts, pending time, allocation ratios (at the end, time-weighted, peak), for GPU clusters the
unallocated share and a fragmentation measure, and how fast the replay ran.

Units: cpu in millicores; memory and storage in bytes; other resources in their own units.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import KUBERNETES_VERSION
from ..objects import CPU
from . import queue
from .engine import ReplayResult

GPU_RESOURCE = "nvidia.com/gpu"

OUTCOMES = {
    queue.NOT_ARRIVED: "pending", queue.ACTIVE: "pending", queue.BACKOFF: "pending",
    queue.UNSCHEDULABLE: "pending", queue.IN_FLIGHT: "pending", queue.RUNNING: "running",
    queue.DONE: "finished", queue.DELETED: "deleted-pending", queue.HELD: "held",
}


def column_name(resource: str) -> str:
    return "request_cpu_milli" if resource == CPU else f"request_{resource}"


def resources_in_use(result: ReplayResult) -> list[tuple[int, str]]:
    """(column, name) of the resources some node offers or some pod requests: the others (often
    ephemeral-storage) would only add columns of zeros."""
    allocatable = result.state.nodes.allocatable.sum(axis=0)
    requested = result.requests[np.unique(result.arrays.spec)].any(axis=0) if result.requests.size else \
        np.zeros(len(result.state.resources), dtype=bool)
    return [(r, resource) for r, resource in enumerate(result.state.resources)
            if allocatable[r] > 0 or requested[r]]


def placements(result: ReplayResult) -> pd.DataFrame:
    R, w, state = result.arrays, result.workload, result.state
    node = R.node
    names = np.asarray(state.node_names + [None], dtype=object)
    frame = pd.DataFrame({
        "name": pd.array(w.names, dtype="string"),
        "namespace": pd.array(w.namespaces, dtype="string"),
        "arrival": R.arrival,
        "scheduled": pd.array(np.where(np.isnan(R.scheduled), None, R.scheduled), dtype="Float64"),
        "node": pd.array(names[np.where(node >= 0, node, len(state.node_names))], dtype="string"),
        "end": pd.array(np.where(np.isnan(R.left), None, R.left), dtype="Float64"),
        "outcome": pd.array([OUTCOMES[s] for s in R.status.tolist()], dtype="string"),
        "attempts": R.attempts,
        "message": pd.array(result.messages, dtype="string"),
    })
    requests = result.requests
    for r, resource in resources_in_use(result):
        frame[column_name(resource)] = requests[R.spec, r]
    scheduled = ~np.isnan(R.scheduled)
    for column, values in result.plugin_columns.items():
        # A pod that never ran reports nothing, whatever a Reserve rejected later (Permit) left behind.
        frame[column] = pd.array([v if ran else None for v, ran in zip(values, scheduled.tolist())])
    return frame


def timeline(result: ReplayResult) -> pd.DataFrame:
    R, state = result.arrays, result.state
    rows = result.timeline_length
    data: dict[str, object] = {"time": R.tl["time"][:rows]}
    allocatable = state.nodes.allocatable.sum(axis=0)
    for r, resource in resources_in_use(result):
        label = "cpu_milli" if resource == CPU else resource
        data[f"allocated_{label}"] = R.tl_alloc[:rows, r]
        data[f"allocatable_{label}"] = np.full(rows, allocatable[r], dtype=np.int64)
    data["running"] = R.tl["running"][:rows]
    data["pending"] = R.tl["pending"][:rows]
    return pd.DataFrame(data)


def _quantile(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def running_at(result: ReplayResult, when: float) -> np.ndarray:
    """Rows of the pods on a node at simulated time ``when`` (bound at or before it, not yet gone)."""
    R = result.arrays
    scheduled = np.nan_to_num(R.scheduled, nan=np.inf)
    left = np.nan_to_num(R.left, nan=np.inf)
    return np.flatnonzero((scheduled <= when) & (left > when))


def gpu_fragmentation(result: ReplayResult, pods: np.ndarray) -> dict | None:
    """Unallocated GPUs and how many of them are fragments, with ``pods`` on their nodes.

    The measure follows FGD (Weng et al., USENIX ATC '23) for whole GPUs: a node's free GPUs are
    fragments for a task that cannot run there (too few free GPUs, or not enough free cpu/memory left
    beside them); the fragmentation is the expectation over the trace's own GPU tasks (each distinct
    spec weighted by how many pods have it), summed over nodes. Node affinity is not considered."""
    state = result.state
    if GPU_RESOURCE not in state.resources:
        return None
    g = state.resources.index(GPU_RESOURCE)
    allocatable = state.nodes.allocatable
    used = np.zeros_like(allocatable)
    requests = result.requests
    R = result.arrays
    np.add.at(used, R.node[pods], requests[R.spec[pods]])
    free = allocatable - used
    total_gpus = int(allocatable[:, g].sum())
    free_gpus = free[:, g]
    gpu_tasks = np.flatnonzero(requests[:, g] > 0)
    counts = np.bincount(R.spec, minlength=requests.shape[0])[gpu_tasks].astype(np.float64)
    fragments = 0.0
    if len(gpu_tasks) and counts.sum() > 0:
        weights = counts / counts.sum()
        task = requests[gpu_tasks]  # tasks x resources
        # fits[n, t]: every request of task t within node n's free amounts
        fits = np.all(task[None, :, :] <= free[:, None, :], axis=2)
        unfit_weight = (~fits * weights[None, :]).sum(axis=1)
        fragments = float((free_gpus * unfit_weight).sum())
    unallocated = int(free_gpus.sum())
    return {
        "gpus": total_gpus,
        "unallocatedGpus": unallocated,
        "unallocatedShare": _ratio(unallocated, total_gpus),
        "fragmentedGpus": round(fragments, 3),
        "fragmentationRatio": _ratio(fragments, unallocated),
    }


def summary(result: ReplayResult, *, mode: str, seed: int, trace: str, config: str | None,
            extra: dict | None = None) -> dict:
    R, state = result.arrays, result.state
    scheduled = ~np.isnan(R.scheduled)
    waits = (R.scheduled - R.arrival)[scheduled]
    held = int((R.status == queue.HELD).sum())
    allocatable = state.nodes.allocatable.sum(axis=0)
    rows = result.timeline_length
    times = R.tl["time"][:rows]
    allocation: dict[str, dict] = {}
    for r, resource in resources_in_use(result):
        series = R.tl_alloc[:rows, r].astype(np.float64)
        end = float(R.alloc_total[r])
        weighted = None
        if rows >= 2 and times[-1] > times[0]:
            weighted = float((series[:-1] * np.diff(times)).sum() / (times[-1] - times[0]))
        allocation[resource] = {
            "allocatable": int(allocatable[r]),
            "end": _ratio(end, allocatable[r]),
            "timeWeighted": _ratio(weighted, allocatable[r]) if weighted is not None else None,
            "peak": _ratio(float(series.max()) if rows else 0.0, allocatable[r]),
        }
    gpu = None
    if GPU_RESOURCE in state.resources:
        g = state.resources.index(GPU_RESOURCE)
        gpu = {"end": gpu_fragmentation(result, running_at(result, result.end_time))}
        if rows:
            peak_time = float(times[int(np.argmax(R.tl_alloc[:rows, g]))])
            gpu["atPeak"] = {"time": peak_time, **(gpu_fragmentation(result, running_at(result, peak_time)) or {})}
    pending = {
        "mean": float(waits.mean()) if len(waits) else None,
        "p50": _quantile(waits, 0.5),
        "p99": _quantile(waits, 0.99),
        "max": float(waits.max()) if len(waits) else None,
    }
    out = {
        "trace": trace,
        "mode": mode,
        "seed": seed,
        "config": config or "default (kube-scheduler v%s default profile)" % KUBERNETES_VERSION,
        "profile": result.scheduler_name,
        "kubernetesVersion": KUBERNETES_VERSION,
        "nodes": state.num_nodes,
        "pods": {
            "total": result.workload.num_pods,
            "scheduled": int(scheduled.sum()),
            "neverScheduled": int(result.workload.num_pods - scheduled.sum()),
            "held": held,
            "runningAtEnd": int((R.status == queue.RUNNING).sum()),
        },
        "pendingSeconds": pending,
        "simulatedSeconds": float(times[-1] - times[0]) if rows else 0.0,
        "allocation": allocation,
        "gpu": gpu,
        "performance": {
            "wallSeconds": round(result.wall_seconds, 3),
            "compileSeconds": round(result.compile_seconds, 3),
            "loopSeconds": round(result.loop_seconds, 3),
            "decisions": result.cycles,
            "decisionsInGroups": result.group_attempts,
            "cyclesRun": result.cycles_run,
            "decisionsPerSecond": round(result.decisions_per_second, 1) if math.isfinite(result.decisions_per_second)
            else None,
        },
    }
    if extra:
        out.update(extra)
    return out


def human_summary(data: dict) -> str:
    pods, perf = data["pods"], data["performance"]
    lines = [
        f"replayed {data['trace']} ({data['mode']} mode) on {data['nodes']} nodes, profile {data['profile']}",
        f"  pods            {pods['total']:>12,}",
        f"  scheduled       {pods['scheduled']:>12,}",
        f"  never scheduled {pods['neverScheduled']:>12,}" + (f"  ({pods['held']} held)" if pods["held"] else ""),
    ]
    pend = data["pendingSeconds"]
    if pend["mean"] is not None:
        lines.append(f"  pending s       mean {pend['mean']:.2f}  p50 {pend['p50']:.2f}  p99 {pend['p99']:.2f}  "
                     f"max {pend['max']:.2f}")
    lines.append("  allocation      resource            end   time-weighted   peak")
    for resource, a in data["allocation"].items():
        fmt = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
        lines.append(f"                  {resource:<18} {fmt(a['end']):>6} {fmt(a['timeWeighted']):>15} {fmt(a['peak']):>6}")
    gpu = data.get("gpu")
    if gpu:
        for label, key in (("GPUs at end ", "end"), ("GPUs at peak", "atPeak")):
            frag = gpu.get(key)
            if frag and frag.get("gpus"):
                ratio = frag["fragmentationRatio"]
                lines.append(f"  {label}    unallocated {frag['unallocatedGpus']:,}/{frag['gpus']:,} "
                             f"({frag['unallocatedShare']:.1%}), fragmented {frag['fragmentedGpus']:,.1f}"
                             + ("" if ratio is None else f" ({ratio:.1%} of unallocated)"))
    dps = perf["decisionsPerSecond"]
    lines.append(f"  wall {perf['wallSeconds']:.2f} s (compiling or loading the compiled loop "
                 f"{perf['compileSeconds']:.2f} s), "
                 f"{perf['decisions']:,} decisions" + ("" if dps is None else f", {dps:,.0f} decisions/s"))
    if perf.get("decisionsInGroups"):
        lines.append(f"  {perf['decisionsInGroups']:,} decisions were failing retries made in groups; "
                     f"{perf['cyclesRun']:,} scheduling cycles run")
    return "\n".join(lines) + "\n"
