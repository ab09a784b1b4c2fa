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
EVENT_CHUNK = 65_536  # node states whose fragmentation is computed in one vectorized call
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
    """Every node's devices and cpu as pods bind and leave. Each event records its node's state after it;
    ``fragmentation()`` then computes those states' fragmentation in one vectorized pass and returns the
    cluster's fragmentation after every event (events only change their own node's)."""

    def __init__(self, cluster: GpuCluster):
        self.c = cluster
        width = max(int(cluster.devices.max()), 1)
        self.free = np.where(np.arange(width)[None, :] < cluster.devices[:, None], MILLI_PER_GPU, 0).astype(np.int64)
        self.cpu_left = cluster.cpu_allocatable - cluster.node_cpu_start
        self.held = np.zeros(len(cluster.milli), dtype=np.int64)  # devices each pod holds while bound
        self.allocated = 0  # milli-GPU requested by the pods bound now
        self.unallocated = int(self.free.sum())
        self.node_frag = nodes_fragmentation(self.cpu_left, self.free, cluster.devices, cluster.access,
                                             cluster.typical)
        self.total = float(self.node_frag.sum())  # as of the last fragmentation() call
        self._nodes: list[int] = []
        self._cpu: list[int] = []
        self._free: list[np.ndarray] = []

    def _record(self, n: int) -> None:
        self._nodes.append(n)
        self._cpu.append(int(self.cpu_left[n]))
        self._free.append(self.free[n].copy())

    def bind(self, pod: int, n: int) -> None:
        c = self.c
        self.cpu_left[n] -= c.cpu[pod]
        milli = int(c.milli[pod])
        if milli:
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
        self._record(n)

    def release(self, pod: int, n: int) -> None:
        c = self.c
        self.cpu_left[n] += c.cpu[pod]
        milli = int(c.milli[pod])
        if milli:
            back = MILLI_PER_GPU if c.masks[pod] < 0 else milli
            mask, row = int(self.held[pod]), self.free[n]
            for d in range(int(c.devices[n])):
                if (mask >> d) & 1:
                    row[d] += back
                    self.unallocated += back
            self.held[pod] = 0
            self.allocated -= milli * int(c.count[pod])
        self._record(n)

    def fragmentation(self) -> np.ndarray:
        """float64 [events since the last call]: the cluster's fragmented milli-GPU after each."""
        c = self.c
        nodes = np.asarray(self._nodes, dtype=np.int64)
        out = np.zeros(len(nodes), dtype=np.float64)
        for start in range(0, len(nodes), EVENT_CHUNK):
            part = nodes[start:start + EVENT_CHUNK]
            values = nodes_fragmentation(np.asarray(self._cpu[start:start + EVENT_CHUNK], dtype=np.int64),
                                         np.stack(self._free[start:start + EVENT_CHUNK]), c.devices[part],
                                         c.access[part], c.typical)
            total, node_frag = self.total, self.node_frag
            for k, n in enumerate(part.tolist()):
                total += values[k] - node_frag[n]
                node_frag[n] = values[k]
                out[start + k] = total
            self.total = total
        self._nodes, self._cpu, self._free = [], [], []
        return out

    def figures(self, fragmented: float) -> dict:
        capacity = self.c.capacity
        return {
            "gpus": int(self.c.devices.sum()),
            "allocatedGpus": self.allocated / MILLI_PER_GPU,
            "allocation": self.allocated / capacity,
            "unallocatedGpus": self.unallocated / MILLI_PER_GPU,
            "unallocatedShare": self.unallocated / capacity,
            "fragmentedGpus": round(fragmented / MILLI_PER_GPU, 3),
            "fragmentation": fragmented / capacity,
            "fragmentationOfUnallocated": fragmented / self.unallocated if self.unallocated else None,
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


def timeline_columns(result, cluster: GpuCluster, times: np.ndarray) -> tuple[dict, dict]:
    """The GPU columns for timeline rows at ``times`` (the state after every event at or before each)
    and the figures at the end and at the allocation's peak."""
    ledger = DeviceLedger(cluster)
    node = result.arrays.node
    ev_time, ev_kind, ev_pod = _events(result)
    rows = len(times)
    allocated = np.zeros(rows, dtype=np.int64)
    unallocated = np.zeros(rows, dtype=np.int64)
    seen = np.zeros(rows, dtype=np.int64)  # events applied by each row
    e, peak_row, peak_value, peak_state = 0, -1, -1, None
    for k in range(rows):
        while e < len(ev_time) and ev_time[e] <= times[k]:
            (ledger.bind if ev_kind[e] else ledger.release)(int(ev_pod[e]), int(node[ev_pod[e]]))
            e += 1
        allocated[k], unallocated[k], seen[k] = ledger.allocated, ledger.unallocated, e
        if ledger.allocated > peak_value:
            peak_value, peak_row, peak_state = ledger.allocated, k, (ledger.allocated, ledger.unallocated)
    while e < len(ev_time):
        (ledger.bind if ev_kind[e] else ledger.release)(int(ev_pod[e]), int(node[ev_pod[e]]))
        e += 1
    start = ledger.total
    after = np.concatenate([[start], ledger.fragmentation()])  # after[i]: once i events are applied
    fragmented = np.round(after[seen], 3)
    columns = {"allocated_gpu_milli": allocated, "unallocated_gpu_milli": unallocated,
               "fragmented_gpu_milli": fragmented}
    figures = {"end": ledger.figures(float(after[-1]))}
    if peak_state is not None:
        ledger.allocated, ledger.unallocated = peak_state
        figures["atPeak"] = {"time": float(times[peak_row]), **ledger.figures(float(fragmented[peak_row]))}
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
    ran = ~np.isnan(R.scheduled) & (R.node >= 0)
    for pod in np.flatnonzero(ran).tolist():
        ledger.bind(pod, int(R.node[pod]))
    start = ledger.total
    after = np.concatenate([[start], ledger.fragmentation()])
    events_by = np.cumsum(ran)  # binds applied once each pod has had its turn
    keep = np.zeros(pods, dtype=bool)
    keep[np.unique(np.linspace(0, pods - 1, min(pods, CURVE_ROWS)).astype(np.int64))] = True
    return pd.DataFrame({
        "pod": np.arange(pods)[keep],
        "arrived_gpu_demand": (np.cumsum(demand) / capacity)[keep],
        "gpu_allocation": (np.cumsum(demand * ran) / capacity)[keep],
        "fragmentation": (after[events_by] / capacity)[keep],
    })


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
