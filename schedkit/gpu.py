"""The GPU contract shared by the GPU-sharing plugins and the replay's GPU figures: how a pod asks for
GPUs and how a node offers them (open-gpu-share's annotations, as the FGD paper's simulator uses them),
and the device sets written as ``alibabacloud.com/gpu-index`` (``0-1``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GPU_MILLI_ANNOTATION = "alibabacloud.com/gpu-milli"
GPU_COUNT_ANNOTATION = "alibabacloud.com/gpu-count"
GPU_MODEL_ANNOTATION = "alibabacloud.com/gpu-card-model"
GPU_INDEX_ANNOTATION = "alibabacloud.com/gpu-index"
GPU_MODEL_LABEL = "alibabacloud.com/gpu-card-model"
GPU_COUNT_RESOURCE = "alibabacloud.com/gpu-count"
NVIDIA_GPU = "nvidia.com/gpu"
MILLI_PER_GPU = 1000
MAX_DEVICES = 63  # device sets are int64 bit masks


def pod_gpu_ask(pod, source: str = "") -> tuple[int, int, tuple[str, ...]]:
    """(milli per device, devices, accepted models) from a pod's annotations, else its nvidia.com/gpu."""
    annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
    where = f"pod {pod.namespace}/{pod.name}"
    whole = int(pod.requests.get(NVIDIA_GPU, 0))
    count = _annotation_int(annotations, GPU_COUNT_ANNOTATION, where, default=None)
    milli = _annotation_int(annotations, GPU_MILLI_ANNOTATION, where, default=None)
    if count is None:
        count = whole if whole else (1 if milli else 0)
    if count == 0:
        return 0, 0, ()
    if milli is None:
        milli = MILLI_PER_GPU
    if not 0 < milli <= MILLI_PER_GPU:
        raise ValueError(f"{where}: annotation {GPU_MILLI_ANNOTATION}: must be 1..{MILLI_PER_GPU}, got {milli}")
    if count > 1 and milli != MILLI_PER_GPU:
        raise ValueError(f"{where}: annotation {GPU_MILLI_ANNOTATION}: a pod asking for {count} GPUs takes whole "
                         f"GPUs ({MILLI_PER_GPU}), got {milli}")
    models = tuple(m for m in dict.fromkeys(
        (annotations.get(GPU_MODEL_ANNOTATION) or "").split("|")) if m)
    return milli, count, models


def _annotation_int(annotations: dict, key: str, where: str, default):
    text = annotations.get(key)
    if text is None or str(text).strip() == "":
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{where}: annotation {key}: not an integer: {text!r}") from None
    if value < 0:
        raise ValueError(f"{where}: annotation {key}: must not be negative, got {value}")
    return value


def node_gpu_count(node) -> int:
    if GPU_COUNT_RESOURCE in node.allocatable:
        return int(node.allocatable[GPU_COUNT_RESOURCE])
    return int(node.allocatable.get(NVIDIA_GPU, 0))


def parse_index(text: str, where: str, count: int) -> int:
    """A ``gpu-index`` annotation (``0-1``) as a device mask, checked against the node's devices."""
    mask = 0
    for part in str(text).split("-"):
        try:
            d = int(part)
        except ValueError:
            raise ValueError(f"{where}: annotation {GPU_INDEX_ANNOTATION}: not a list of device numbers: {text!r}") \
                from None
        if not 0 <= d < count:
            raise ValueError(f"{where}: annotation {GPU_INDEX_ANNOTATION}: device {d} is not on the node "
                             f"({count} GPUs)")
        mask |= 1 << d
    return mask


def format_index(mask: int) -> str | None:
    if mask < 0:
        return None
    return "-".join(str(d) for d in range(MAX_DEVICES) if (mask >> d) & 1) or None




# -- the FGD paper's fragmentation measure ------------------------------------------------------------
# Weng et al., "Beware of Fragmentation", USENIX ATC '23, as its simulator computes it
# (hkust-adsl/kubernetes-scheduler-simulator, pkg/utils/frag.go: GetTypicalPods, GetNodePodFrag,
# NodeGpuShareFragAmount, FragAmountSumExceptQ3).

DEFAULT_POPULARITY = 95  # percent: the experiments' --pod-popularity-threshold (Go's own default is 60)


@dataclass(frozen=True)
class TypicalPods:
    """The target workload: the most frequent pod shapes until ``threshold``% of the pods are covered."""

    cpu: np.ndarray  # int64 [T]: milli-CPU (non-zero requests, as the scheduler scores them)
    milli: np.ndarray  # int64 [T]: milli-GPU per device, 0 for a CPU-only shape
    count: np.ndarray  # int64 [T]: devices
    models: tuple[tuple[str, ...], ...]  # per shape, the GPU models it accepts (empty: any)
    freq: np.ndarray  # float64 [T]: share of the shape among the typical ones (sums to 1)

    def __len__(self) -> int:
        return len(self.freq)


def typical_pods(pods, threshold: int = DEFAULT_POPULARITY) -> TypicalPods:
    """``pods``: (key, pods with it) pairs, a key being (milli-CPU, milli-GPU, devices, card-model text)
    (``typical_key``), CPU-only pods included (the experiments' isInvolvedCpuPods). Shapes sorted by count, most first, ties by cpu, milli, devices and
    model text, each descending; taken one by one until their count reaches ``threshold``% of all pods
    (the one crossing it included); frequencies are count / (count of the shapes taken)."""
    counts: dict[tuple, int] = {}
    for key, count in pods:
        if count > 0:
            counts[key] = counts.get(key, 0) + int(count)
    total = sum(counts.values())
    order = sorted(counts, key=lambda k: (counts[k], k[0], k[1], k[2], k[3]), reverse=True)
    expected = float(threshold) * total / 100
    taken, cumulative = [], 0
    for key in order:
        if cumulative >= expected:
            break
        taken.append(key)
        cumulative += counts[key]
    return TypicalPods(
        cpu=np.array([k[0] for k in taken], dtype=np.int64),
        milli=np.array([k[1] for k in taken], dtype=np.int64),
        count=np.array([k[2] for k in taken], dtype=np.int64),
        models=tuple(tuple(m for m in k[3].split("|") if m) for k in taken),
        freq=np.array([counts[k] / cumulative for k in taken], dtype=np.float64),
    )


def typical_key(pod) -> tuple[int, int, int, str]:
    """A pod's typical-pods key: (non-zero milli-CPU, milli-GPU, devices, card-model annotation text)."""
    milli, count, _ = pod_gpu_ask(pod)
    annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
    return (int(pod.nonzero_cpu), milli, count, str(annotations.get(GPU_MODEL_ANNOTATION) or "") if milli else "")


def access_table(node_models: list[str], typical: TypicalPods) -> np.ndarray:
    """bool [nodes, T]: the shape may use the node's GPUs (utils.IsNodeAccessibleToPodByType)."""
    out = np.ones((len(node_models), len(typical)), dtype=np.bool_)
    for t, models in enumerate(typical.models):
        if models:
            out[:, t] = [model in models for model in node_models]
    return out


def nodes_fragmentation(cpu_left: np.ndarray, free: np.ndarray, devices: np.ndarray, access: np.ndarray,
                        typical: TypicalPods) -> np.ndarray:
    """float64 [nodes]: each node's fragmented milli-GPU, the expectation over the typical pods.

    For a shape the node can serve (model allowed, ``count`` devices with ``milli`` free, cpu left), the
    fragment is the free milli of the devices below ``milli``; otherwise (and for CPU-only shapes, which
    leave every GPU idle) it is all the node's free milli. ``free`` int64 [nodes, max devices] (0 past
    ``devices``), ``cpu_left`` int64 [nodes], ``access`` from access_table."""
    free = np.where(np.arange(free.shape[1])[None, :] < devices[:, None], free, 0)
    idle = free.sum(axis=1)  # G
    fits = free[:, None, :] >= typical.milli[None, :, None]  # [N, T, D]
    below = (free[:, None, :] * ~fits).sum(axis=2)  # F: free milli on devices that cannot hold the shape
    real = np.arange(free.shape[1])[None, None, :] < devices[:, None, None]
    served = ((fits & real).sum(axis=2) >= typical.count[None, :]) & (cpu_left[:, None] >= typical.cpu[None, :]) \
        & access & (typical.milli[None, :] > 0)
    amount = np.where(served, below, idle[:, None]).astype(np.float64)
    return (amount * typical.freq[None, :]).sum(axis=1)
