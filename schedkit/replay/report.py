"""What a replay produced, as tables and numbers: placements, timeline, summary.

``placements``: one row per pod. ``timeline``: one row per simulated time something happened,
cluster-wide allocated and allocatable per resource, running and pending pods. ``summary``: pod
counts, pending time, allocation ratios (at the end, time-weighted, peak), for GPU clusters the GPU
figures of ``gpu_metrics`` (milli-GPU allocation, unallocated share, the FGD paper's fragmentation), and
how fast the replay ran. ``curve``: for fill runs on GPU clusters, per submitted pod.

Units: cpu in millicores; memory and storage in bytes; other resources in their own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import KUBERNETES_VERSION
from ..objects import CPU
from . import queue
from . import gpu_metrics
from .engine import ReplayResult

OUTCOMES = {
    queue.NOT_ARRIVED: "pending", queue.ACTIVE: "pending", queue.BACKOFF: "pending",
    queue.UNSCHEDULABLE: "pending", queue.IN_FLIGHT: "pending", queue.RUNNING: "running",
    queue.DONE: "finished", queue.DELETED: "deleted-pending", queue.HELD: "held", queue.PREEMPTED: "preempted",
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
        # Preemption: who deleted a preempted pod; the node a still-pending pod is nominated to.
        "preempted_by": pd.array(result.preempted_by or [None] * len(R.node), dtype="string"),
        "nominated_node": pd.array(result.nominated or [None] * len(R.node), dtype="string"),
    })
    requests = result.requests
    for r, resource in resources_in_use(result):
        frame[column_name(resource)] = requests[R.spec, r]
    scheduled = ~np.isnan(R.scheduled)
    for column, values in result.plugin_columns.items():
        # A pod that never ran reports nothing, whatever a Reserve rejected later (Permit) left behind.
        frame[column] = pd.array([v if ran else None for v, ran in zip(values, scheduled.tolist())])
    return frame


def timeline(result: ReplayResult, gpu: GpuReport | None = None) -> pd.DataFrame:
    R, state = result.arrays, result.state
    rows = result.timeline_length
    data: dict[str, object] = {"time": R.tl["time"][:rows]}
    allocatable = state.nodes.allocatable.sum(axis=0)
    for r, resource in resources_in_use(result):
        label = "cpu_milli" if resource == CPU else resource
        data[f"allocated_{label}"] = R.tl_alloc[:rows, r]
        data[f"allocatable_{label}"] = np.full(rows, allocatable[r], dtype=np.int64)
    if gpu is not None:
        data.update(gpu.columns)
    data["running"] = R.tl["running"][:rows]
    data["pending"] = R.tl["pending"][:rows]
    return pd.DataFrame(data)


def _quantile(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


@dataclass
class GpuReport:
    """A GPU cluster's figures (gpu_metrics), computed once for the timeline, the summary and the curve."""

    columns: dict  # timeline columns
    figures: dict  # summary: end, atPeak
    curve: pd.DataFrame | None  # fill runs: per submitted pod
    typical_pods: int


def gpu_report(result: ReplayResult, fill: bool) -> GpuReport | None:
    cluster = gpu_metrics.gpu_cluster(result)
    if cluster is None:
        return None
    times = result.arrays.tl["time"][:result.timeline_length]
    columns, figures = gpu_metrics.timeline_columns(result, cluster, times)
    curve = gpu_metrics.fill_curve(result, cluster) if fill else None
    return GpuReport(columns, figures, curve, len(cluster.typical))


ENGINE_HYBRID = "compiled cycles, DefaultPreemption in plain Python (some pod may preempt)"
ENGINE_PYTHON = "plain Python (some pod may preempt)"


def _engine(result: ReplayResult) -> str:
    """summary.json's ``engine``: which replay ran (preempting.py, hybrid_cycles.py)."""
    if not result.python:
        return "compiled"
    return ENGINE_HYBRID if result.hybrid else ENGINE_PYTHON


def summary(result: ReplayResult, *, mode: str, seed: int, trace: str, config: str | None,
            extra: dict | None = None, gpu_figures: GpuReport | None = None) -> dict:
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
    if gpu_figures is not None:
        gpu = {**gpu_figures.figures, "typicalPods": gpu_figures.typical_pods,
               "typicalPodsThreshold": gpu_metrics.DEFAULT_POPULARITY}
        if gpu_figures.curve is not None:
            gpu["allocationAtArrivedDemand"] = gpu_metrics.at_arrived_demand(gpu_figures.curve, "gpu_allocation")
            gpu["fragmentationAtArrivedDemand"] = gpu_metrics.at_arrived_demand(gpu_figures.curve, "fragmentation")
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
            "preempted": int((R.status == queue.PREEMPTED).sum()),
            "preemptedRunningAtStart": len(result.preempted_at_start),
            "recreated": result.recreated,
        },
        "pendingSeconds": pending,
        "engine": _engine(result),
        # pods bound before the replay that preemption deleted (they have no row in placements)
        "preemptedRunningAtStart": list(result.preempted_at_start),
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
    if pods.get("preempted") or pods.get("preemptedRunningAtStart"):
        lines.append(f"  preempted       {pods['preempted']:>12,}"
                     + (f"  (and {pods['preemptedRunningAtStart']:,} running at the start)"
                        if pods["preemptedRunningAtStart"] else "")
                     + (f"; {pods['recreated']:,} recreated by their owners" if pods["recreated"] else ""))
    if data.get("engine", "compiled") != "compiled":
        lines.append("  some pods may preempt: " + (
            "compiled cycles, plain Python where a pod holds a nominated node or a failure may preempt"
            if data["engine"] == ENGINE_HYBRID else "replayed as plain Python with DefaultPreemption (slow on big clusters)"))
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
            f = gpu.get(key)
            if f and f.get("gpus"):
                ratio = f["fragmentationOfUnallocated"]
                lines.append(f"  {label}    allocated {f['allocatedGpus']:,.1f}/{f['gpus']:,} ({f['allocation']:.1%}), "
                             f"unallocated {f['unallocatedGpus']:,.1f} ({f['unallocatedShare']:.1%}), fragmented "
                             f"{f['fragmentedGpus']:,.1f}" + ("" if ratio is None else f" ({ratio:.1%} of unallocated)"))
        at = gpu.get("allocationAtArrivedDemand")
        if at:
            cells = "  ".join(f"{k}%: {'-' if v is None else f'{v:.2f}'}" for k, v in at.items())
            lines.append(f"  GPU allocation % at arrived demand   {cells}")
    dps = perf["decisionsPerSecond"]
    lines.append(f"  wall {perf['wallSeconds']:.2f} s (compiling or loading the compiled loop "
                 f"{perf['compileSeconds']:.2f} s), "
                 f"{perf['decisions']:,} decisions" + ("" if dps is None else f", {dps:,.0f} decisions/s"))
    if perf.get("decisionsInGroups"):
        lines.append(f"  {perf['decisionsInGroups']:,} decisions were failing retries made in groups; "
                     f"{perf['cyclesRun']:,} scheduling cycles run")
    return "\n".join(lines) + "\n"
