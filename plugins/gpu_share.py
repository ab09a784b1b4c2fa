"""GpuShare: each node's GPUs tracked one by one, shared by milli-GPU (Filter, Reserve/Unreserve).

The pod-side contract is the one of Alibaba's open-gpu-share and of the FGD paper's simulator
(hkust-adsl/kubernetes-scheduler-simulator, pkg/simulator/plugin/open_gpu_share.go and
pkg/utils/gpu.go): annotations ``alibabacloud.com/gpu-milli`` (thousandths of one GPU per device; 1000
is a whole GPU), ``alibabacloud.com/gpu-count`` (devices) and ``alibabacloud.com/gpu-card-model`` (the
GPU models allowed, ``|``-separated). A pod without them that requests ``nvidia.com/gpu: N`` asks for N
whole GPUs. A node's devices: ``alibabacloud.com/gpu-count`` in its allocatable, else ``nvidia.com/gpu``;
its model: the ``alibabacloud.com/gpu-card-model`` label. Each device holds 1000 milli.

Filter: a pod asking for ``count`` devices of ``milli`` each fits a node with at least ``count`` devices
that each have ``milli`` free (a share, milli < 1000, needs one device with that much free; N whole GPUs
need N fully free devices), of an allowed model. Reserve picks the devices (``device_choice``), Unreserve
gives them back, also at a replay's departures. The chosen devices are reported like open-gpu-share's
``alibabacloud.com/gpu-index`` annotation (``0-1``), in ``placements.parquet``'s ``gpu_index`` column.

GPUs are then counted here, device by device: give NodeResourcesFit ``ignoredResources:
["nvidia.com/gpu"]`` (as upstream does for an extender's managed resource), or it also counts a
sharing pod's ``nvidia.com/gpu: 1`` as a whole GPU. The score policies of the FGD paper
(``plugins/gpu_*.py``) are this plugin with a Score and their own device choice; enable one of them,
not GpuShare beside it.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.framework.plugin import SUCCESS, Kernels, Plugin, kernel
from schedkit.framework.runtime import rand_intn
from schedkit.gpu import (GPU_INDEX_ANNOTATION, GPU_MODEL_LABEL, MAX_DEVICES, MILLI_PER_GPU, format_index,
                          node_gpu_count, parse_index, pod_gpu_ask)


MODEL_MISMATCH = 1
NO_GPU = 2
NOT_ENOUGH_GPU = 3
REASONS = {
    MODEL_MISMATCH: "node(s) didn't have the requested GPU card model",
    NO_GPU: "node(s) didn't have any GPU",
    NOT_ENOUGH_GPU: "node(s) didn't have enough free GPU",
}

# Device choice at Reserve for a share (a pod asking whole GPUs always gets the lowest-numbered fully free
# ones, as open-gpu-share's AllocateExclusiveGpuId does). GpuShareState.choice[0]; open_gpu_share.go's
# gpuSelMethod.
BEST_FIT = 0  # the device with the least milli free that still fits, lowest index on ties ("best")
FIRST_FIT = 1  # the lowest-numbered device that fits
WORST_FIT = 2  # the device with the most milli free, lowest index on ties ("worst")
RANDOM_FIT = 3  # a fitting device drawn uniformly ("random")
CHOICES = {"best": BEST_FIT, "first": FIRST_FIT, "worst": WORST_FIT, "random": RANDOM_FIT}

GpuDevices = namedtuple(
    "GpuDevices",
    [
        "free",  # int64 [nodes, max devices]: milli-GPU free on each device (0 beyond the node's count)
        "count",  # int64 [nodes]: the node's devices
        "model",  # int64 [nodes]: interned value of the node's GPU model label, -1 none
    ],
)

GpuAsks = namedtuple(
    "GpuAsks",
    [
        "milli",  # int64 [pods]: milli-GPU asked of each device, 0 for a pod asking no GPU
        "count",  # int64 [pods]: devices asked
        "model_indptr",  # int64 [pods + 1]: CSR of the GPU models the pod accepts (none listed: any)
        "models",  # int64 [listed models]: interned label values
    ],
)

GpuShareState = namedtuple(
    "GpuShareState",
    [
        "devices",  # GpuDevices: per node, per device
        "asks",  # GpuAsks: per pod row
        "held",  # int64 [pod ids]: bit mask of the devices the pod holds now (0: none)
        "given",  # int64 [pod ids]: the devices its last Reserve gave it (kept after it leaves), -1 never
        "choice",  # int64 [1]: device choice at Reserve for a share (BEST_FIT, FIRST_FIT, WORST_FIT, RANDOM_FIT)
        "rng",  # uint64 [1]: splitmix64 stream for random draws, seeded from the run's seed
    ],
)
SHARE_FIELDS = list(GpuShareState._fields)  # the fields every GPU policy's state starts with


@kernel
def model_allowed(asks, p, node_model):
    """The pod accepts the node's GPU model (no list: any model)."""
    start, end = asks.model_indptr[p], asks.model_indptr[p + 1]
    if start == end:
        return True
    for k in range(start, end):
        if asks.models[k] == node_model:
            return True
    return False


@kernel
def devices_fitting(free, count, n, milli):
    """How many of node n's devices have ``milli`` free."""
    fitting = 0
    for d in range(count[n]):
        if free[n, d] >= milli:
            fitting += 1
    return fitting


@kernel
def gpu_filter(nodes, pods, p, n, state):
    asks, devices = state.asks, state.devices
    milli = asks.milli[p]
    if milli == 0:
        return SUCCESS
    if devices.count[n] == 0:  # checked first, as open_gpu_share.go's Filter does
        return NO_GPU
    if not model_allowed(asks, p, devices.model[n]):
        return MODEL_MISMATCH
    if devices_fitting(devices.free, devices.count, n, milli) < asks.count[p]:
        return NOT_ENOUGH_GPU
    return SUCCESS


@kernel
def choose_devices(free, count, n, milli, wanted, choice, rng):
    """Bit mask of the devices of node n to give a pod asking ``wanted`` devices of ``milli`` each, -1
    when they do not fit. Whole GPUs: the lowest-numbered fully free ones. A share: by ``choice``."""
    mask = 0
    if milli >= MILLI_PER_GPU:
        taken = 0
        for d in range(count[n]):
            if taken == wanted:
                break
            if free[n, d] >= MILLI_PER_GPU:
                mask |= 1 << d
                taken += 1
        return mask if taken == wanted else -1
    pick = -1
    seen = 0
    for d in range(count[n]):
        if free[n, d] < milli:
            continue
        seen += 1
        if choice == RANDOM_FIT:
            if rand_intn(rng, seen) == 0:  # reservoir sampling: uniform over the fitting devices
                pick = d
        elif pick < 0 or (choice == BEST_FIT and free[n, d] < free[n, pick]) or (
                choice == WORST_FIT and free[n, d] > free[n, pick]):
            pick = d
            if choice == FIRST_FIT:
                break
    return -1 if pick < 0 else 1 << pick


@kernel
def take_devices(state, n, pod, milli, mask):
    free = state.devices.free
    for d in range(free.shape[1]):
        if (mask >> d) & 1:
            free[n, d] -= milli
    state.held[pod] = mask
    state.given[pod] = mask


@kernel
def gpu_unreserve(nodes, pods, p, n, state, pod):
    free = state.devices.free
    mask = state.held[pod]
    milli = state.asks.milli[p]
    for d in range(free.shape[1]):
        if (mask >> d) & 1:
            free[n, d] += milli
    state.held[pod] = 0


@kernel
def _reserve(nodes, pods, p, n, state, pod):
    asks, devices = state.asks, state.devices
    milli = asks.milli[p]
    if milli == 0:
        return
    mask = choose_devices(devices.free, devices.count, n, milli, asks.count[p], state.choice[0], state.rng)
    if mask > 0:
        take_devices(state, n, pod, milli, mask)


def build_devices(cluster) -> GpuDevices:
    """Every node's devices, all free, and its model (interned as a label value)."""
    counts = np.array([node_gpu_count(node) for node in cluster.node_objects], dtype=np.int64)
    if counts.size and counts.max() > MAX_DEVICES:
        n = int(np.argmax(counts))
        raise ValueError(f"node {cluster.node_names[n]} has {counts[n]} GPUs; at most {MAX_DEVICES} are tracked")
    width = max(int(counts.max()) if counts.size else 0, 1)
    free = np.zeros((max(cluster.num_nodes, 1), width), dtype=np.int64)
    for n, count in enumerate(counts.tolist()):
        free[n, :count] = MILLI_PER_GPU
    model = np.array([cluster.label_values(node.labels[GPU_MODEL_LABEL]) if GPU_MODEL_LABEL in node.labels else -1
                      for node in cluster.node_objects], dtype=np.int64)
    return GpuDevices(free, counts, model)


def build_asks(cluster, pods) -> GpuAsks:
    milli = np.zeros(len(pods), dtype=np.int64)
    count = np.zeros(len(pods), dtype=np.int64)
    indptr = np.zeros(len(pods) + 1, dtype=np.int64)
    models: list[int] = []
    for i, pod in enumerate(pods):
        milli[i], count[i], names = pod_gpu_ask(pod)
        models.extend(cluster.label_values(name) for name in names)
        indptr[i + 1] = len(models)
    return GpuAsks(milli, count, indptr, np.asarray(models, dtype=np.int64))


def account_running(cluster, devices: GpuDevices) -> None:
    """Running pods' GPUs taken from their nodes' devices: where their ``gpu-index`` annotation says, else
    the best fit (in the order the pods are listed)."""
    for pod in cluster.running:
        milli, count, _ = pod_gpu_ask(pod)
        if not milli or pod.node_name not in cluster.node_index:
            continue
        n = cluster.node_index[pod.node_name]
        where = f"pod {pod.namespace}/{pod.name}"
        annotations = (pod.raw.get("metadata") or {}).get("annotations") or {}
        if annotations.get(GPU_INDEX_ANNOTATION):
            mask = parse_index(annotations[GPU_INDEX_ANNOTATION], where, int(devices.count[n]))
        else:
            mask = choose_devices(devices.free, devices.count, n, milli, count, BEST_FIT, np.zeros(1, np.uint64))
            if mask < 0:
                raise ValueError(f"{where}: its {count} GPU(s) of {milli} milli do not fit the free GPUs of node "
                                 f"{pod.node_name}")
        for d in range(devices.free.shape[1]):
            if (mask >> d) & 1:
                devices.free[n, d] -= milli


def _name_hash(name: str) -> int:
    """A stable 64-bit number per plugin name: two plugins drawing from the same seed get different streams."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def parse_choice(args: dict, default: str, choices: dict[str, int]) -> int:
    value = args.pop("deviceChoice", default)
    if value not in choices:
        raise ValueError(f"deviceChoice: Unsupported value: {value!r}: supported values: "
                         + ", ".join(f'"{c}"' for c in choices))
    return choices[value]


class GpuShare(Plugin):
    """Per-device GPU sharing: Filter and Reserve; the base of the FGD paper's score policies."""

    name = "GpuShare"
    kernels = Kernels(filter=gpu_filter, reserve=_reserve, unreserve=gpu_unreserve)
    reason_table = REASONS
    node_local = True  # Filter reads node n's devices only; Reserve changes node n's only
    # Devices free up when a pod leaves; a new node brings new devices.
    requeue_events = ("pod_delete", "node_add")
    unreserve_keeps = ("given", "rng")  # the devices each pod was given, for placements.parquet's gpu_index
    default_choice = "best"
    choices = CHOICES

    def __init__(self, args: dict | None = None) -> None:
        args = dict(args or {})
        self.choice = parse_choice(args, self.default_choice, self.choices)
        self.parse_args(args)
        if args:
            raise ValueError(f"unknown field(s) {', '.join(sorted(args))}")

    def parse_args(self, args: dict) -> None:
        """A policy's own args (remove what you read from ``args``)."""

    def signature(self, pod):
        return pod_gpu_ask(pod)

    def prepare(self, cluster, pods, pod_columns):
        return GpuShareState(*self.share_fields(cluster, pods))

    def share_fields(self, cluster, pods) -> tuple:
        """The values of SHARE_FIELDS for this cluster and batch (a policy's state starts with them)."""
        devices = build_devices(cluster)
        account_running(cluster, devices)
        ids = max(cluster.pod_ids, 1)
        seed = (int(cluster.seed) ^ _name_hash(self.name)) % 2**64
        return (devices, build_asks(cluster, pods), np.zeros(ids, dtype=np.int64), np.full(ids, -1, dtype=np.int64),
                np.array([self.choice], dtype=np.int64), np.array([seed], dtype=np.uint64))

    def placement_columns(self, state) -> dict:
        """``gpu_index`` per pod id: the devices the pod was given (``0-1``), None when it got none."""
        return {"gpu_index": [format_index(int(m)) for m in state.given]}
