"""The GPU contract shared by the GPU-sharing plugins and the replay's GPU figures: how a pod asks for
GPUs and how a node offers them (open-gpu-share's annotations, as the FGD paper's simulator uses them),
and the device sets written as ``alibabacloud.com/gpu-index`` (``0-1``)."""

from __future__ import annotations

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


