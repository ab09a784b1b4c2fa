"""The FGD paper's six score policies (Weng et al., "Beware of Fragmentation", USENIX ATC '23), each a
plugin: RandomScore, DotProductScore, GpuClusteringScore, GpuPackingScore, BestFitScore, FGDScore.

Each is GpuShare (per-device Filter, Reserve, Unreserve: ``gpu_share.py``) with the policy's Score and
its device choice for shares, as the paper's experiments run them
(hkust-adsl/kubernetes-scheduler-simulator experiments/run_scripts/generate_run_scripts.py): Random
picks a random device, FGD the device its score prefers, the others the best fit. The formulas live in
``gpu_score_*.py``; this module holds what the six share: one state record and one set of kernels that
read the policy from the state. The policy is data, so the six plugins compile into one loop: a
profile enabling any one of them reuses the loop compiled for another.

The experiments' profile (``examples/fgd/*.yaml``): the policy alone at Score (every default Score
plugin disabled), ``percentageOfNodesToScore: 100``, the default Filters (NodeResourcesFit checks cpu,
memory and pod count; GPUs are counted here, device by device, so NodeResourcesFit ignores
``nvidia.com/gpu``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.framework.plugin import SUCCESS, Kernels, kernel
from schedkit.framework.runtime import rand_intn
from schedkit.gpu import DEFAULT_POPULARITY, access_table, pod_gpu_ask, typical_key, typical_pods
from schedkit.plugins.gpu_score_best_fit import best_fit_raw, min_max_normalize
from schedkit.plugins.gpu_score_clustering import clustering_score, pod_kind
from schedkit.plugins.gpu_score_dot_product import dot_product_score
from schedkit.plugins.gpu_score_fgd import FragTables, fgd_choice
from schedkit.plugins.gpu_score_packing import packing_score
from schedkit.plugins.gpu_share import (
    BEST_FIT,
    CHOICES,
    SHARE_FIELDS,
    GpuShare,
    choose_devices,
    gpu_filter,
    gpu_unreserve,
    take_devices,
)

RANDOM, DOT_PRODUCT, GPU_CLUSTERING, GPU_PACKING, BEST_FIT_SCORE, FGD = range(6)
FGD_FIT = len(CHOICES)  # device choice "fgd": the device FGD's score prefers
MAX_KINDS = 64  # GpuClustering's pod kinds: a share, or 1..63 whole GPUs

GpuPolicyState = namedtuple(
    "GpuPolicyState",
    SHARE_FIELDS + [
        "policy",  # int64 [1]: RANDOM .. FGD
        "frag",  # FragTables: FGD's typical pods and per-node caches (empty for the other policies)
        "kinds",  # int64 [nodes, MAX_KINDS]: GpuClustering: pods of each kind on the node
        "chosen",  # int64 [1]: RandomScore: the node PreScore drew for this pod
    ],
)


@kernel
def _cpu_left(nodes, n):
    return nodes.allocatable[n, 0] - nodes.requested[n, 0]


@kernel
def _gpu_left(state, n):
    free = state.devices.free
    total = 0
    for d in range(state.devices.count[n]):
        total += free[n, d]
    return total


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    if state.policy[0] == RANDOM and count > 0:
        state.chosen[0] = feasible[rand_intn(state.rng, count)]
    return SUCCESS


@kernel
def _score(nodes, pods, p, n, state):
    policy = state.policy[0]
    asks = state.asks
    milli, wanted = asks.milli[p], asks.count[p]
    cpu = pods.nonzero_requests[p, 0]  # the simulator's PodResource.MilliCpu (GetNonzeroRequests)
    if policy == RANDOM:
        return 100 if n == state.chosen[0] else 0
    if policy == FGD:
        requested = False
        for r in range(pods.requests.shape[1]):
            if pods.requests[p, r] != 0:
                requested = True
        if not requested and milli == 0:
            return 100  # fgd_score.go: a pod without requests
        score, _ = fgd_choice(state.frag, state.devices.free, state.devices.count[n], _cpu_left(nodes, n), n, cpu,
                              milli, wanted)
        return score
    if policy == GPU_PACKING:
        return packing_score(state.devices.free, state.devices.count[n], n, milli, wanted)
    if policy == GPU_CLUSTERING:
        return clustering_score(state.kinds, n, _gpu_left(state, n), pod_kind(milli, wanted))
    if policy == DOT_PRODUCT:
        return dot_product_score(_cpu_left(nodes, n), _gpu_left(state, n), cpu, milli * wanted)
    return best_fit_raw(_cpu_left(nodes, n), _gpu_left(state, n), cpu, milli * wanted)


@kernel
def _normalize(nodes, pods, p, feasible, scores, count, state):
    if state.policy[0] == BEST_FIT_SCORE:
        min_max_normalize(scores, count)


@kernel
def _mark(state, n):
    state.frag.stale[n] = True


@kernel
def _reserve(nodes, pods, p, n, state, pod):
    asks, devices = state.asks, state.devices
    milli, wanted = asks.milli[p], asks.count[p]
    kind = pod_kind(milli, wanted)
    if kind >= 0:
        state.kinds[n, kind] += 1
    if milli > 0:
        mask = -1
        if state.choice[0] == FGD_FIT and wanted == 1 and milli < 1000:
            # The device FGD's score prefers (allocateGpuIdBasedOnFGDScore), from the node as it was before
            # this pod: the framework has already counted the pod's requests.
            cpu_left = _cpu_left(nodes, n) + pods.requests[p, 0]
            _, device = fgd_choice(state.frag, devices.free, devices.count[n], cpu_left, n,
                                   pods.nonzero_requests[p, 0], milli, wanted)
            if device >= 0:
                mask = 1 << device
        else:
            choice = BEST_FIT if state.choice[0] == FGD_FIT else state.choice[0]
            mask = choose_devices(devices.free, devices.count, n, milli, wanted, choice, state.rng)
        if mask > 0:
            take_devices(state, n, pod, milli, mask)
    _mark(state, n)  # last: fgd_choice may have rebuilt the node's tables from its state before this pod


@kernel
def _unreserve(nodes, pods, p, n, state, pod):
    kind = pod_kind(state.asks.milli[p], state.asks.count[p])
    if kind >= 0:
        state.kinds[n, kind] -= 1
    _mark(state, n)
    gpu_unreserve(nodes, pods, p, n, state, pod)


POLICY_KERNELS = Kernels(filter=gpu_filter, pre_score=_pre_score, score=_score, normalize=_normalize,
                         reserve=_reserve, unreserve=_unreserve)


class GpuPolicy(GpuShare):
    """GpuShare with one of the paper's Score policies (subclasses set ``policy`` and ``default_choice``)."""

    kernels = POLICY_KERNELS
    unreserve_keeps = ("given", "rng", "frag")  # frag: FGD's per-node caches, only marked stale
    policy = BEST_FIT_SCORE
    default_choice = "best"

    def signature(self, pod):
        # Scores read the GPU ask, the non-zero cpu request and (FGD) whether the pod requests anything.
        return pod_gpu_ask(pod), pod.nonzero_cpu, any(pod.requests.values())

    def prepare(self, cluster, pods, pod_columns):
        fields = self.share_fields(cluster, pods)
        nodes = max(cluster.num_nodes, 1)
        kinds = np.zeros((nodes, MAX_KINDS), dtype=np.int64)
        for pod in cluster.running:
            if pod.node_name in cluster.node_index:
                key = typical_key(pod)
                kind = pod_kind.py_func(key[1], key[2])
                if kind >= 0:
                    kinds[cluster.node_index[pod.node_name], kind] += 1
        return GpuPolicyState(*fields, np.array([self.policy], dtype=np.int64),
                              self.frag_tables(cluster, pods, nodes), kinds, np.full(1, -1, dtype=np.int64))

    def frag_tables(self, cluster, pods, nodes: int) -> FragTables:
        return _frag_tables(None, cluster.num_nodes, nodes)


def _frag_tables(typical, num_nodes: int, rows: int, node_models: list[str] | None = None) -> FragTables:
    size = len(typical) if typical is not None else 0
    access = access_table(node_models, typical) if typical is not None else np.zeros((num_nodes, 0), dtype=np.bool_)
    if access.shape[0] < rows:
        access = np.zeros((rows, size), dtype=np.bool_)
    empty = typical is None
    return FragTables(
        cpu=np.zeros(0, np.int64) if empty else typical.cpu, milli=np.zeros(0, np.int64) if empty else typical.milli,
        count=np.zeros(0, np.int64) if empty else typical.count,
        freq=np.zeros(0, np.float64) if empty else typical.freq, access=access,
        fit=np.zeros((rows, size), dtype=np.int64), below=np.zeros((rows, size), dtype=np.int64),
        before=np.zeros(rows, dtype=np.float64), stale=np.ones(rows, dtype=np.bool_))


def _popularity(args: dict) -> int:
    value = args.pop("popularityThreshold", DEFAULT_POPULARITY)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100:
        raise ValueError(f"popularityThreshold: Invalid value: {value!r}: must be an integer in 1..100")
    return value


class RandomScore(GpuPolicy):
    """A feasible node drawn uniformly (random_score.go), a random device for a share."""

    name = "RandomScore"
    policy = RANDOM
    default_choice = "random"

    def signature(self, pod):
        return None  # a fresh draw every cycle: never reuse a node's score


class DotProductScore(GpuPolicy):
    """args ``dimExtMethod`` and ``normMethod``: the simulator's sub-options; the paper's experiments run
    ``merge`` and ``max`` (one vector per node, divided by the largest node's), the only ones here."""

    name = "DotProductScore"
    policy = DOT_PRODUCT

    def parse_args(self, args: dict) -> None:
        for field, supported in (("dimExtMethod", "merge"), ("normMethod", "max")):
            value = args.pop(field, supported)
            if value != supported:
                raise ValueError(f"{field}: Unsupported value: {value!r}: supported values: \"{supported}\" (the "
                                 "FGD paper's experiments; the simulator's other methods are not modelled)")


class GpuClusteringScore(GpuPolicy):
    name = "GpuClusteringScore"
    policy = GPU_CLUSTERING


class GpuPackingScore(GpuPolicy):
    name = "GpuPackingScore"
    policy = GPU_PACKING


class BestFitScore(GpuPolicy):
    name = "BestFitScore"
    policy = BEST_FIT_SCORE


class FGDScore(GpuPolicy):
    """Fragmentation Gradient Descent; args ``popularityThreshold`` (percent of the pods the typical
    shapes cover, default 95 as in the paper's experiments)."""

    name = "FGDScore"
    policy = FGD
    default_choice = "fgd"
    choices = {**CHOICES, "fgd": FGD_FIT}  # the device FGD's own score prefers

    def parse_args(self, args: dict) -> None:
        self.popularity = _popularity(args)

    def frag_tables(self, cluster, pods, nodes: int) -> FragTables:
        counts = cluster.pod_counts if cluster.pod_counts is not None else np.ones(len(pods), dtype=np.int64)
        keys = [typical_key(pod) for pod in pods]
        typical = typical_pods(zip(keys, counts.tolist()), self.popularity)
        models = [node.labels.get("alibabacloud.com/gpu-card-model", "") for node in cluster.node_objects]
        return _frag_tables(typical, cluster.num_nodes, nodes, models)


GPU_POLICIES = (RandomScore, DotProductScore, GpuClusteringScore, GpuPackingScore, BestFitScore, FGDScore)
