"""GPU figures of a replay on a GPU cluster, device by device: allocation in milli-GPU (a 0.5-GPU pod
counts 500, as the FGD paper counts it), unallocated GPU, and the paper's fragmentation (Weng et al.,
USENIX ATC '23: the expected milli-GPU the typical pods could not use, ``schedkit.gpu``).

The devices each pod held come from the replay itself: the ``gpu_index`` a GPU-sharing plugin reported
(``plugins/gpu_share.py``), or, without one, whole devices (a pod asking ``nvidia.com/gpu: 1`` holds a
device, whatever share it uses), the lowest-numbered free ones when it was bound. The cluster is then
replayed here event by event (binds, departures), each event recomputing its node's fragmentation.

Outputs: per timeline row (``timeline.parquet``), per submitted pod of a fill run (the study's curve:
``arrived_gpu_demand``, ``gpu_allocation``, ``fragmentation``, fractions of the cluster's GPU capacity),
and the summary's ``gpu`` block, with the allocation at arrived demand 50/80/90/100/130% bucketed as the
simulator's analysis scripts do (experiments/analysis/merge_alloc_discrete_0920.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..gpu import (DEFAULT_POPULARITY, GPU_MODEL_LABEL, MILLI_PER_GPU, TypicalPods, access_table,
                   node_gpu_count, nodes_fragmentation, pod_gpu_ask, typical_key, typical_pods)
from ..objects import CPU

ARRIVED_POINTS = (50, 80, 90, 100, 110, 120, 130)  # percent of GPU capacity: the study's table columns
FRAGMENT_ROWS = 20_000  # timeline rows whose fragmentation is computed (evenly spaced beyond)
CURVE_ROWS = 50_000  # fill-curve rows kept (every k-th pod beyond): many per 1% of demand


@dataclass
class GpuCluster:
    """The replay's nodes and pods as the GPU figures need them."""

    devices: np.ndarray  # int64 [nodes]
    cpu_allocatable: np.ndarray  # int64 [nodes]
    node_cpu_start: np.ndarray  # int64 [nodes]: cpu requested by pods bound before the replay
    access: np.ndarray  # bool [nodes, T]
    typical: TypicalPods
    milli: np.ndarray  # int64 [pods]: milli-GPU per device asked
    count: np.ndarray  # int64 [pods]: devices asked
    cpu: np.ndarray  # int64 [pods]: cpu requested (what the node's cpu left counts)
    masks: np.ndarray  # int64 [pods]: devices the plugin reported, -1 unknown (whole devices taken at bind)

    @property
    def capacity(self) -> int:
        return int(self.devices.sum()) * MILLI_PER_GPU


def gpu_cluster(result) -> GpuCluster | None:
    """None when no node has GPUs."""
    state, workload = result.state, result.workload
    devices = np.array([node_gpu_count(node) for node in state.node_objects], dtype=np.int64)
    if not devices.sum():
        return None
    asks = [pod_gpu_ask(pod) for pod in workload.shapes]
    counts = workload.recorded_counts()
    typical = typical_pods(((typical_key(pod), int(c)) for pod, c in zip(workload.shapes, counts.tolist())),
                           DEFAULT_POPULARITY)
    models = [node.labels.get(GPU_MODEL_LABEL, "") for node in state.node_objects]
    shape = result.arrays.spec
    milli = np.array([a[0] for a in asks], dtype=np.int64)[shape]
    count = np.array([a[1] for a in asks], dtype=np.int64)[shape]
    masks = np.full(len(shape), -1, dtype=np.int64)
    index = result.plugin_columns.get("gpu_index")
    if index is not None:
        for row, text in enumerate(index):
            if text:
                masks[row] = sum(1 << int(d) for d in str(text).split("-"))
    c = state.resources.index(CPU)
    start = np.zeros(len(devices), dtype=np.int64)
    for pod in workload.running:
        if pod.node_name in state.node_index:
            start[state.node_index[pod.node_name]] += pod.requests.get(CPU, 0)
    return GpuCluster(devices, state.nodes.allocatable[:, c].copy(), start, access_table(models, typical), typical,
                      milli, count, result.requests[shape, c], masks)


class DeviceLedger:
    """Every node's devices and cpu as pods bind and leave; ``settle()`` brings the fragmentation of the
    nodes changed since the last call up to date (one vectorized computation for all of them)."""

    def __init__(self, cluster: GpuCluster):
        self.c = cluster
        width = max(int(cluster.devices.max()), 1)
        self.free = np.where(np.arange(width)[None, :] < cluster.devices[:, None], MILLI_PER_GPU, 0).astype(np.int64)
        self.cpu_left = cluster.cpu_allocatable - cluster.node_cpu_start
        self.held = np.zeros(len(cluster.milli), dtype=np.int64)  # devices each pod holds while bound
        self.allocated = 0  # milli-GPU requested by the pods bound now
        self.unallocated = int(self.free.sum())
        self.frag = nodes_fragmentation(self.cpu_left, self.free, cluster.devices, cluster.access, cluster.typical)
        self.fragmented = float(self.frag.sum())
        self.dirty: set[int] = set()

    def settle(self) -> None:
        if not self.dirty:
            return
        c = self.c
        rows = np.fromiter(self.dirty, dtype=np.int64)
        values = nodes_fragmentation(self.cpu_left[rows], self.free[rows], c.devices[rows], c.access[rows], c.typical)
        self.fragmented += float(values.sum() - self.frag[rows].sum())
        self.frag[rows] = values
        self.dirty.clear()

    def bind(self, pod: int, n: int) -> None:
        c = self.c
        self.cpu_left[n] -= c.cpu[pod]
        self.dirty.add(n)
        milli = int(c.milli[pod])
        if not milli:
            return
        count, mask = int(c.count[pod]), int(c.masks[pod])
        row = self.free[n]
        if mask < 0:  # whole devices: the lowest-numbered free ones, each taken entirely
            mask, taken = 0, 0
            for d in range(int(c.devices[n])):
                if taken < count and row[d] == MILLI_PER_GPU:
                    mask |= 1 << d
                    taken += 1
                    row[d] = 0
            self.unallocated -= MILLI_PER_GPU * taken
        else:
            for d in range(int(c.devices[n])):
                if (mask >> d) & 1:
                    row[d] -= milli
            self.unallocated -= milli * count
        self.held[pod] = mask
        self.allocated += milli * count

    def release(self, pod: int, n: int) -> None:
        c = self.c
        self.cpu_left[n] += c.cpu[pod]
        self.dirty.add(n)
        milli = int(c.milli[pod])
        if not milli:
            return
        back = MILLI_PER_GPU if c.masks[pod] < 0 else milli
        mask, row = int(self.held[pod]), self.free[n]
        for d in range(int(c.devices[n])):
            if (mask >> d) & 1:
                row[d] += back
                self.unallocated += back
        self.held[pod] = 0
        self.allocated -= milli * int(c.count[pod])

    def figures(self) -> dict:
        self.settle()
        capacity = self.c.capacity
        return {
            "gpus": int(self.c.devices.sum()),
            "allocatedGpus": self.allocated / MILLI_PER_GPU,
            "allocation": self.allocated / capacity,
            "unallocatedGpus": self.unallocated / MILLI_PER_GPU,
            "unallocatedShare": self.unallocated / capacity,
            "fragmentedGpus": round(self.fragmented / MILLI_PER_GPU, 3),
            "fragmentation": self.fragmented / capacity,
            "fragmentationOfUnallocated": self.fragmented / self.unallocated if self.unallocated else None,
        }


def _events(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, kind, pod) of every bind (kind 1) and departure (kind 0), in time order, departures first
    at equal times, then by pod row."""
    R = result.arrays
    ran = np.flatnonzero(~np.isnan(R.scheduled) & (R.node >= 0))
    left = ran[~np.isnan(R.left[ran])]
    times = np.concatenate([R.scheduled[ran], R.left[left]])
    kinds = np.concatenate([np.ones(len(ran), np.int64), np.zeros(len(left), np.int64)])
    pods = np.concatenate([ran, left])
    order = np.lexsort((pods, kinds, times))
    return times[order], kinds[order], pods[order]


def _sampled(rows: int, budget: int) -> np.ndarray:
    """bool [rows]: the rows whose fragmentation is computed: all of them up to ``budget``, else about
    ``budget`` evenly spaced ones, the last included."""
    keep = np.zeros(rows, dtype=bool)
    keep[np.unique(np.linspace(0, rows - 1, min(rows, budget)).astype(np.int64))] = True
    return keep


def timeline_columns(result, cluster: GpuCluster, times: np.ndarray) -> tuple[dict, dict]:
    """The GPU columns for timeline rows at ``times`` (the state after every event at or before each)
    and the figures at the end and at the allocation's peak. ``fragmented_gpu_milli`` is computed for
    up to FRAGMENT_ROWS rows, evenly spaced (NaN between them on longer timelines)."""
    ledger = DeviceLedger(cluster)
    node = result.arrays.node
    ev_time, ev_kind, ev_pod = _events(result)
    rows = len(times)
    allocated = np.zeros(rows, dtype=np.int64)
    unallocated = np.zeros(rows, dtype=np.int64)
    fragmented = np.full(rows, np.nan)
    sampled = _sampled(rows, FRAGMENT_ROWS)
    e, peak, peak_time, peak_value = 0, None, 0.0, -1
    for k in range(rows):
        while e < len(ev_time) and ev_time[e] <= times[k]:
            (ledger.bind if ev_kind[e] else ledger.release)(int(ev_pod[e]), int(node[ev_pod[e]]))
            e += 1
        allocated[k], unallocated[k] = ledger.allocated, ledger.unallocated
        if sampled[k]:
            ledger.settle()
            fragmented[k] = round(ledger.fragmented, 3)
        if ledger.allocated > peak_value:
            peak_value, peak_time, peak = ledger.allocated, float(times[k]), ledger.figures()
    while e < len(ev_time):
        (ledger.bind if ev_kind[e] else ledger.release)(int(ev_pod[e]), int(node[ev_pod[e]]))
        e += 1
    columns = {"allocated_gpu_milli": allocated, "unallocated_gpu_milli": unallocated,
               "fragmented_gpu_milli": fragmented}
    figures = {"end": ledger.figures()}
    if peak is not None:
        figures["atPeak"] = {"time": peak_time, **peak}
    return columns, figures


def fill_curve(result, cluster: GpuCluster) -> pd.DataFrame:
    """One row per submitted pod of a fill run (every k-th pod past CURVE_ROWS pods, the last included),
    in submission order, the values right after its turn: ``arrived_gpu_demand`` (milli-GPU submitted
    so far, failed pods included), ``gpu_allocation`` and ``fragmentation``, each a fraction of the
    cluster's GPU capacity. A fill decides each pod at its turn: nothing leaves to let it in later."""
    ledger = DeviceLedger(cluster)
    R = result.arrays
    capacity = cluster.capacity
    pods = len(R.node)
    demand = (cluster.milli * cluster.count).astype(np.float64)
    arrived = np.cumsum(demand) / capacity
    keep = _sampled(pods, CURVE_ROWS)
    allocation = np.zeros(pods, dtype=np.float64)
    fragmentation = np.full(pods, np.nan)
    ran = ~np.isnan(R.scheduled) & (R.node >= 0)
    for pod in range(pods):
        if ran[pod]:
            ledger.bind(pod, int(R.node[pod]))
        allocation[pod] = ledger.allocated / capacity
        if keep[pod]:
            ledger.settle()
            fragmentation[pod] = ledger.fragmented / capacity
    return pd.DataFrame({"pod": np.arange(pods)[keep], "arrived_gpu_demand": arrived[keep],
                         "gpu_allocation": allocation[keep], "fragmentation": fragmentation[keep]})


def at_arrived_demand(curve: pd.DataFrame, column: str = "gpu_allocation",
                      points: tuple[int, ...] = ARRIVED_POINTS) -> dict[str, float | None]:
    """The curve's mean ``column`` (in percent) per arrived-demand percentage, bucketed as the simulator's
    analysis: each row's arrived percentage rounded half to even; a point with no row takes the rows
    within one percent of it; none at all gives None."""
    arrived = np.round(curve["arrived_gpu_demand"].to_numpy() * 100)  # numpy rounds half to even, as Python
    values = curve[column].to_numpy() * 100
    out: dict[str, float | None] = {}
    for x in points:
        rows = arrived == x
        if not rows.any():
            rows = (arrived >= x - 1) & (arrived <= x + 1)
        out[str(x)] = round(float(values[rows].mean()), 2) if rows.any() else None
    return out
