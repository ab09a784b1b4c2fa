"""Synthetic traces in schedkit's own trace schema (``traces/README.md``), shaped like Alibaba openb.

``generate_like_openb`` draws a cluster and a pod stream from distributions fitted to the openb GPU
cluster trace (Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with
Fragmentation Gradient Descent", USENIX ATC '23; files ``openb_node_list_all_node.csv`` and
``openb_pod_list_default.csv`` of github.com/hkust-adsl/kubernetes-scheduler-simulator, Apache-2.0).
Only fitted numbers live here, never rows of the trace:

* node types (GPU model, GPUs, CPU, memory) with their counts in the real node list;
* pod request shapes (cpu_milli, memory_mib, num_gpu, gpu_milli) that occur at least 3 times, with
  their counts, plus a parametric tail (log-normal CPU and memory per core, fitted to the pods of
  rarer shapes) discretised onto a fixed set of ``TAIL_SHAPES`` shapes, so a trace of any length
  has at most ``len(COMMON_SHAPES) + TAIL_SHAPES`` distinct request shapes;
* lifetime quantiles (``deletion_time - creation_time``), sampled by log-linear interpolation.

Arrivals are a Poisson process whose rate scales with the number of nodes so that, in steady state,
live pods request ``load`` of the cluster's ``nvidia.com/gpu`` (see ``arrival_rate``). With
``warm_start`` the trace opens in that steady state: the pods already running at time 0 (a Poisson
number with mean rate x mean lifetime, as in an M/G/infinity queue) arrive at 0 with residual
lifetimes drawn from the equilibrium distribution.

Everything is vectorised: strings are built once per distinct value and expanded as categoricals.
"""

from __future__ import annotations

import json
import math
import os
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..errors import InputError
from ..replay.fill import MAX_FILL_PODS
from .openb import GPU_MILLI_ANNOTATION, GPU_MODEL_LABEL, GPU_RESOURCE, GPU_SPEC_ANNOTATION, POD_LIMIT

HOSTNAME_LABEL = "kubernetes.io/hostname"

# (GPU model or "" for CPU-only, GPUs per node, cpu_milli, memory_mib, nodes in the real node list)
NODE_TYPES: tuple[tuple[str, int, int, int, int], ...] = (
    ("G2", 8, 96000, 393216, 549),
    ("T4", 2, 104000, 524288, 387),
    ("", 0, 32000, 262144, 129),
    ("P100", 2, 16000, 122880, 107),
    ("", 0, 96000, 524288, 59),
    ("G3", 8, 128000, 786432, 39),
    ("", 0, 96000, 393216, 30),
    ("V100M16", 4, 32000, 131072, 28),
    ("", 0, 32000, 131072, 23),
    ("", 0, 64000, 524288, 22),
    ("P100", 2, 64000, 262144, 22),
    ("V100M32", 8, 96000, 786432, 21),
    ("", 0, 104000, 524288, 20),
    ("V100M16", 1, 8000, 32768, 19),
    ("T4", 4, 96000, 393216, 17),
    ("", 0, 32000, 65536, 10),
    ("V100M32", 4, 48000, 376832, 9),
    ("", 0, 64000, 262144, 8),
    ("V100M16", 8, 64000, 262144, 7),
    ("", 0, 64000, 131072, 4),
    ("", 0, 104000, 786432, 3),
    ("P100", 1, 8000, 61440, 3),
    ("A10", 1, 128000, 1048576, 2),
    ("P100", 2, 8000, 61440, 2),
    ("", 0, 96000, 786432, 1),
    ("", 0, 104000, 196608, 1),
    ("V100M16", 8, 82000, 344064, 1),
)

OPENB_PODS = 8152  # rows of openb_pod_list_default.csv

# (cpu_milli, memory_mib, num_gpu, gpu_milli, pods): every shape with at least 3 pods in the real list.
# gpu_milli is thousandths of one GPU (< 1000 only for GPU-sharing pods, which have num_gpu == 1).
COMMON_SHAPES: tuple[tuple[int, int, int, int, int], ...] = (
    (3152, 5600, 1, 810, 1047), (11300, 49152, 1, 1000, 857), (11400, 48128, 1, 1000, 534),
    (3152, 5600, 1, 1000, 470), (11908, 47104, 1, 470, 388), (12500, 57344, 0, 0, 364),
    (8000, 30517, 1, 470, 360), (32000, 49152, 0, 0, 284), (18708, 64512, 1, 1000, 255),
    (11908, 47104, 1, 650, 237), (9810, 41560, 1, 1000, 195), (8000, 30517, 0, 0, 163),
    (12000, 24576, 1, 1000, 158), (15700, 58368, 1, 1000, 158), (11908, 47104, 1, 1000, 153),
    (15400, 51200, 0, 0, 120), (4000, 22888, 1, 320, 111), (16000, 32768, 1, 1000, 108),
    (4000, 24576, 1, 1000, 104), (8000, 16384, 1, 1000, 104), (12000, 16384, 1, 1000, 99),
    (16500, 51200, 0, 0, 95), (14200, 58368, 1, 1000, 93), (4000, 30517, 1, 230, 84),
    (24200, 93184, 1, 1000, 84), (4000, 15258, 1, 320, 78), (3152, 5600, 1, 590, 75),
    (4152, 10600, 1, 550, 72), (8000, 30517, 1, 320, 72), (11400, 77824, 1, 1000, 65),
    (8000, 32768, 1, 1000, 55), (4000, 15258, 1, 160, 53), (6000, 6144, 1, 460, 51),
    (11900, 77824, 1, 1000, 51), (4152, 10600, 1, 370, 45), (12000, 15360, 1, 1000, 44),
    (4000, 30517, 1, 320, 43), (8200, 33792, 1, 1000, 41), (4000, 31250, 1, 1000, 40),
    (15200, 80896, 1, 1000, 36), (16000, 65536, 1, 1000, 33), (4152, 10600, 1, 810, 31),
    (6000, 12288, 1, 460, 29), (16400, 125952, 1, 1000, 27), (4000, 22888, 1, 230, 26),
    (4000, 15258, 1, 220, 24), (1000, 2048, 1, 320, 22), (6000, 22888, 1, 160, 20),
    (8000, 30517, 1, 220, 19), (4000, 22888, 1, 480, 18), (6000, 18432, 1, 460, 18),
    (8000, 30517, 1, 230, 18), (64200, 263168, 8, 1000, 18), (88000, 327680, 8, 1000, 18),
    (11300, 37888, 1, 1000, 16), (1000, 6144, 1, 1000, 15), (4000, 15258, 1, 230, 12),
    (8000, 30517, 1, 650, 12), (4000, 22888, 1, 220, 11), (7000, 30000, 1, 1000, 11),
    (8000, 15625, 0, 0, 11), (11400, 57344, 0, 0, 11), (4000, 22888, 1, 110, 9),
    (6000, 8192, 1, 460, 9), (15400, 90112, 1, 1000, 9), (32200, 132096, 4, 1000, 9),
    (4000, 15258, 1, 110, 8), (4000, 16384, 1, 1000, 8), (4000, 30517, 1, 220, 8),
    (12000, 32768, 1, 1000, 8), (12000, 47104, 1, 1000, 8), (14900, 73728, 1, 1000, 8),
    (16000, 31250, 0, 0, 8), (4000, 22888, 1, 330, 7), (6000, 16384, 1, 460, 7),
    (16200, 66560, 2, 1000, 7), (4000, 22888, 1, 350, 6), (6000, 23552, 1, 460, 6),
    (6000, 32768, 1, 1000, 6), (9400, 52224, 1, 1000, 6), (12000, 18432, 1, 460, 6),
    (2000, 16384, 1, 1000, 5), (4000, 32768, 1, 1000, 5), (8000, 31250, 0, 0, 5),
    (4152, 10600, 1, 270, 4), (6000, 22888, 1, 50, 4), (6000, 22888, 1, 110, 4),
    (11900, 43008, 1, 1000, 4), (12000, 24576, 0, 0, 4), (12000, 49152, 1, 1000, 4),
    (2000, 8192, 1, 1000, 3), (4000, 15258, 1, 50, 3), (6000, 65536, 2, 1000, 3),
    (16000, 31250, 1, 1000, 3), (16000, 49152, 1, 1000, 3), (30200, 160768, 2, 1000, 3),
    (32000, 62500, 0, 0, 3), (32000, 131072, 4, 1000, 3), (60200, 320512, 4, 1000, 3),
    (64000, 262144, 8, 1000, 3), (120000, 737280, 8, 1000, 3),
)

# The tail: 71 pods (0.87%) in 50 shapes of 1 or 2 pods each, fitted parametrically.
TAIL_PODS = 71
TAIL_SHAPES = 64
TAIL_NUM_GPU = ((0, 20), (1, 46), (2, 3), (8, 2))  # num_gpu, pods
TAIL_LOG_CPU_MILLI = (9.102, 0.888)  # mean, std of ln(cpu_milli)
TAIL_LOG_MIB_PER_CORE = (7.922, 0.626)  # mean, std of ln(memory_mib / cores)
TAIL_SHARING = 21 / 46  # share of the tail's 1-GPU pods with gpu_milli < 1000
# gpu_milli of all 3,078 GPU-sharing pods: value, pods (the tail's sharing pods draw from it)
SHARING_GPU_MILLI = (
    (50, 7), (110, 24), (140, 1), (160, 74), (220, 62), (230, 140), (270, 4), (290, 1), (320, 328),
    (330, 7), (350, 6), (370, 47), (440, 2), (460, 128), (470, 750), (480, 19), (550, 72), (590, 75),
    (650, 253), (810, 1078),
)

# Lifetime (deletion_time - creation_time, seconds) quantiles at DURATION_PROBS.
DURATION_PROBS = tuple(i / 100 for i in range(100)) + (0.995, 0.999, 1.0)
DURATION_QUANTILES = (
    0, 12, 24, 33, 40, 48, 54, 60, 67, 74, 80, 86, 92, 99, 106, 112, 119, 125, 132, 141,
    146, 149, 151, 154, 159, 167, 177, 182, 189, 196, 202, 209, 216, 223, 234, 244, 254, 265, 276, 288,
    301, 319, 336, 356, 380, 406, 428, 458, 487, 515, 540, 561, 584, 611, 652, 691, 728, 774, 800, 840,
    883, 930, 951, 1001, 1060, 1122, 1171, 1218, 1281, 1347, 1421, 1502, 1594, 1721, 1857, 1972, 2080, 2182,
    2357, 2522, 2699, 2942, 3234, 3571, 3727, 4005, 4177, 4490, 4866, 5532, 6573, 7765, 9263, 11161, 13221,
    16399, 20218, 25495, 40751, 96510, 609976, 8645080, 12537496,
)

# gpu_spec of the GPU pods in openb_pod_list_gpuspec33.csv (the default list sets none), spec: pods.
GPU_SPECS = (
    ("T4", 1291), ("G2", 331), ("P100", 279), ("V100M16|V100M32", 141), ("P100|V100M16|V100M32", 103),
    ("G3", 86), ("G2|P100|T4|V100M16|V100M32", 39), ("P100|T4|V100M16|V100M32", 33),
    ("A10|G2|T4|V100M16|V100M32", 24), ("V100M16|V100M32|V100M32", 22), ("V100M32", 20), ("A10|T4", 6),
    ("P100|V100M16", 4), ("A10|G2|P100|T4|V100M16|V100M32|V100M32", 3), ("T4|V100M16|V100M32", 3),
    ("V100M16", 3),
)

# The largest trace generated here. Pods: as many as a fill replay takes (replay/fill.py MAX_FILL_PODS: a
# replay needs about 1.3 GB per million pods; generating one million took 0.4 GB and wrote an 87 MB pods.csv).
# Nodes: twenty times the largest cluster Kubernetes supports (5,000 nodes, its scalability thresholds).
MAX_PODS = MAX_FILL_PODS
MAX_NODES = 100_000

DEFAULT_LOAD = 0.65  # steady-state share of the cluster's nvidia.com/gpu requested by live pods
DEFAULT_MAX_DURATION = 86_400  # lifetimes are capped at one day; 1.05% of real pods live longer
_GRID = 1 << 16  # points of the fine quantile grid used for means and the equilibrium distribution


def _halton(index: int, base: int) -> float:
    result, fraction = 0.0, 1.0
    while index:
        fraction /= base
        index, digit = divmod(index, base)
        result += digit * fraction
    return result


def _pick(cumulative: list[float], values: list, u: float):
    for bound, value in zip(cumulative, values):
        if u < bound:
            return value
    return values[-1]


def _tail_shapes() -> list[tuple[int, int, int, int]]:
    """The parametric tail on a fixed Halton point set: the same shapes for every seed."""
    normal = NormalDist()
    gpu_values = [g for g, _ in TAIL_NUM_GPU]
    gpu_cdf = list(np.cumsum([n for _, n in TAIL_NUM_GPU]) / TAIL_PODS)
    milli_values = [m for m, _ in SHARING_GPU_MILLI]
    milli_cdf = list(np.cumsum([n for _, n in SHARING_GPU_MILLI]) / sum(n for _, n in SHARING_GPU_MILLI))
    shapes = []
    for k in range(1, TAIL_SHAPES + 1):
        num_gpu = _pick(gpu_cdf, gpu_values, _halton(k, 2))
        cpu = math.exp(TAIL_LOG_CPU_MILLI[0] + TAIL_LOG_CPU_MILLI[1] * normal.inv_cdf(_halton(k, 3)))
        cpu_milli = min(max(round(cpu / 100) * 100, 1000), 96000)
        per_core = math.exp(TAIL_LOG_MIB_PER_CORE[0] + TAIL_LOG_MIB_PER_CORE[1] * normal.inv_cdf(_halton(k, 5)))
        memory_mib = min(max(round(per_core * cpu_milli / 1000 / 256) * 256, 256), 393216)
        gpu_milli = 0 if num_gpu == 0 else 1000
        u = _halton(k, 7)
        if num_gpu == 1 and u < TAIL_SHARING:
            gpu_milli = _pick(milli_cdf, milli_values, u / TAIL_SHARING)
        shapes.append((cpu_milli, memory_mib, num_gpu, gpu_milli))
    return shapes


def _shape_table() -> tuple[np.ndarray, np.ndarray]:
    """(shapes int64 [S, 4] of cpu_milli, memory_mib, num_gpu, gpu_milli; probabilities [S])."""
    shapes = [s[:4] for s in COMMON_SHAPES] + _tail_shapes()
    weights = [s[4] for s in COMMON_SHAPES] + [TAIL_PODS / TAIL_SHAPES] * TAIL_SHAPES
    probs = np.asarray(weights, dtype=np.float64)
    return np.asarray(shapes, dtype=np.int64), probs / probs.sum()


SHAPES, SHAPE_PROBS = _shape_table()


def _gpu_demand_milli(shapes: np.ndarray) -> np.ndarray:
    """Thousandths of a GPU: gpu_milli for one GPU (shared or whole), 1000 x num_gpu otherwise."""
    return np.where(shapes[:, 2] == 1, shapes[:, 3], shapes[:, 2] * 1000)


def _node_type_probs() -> np.ndarray:
    counts = np.asarray([t[4] for t in NODE_TYPES], dtype=np.float64)
    return counts / counts.sum()


def gpus_per_node() -> float:
    """Mean GPUs per node of the real node list (6,212 GPUs / 1,523 nodes)."""
    return float(sum(t[1] * t[4] for t in NODE_TYPES) / sum(t[4] for t in NODE_TYPES))


def mean_gpu_request() -> float:
    """Mean ``nvidia.com/gpu`` request of a generated pod: whole devices, as the default scheduler
    allocates them (a GPU-sharing pod takes one)."""
    return float(SHAPE_PROBS @ SHAPES[:, 2])


def mean_gpu_demand() -> float:
    """Mean GPU demand of a generated pod in GPUs, sharing pods counting their fraction (gpu_milli)."""
    return float(SHAPE_PROBS @ _gpu_demand_milli(SHAPES)) / 1000


def _durations_at(u: np.ndarray, max_duration: float | None) -> np.ndarray:
    """Lifetimes (whole seconds, >= 1) at probabilities u: log-linear between fitted quantiles."""
    log_q = np.log(np.maximum(np.asarray(DURATION_QUANTILES, dtype=np.float64), 1.0))
    seconds = np.exp(np.interp(u, DURATION_PROBS, log_q))
    if max_duration is not None:
        seconds = np.minimum(seconds, max_duration)
    return np.maximum(np.rint(seconds), 1).astype(np.int64)


def _duration_grid(max_duration: float | None) -> np.ndarray:
    return _durations_at((np.arange(_GRID) + 0.5) / _GRID, max_duration)


def mean_duration(max_duration: float | None = DEFAULT_MAX_DURATION) -> float:
    """Mean generated lifetime in seconds (the fitted distribution, capped at max_duration)."""
    return float(_duration_grid(max_duration).mean())


def arrival_rate(nodes: int, load: float = DEFAULT_LOAD,
                 max_duration: float | None = DEFAULT_MAX_DURATION) -> float:
    """Pods per second: load x (nodes x gpus_per_node) / (mean_gpu_request x mean_duration).

    By Little's law the live pods then request ``load`` of the expected ``nvidia.com/gpu`` capacity
    (nodes x gpus_per_node) on average.
    """
    return load * nodes * gpus_per_node() / (mean_gpu_request() * mean_duration(max_duration))


def _categorical(per_value: list[str], codes: np.ndarray) -> pd.Categorical:
    """Expand one string per distinct key (codes index per_value) without a per-row Python loop."""
    categories, inverse = np.unique(np.asarray(per_value, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(inverse[codes], categories=pd.Index(categories, dtype=object))


def _counts(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Integers with 0 as a missing value, so the CSV cell is empty (not requested / not present)."""
    counts = pd.array(values, dtype="Int64")
    counts[values == 0] = pd.NA
    return counts


def _names(prefix: str, count: int, width: int) -> list[str]:
    width = max(width, len(str(max(count - 1, 0))))
    return [f"{prefix}-{i:0{width}d}" for i in range(count)]


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _node_table(rng: np.random.Generator, nodes: int) -> pd.DataFrame:
    types = rng.choice(len(NODE_TYPES), size=nodes, p=_node_type_probs())
    names = _names("node", nodes, 5)
    gpus = np.asarray([t[1] for t in NODE_TYPES], dtype=np.int64)[types]
    labels = []
    for name, kind in zip(names, types.tolist()):
        node_labels = {HOSTNAME_LABEL: name}
        if NODE_TYPES[kind][0]:
            node_labels[GPU_MODEL_LABEL] = NODE_TYPES[kind][0]
        labels.append(_json(node_labels))
    return pd.DataFrame({
        "name": names,
        "cpu": _categorical([f"{t[2]}m" for t in NODE_TYPES], types),
        "memory": _categorical([f"{t[3]}Mi" for t in NODE_TYPES], types),
        "pods": np.full(nodes, POD_LIMIT, dtype=np.int64),
        GPU_RESOURCE: _counts(gpus),
        "labels": labels,
    })


def _spec_cdf() -> np.ndarray:
    """[S, len(GPU_SPECS)] cumulative spec probabilities per shape, restricted to specs whose models
    have a node type the shape fits on (so a spec never makes a pod unschedulable on every node)."""
    weights = np.zeros((len(SHAPES), len(GPU_SPECS)))
    for j, (spec, pods) in enumerate(GPU_SPECS):
        models = set(spec.split("|"))
        for i, (cpu, memory, num_gpu, _) in enumerate(SHAPES.tolist()):
            if num_gpu and any(t[0] in models and t[1] >= num_gpu and t[2] >= cpu and t[3] >= memory
                               for t in NODE_TYPES):
                weights[i, j] = pods
    totals = weights.sum(axis=1, keepdims=True)
    return np.cumsum(weights / np.where(totals > 0, totals, 1), axis=1)


def _pod_specs(rng: np.random.Generator, shape_idx: np.ndarray, share: float) -> np.ndarray:
    """Index into GPU_SPECS per pod, -1 for none; only GPU pods get one, with probability share."""
    spec_idx = np.full(len(shape_idx), -1, dtype=np.int64)
    if share <= 0:
        return spec_idx
    cdf = _spec_cdf()
    has = (SHAPES[shape_idx, 2] > 0) & (rng.random(len(shape_idx)) < share) & (cdf[shape_idx, -1] > 0)
    rows = np.flatnonzero(has)
    u = rng.random(len(rows))
    spec_idx[rows] = np.minimum((cdf[shape_idx[rows]] <= u[:, None]).sum(axis=1), len(GPU_SPECS) - 1)
    return spec_idx


def _pod_columns(shape_idx: np.ndarray, spec_idx: np.ndarray) -> dict:
    """Request, annotation and affinity columns, each string built once per (shape, spec) pair."""
    keys, key_codes = np.unique(shape_idx * (len(GPU_SPECS) + 1) + (spec_idx + 1), return_inverse=True)
    pairs = [(int(k) // (len(GPU_SPECS) + 1), int(k) % (len(GPU_SPECS) + 1) - 1) for k in keys]
    cpu, memory, annotations, affinity = [], [], [], []
    for shape, spec in pairs:
        cpu_milli, memory_mib, _, gpu_milli = SHAPES[shape].tolist()
        cpu.append(f"{cpu_milli}m")
        memory.append(f"{memory_mib}Mi")
        pod_annotations = {GPU_MILLI_ANNOTATION: str(gpu_milli)}
        pod_affinity = ""
        if spec >= 0:
            spec_text = GPU_SPECS[spec][0]
            pod_annotations[GPU_SPEC_ANNOTATION] = spec_text
            models = list(dict.fromkeys(spec_text.split("|")))  # the trace repeats some models
            pod_affinity = _json({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": GPU_MODEL_LABEL, "operator": "In", "values": models}]}]}}})
        annotations.append(_json(pod_annotations))
        affinity.append(pod_affinity)
    gpus = SHAPES[shape_idx, 2]
    columns = {
        "cpu": _categorical(cpu, key_codes),
        "memory": _categorical(memory, key_codes),
        GPU_RESOURCE: _counts(gpus),
        "annotations": _categorical(annotations, key_codes),
    }
    if (spec_idx >= 0).any():
        columns["affinity"] = _categorical(affinity, key_codes)
    return columns


def generate_like_openb(nodes: int, pods: int, seed: int, *, load: float = DEFAULT_LOAD,
                        max_duration: float | None = DEFAULT_MAX_DURATION, warm_start: bool = True,
                        gpu_spec_share: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(node_table, pod_table) in schedkit's trace schema, drawn like the openb trace.

    ``load`` is the steady-state share of the expected ``nvidia.com/gpu`` capacity requested by live pods;
    ``max_duration`` caps lifetimes (None keeps the fitted tail up to 145 days); ``warm_start``
    opens the trace in steady state; ``gpu_spec_share`` gives that share of GPU pods a GPU-model
    constraint drawn like ``openb_pod_list_gpuspec33.csv`` (the default list has none).
    """
    if nodes < 1 or pods < 0:
        raise ValueError(f"need nodes >= 1 and pods >= 0, got nodes={nodes}, pods={pods}")
    if not load > 0:
        raise ValueError(f"load must be positive, got {load}")
    if not 0 <= gpu_spec_share <= 1:
        raise ValueError(f"gpu_spec_share must be within [0, 1], got {gpu_spec_share}")
    if max_duration is not None and max_duration < 1:
        raise ValueError(f"max_duration must be at least 1 second, got {max_duration}")
    node_rng, shape_rng, time_rng, spec_rng = np.random.default_rng(seed).spawn(4)
    node_table = _node_table(node_rng, nodes)

    shape_idx = shape_rng.choice(len(SHAPES), size=pods, p=SHAPE_PROBS)
    rate = arrival_rate(nodes, load, max_duration)
    grid = _duration_grid(max_duration)
    running = min(int(time_rng.poisson(rate * grid.mean())), pods) if warm_start else 0
    # Pods running at time 0: total lifetime size-biased (picked in proportion to its length),
    # then a uniform share of it still to go; that is the M/G/infinity equilibrium.
    biased = np.cumsum(grid, dtype=np.float64)
    picked = grid[np.minimum(np.searchsorted(biased, time_rng.random(running) * biased[-1]), _GRID - 1)]
    residual = np.maximum(np.ceil(time_rng.random(running) * picked), 1).astype(np.int64)
    fresh = _durations_at(time_rng.random(pods - running), max_duration)
    gaps_ms = time_rng.exponential(1000.0 / rate, size=pods - running)
    arrival_ms = np.concatenate([np.zeros(running, dtype=np.int64), np.rint(np.cumsum(gaps_ms)).astype(np.int64)])

    pod_table = pd.DataFrame({
        "name": _names("pod", pods, 7),
        "arrival": arrival_ms / 1000.0,
        "duration": np.concatenate([residual, fresh]),
        **_pod_columns(shape_idx, _pod_specs(spec_rng, shape_idx, gpu_spec_share)),
    })
    return node_table, pod_table


def check_size(nodes: int, pods: int) -> None:
    """``trace generate``'s --nodes and --pods within MAX_NODES and MAX_PODS, refused with the reason before
    any memory is taken (numpy would fail with a MemoryError deep inside)."""
    if nodes > MAX_NODES:
        raise InputError(f"at most {MAX_NODES:,} (twenty times the 5,000 nodes Kubernetes supports), "
                         f"got {nodes:,}", field="--nodes")
    if pods > MAX_PODS:
        raise InputError(f"at most {MAX_PODS:,} (the most a replay holds here, at about 1.3 GB per million "
                         f"pods), got {pods:,}", field="--pods")


def _write_csv(table: pd.DataFrame, path: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"  # renamed when complete, so readers never see half a file
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            table.to_csv(handle, index=False, lineterminator="\n", float_format="%.3f")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


TRACE_FILES = ("nodes.csv", "pods.csv")  # what write_trace writes (an earlier run's are replaced)


def write_trace(node_table: pd.DataFrame, pod_table: pd.DataFrame, out_dir: str) -> tuple[str, str]:
    """Write ``nodes.csv`` and ``pods.csv`` into out_dir (created if missing); each file is written to a
    temporary name and renamed when complete. Returns the two paths."""
    os.makedirs(out_dir, exist_ok=True)
    nodes_path, pods_path = os.path.join(out_dir, "nodes.csv"), os.path.join(out_dir, "pods.csv")
    _write_csv(node_table, nodes_path)
    _write_csv(pod_table, pods_path)
    return nodes_path, pods_path
