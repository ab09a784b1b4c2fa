"""The cluster as columns: what every kernel reads and the framework updates at Reserve.

``NodeColumns`` mirrors upstream NodeInfo (pkg/scheduler/framework/types.go): ``Allocatable``,
``Requested`` and ``NonZeroRequested`` as int64 fields, taken all the way to node x resource matrices.
Labels and taints are interned into integer tables so kernels never touch strings. ``PodColumns``
holds the batch of pods being scheduled. Both are namedtuples of numpy arrays: numba passes them to
compiled code as typed tuples, and Python code reads them by name.

Resource columns: 0 cpu (millicores), 1 memory (bytes), 2 ephemeral-storage (bytes), then every
other (scalar/extended) resource that any node or pod mentions, sorted by name.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np

from .cluster import Cluster
from .objects import CPU, EPHEMERAL_STORAGE, MEMORY, PODS, Node, Pod
from .resources import is_scalar

RES_CPU, RES_MEMORY, RES_EPHEMERAL = 0, 1, 2
EFFECT_CODES = {"NoSchedule": 0, "PreferNoSchedule": 1, "NoExecute": 2}
EFFECT_ALL = -1  # a toleration with an empty effect

NodeColumns = namedtuple(
    "NodeColumns",
    [
        "allocatable",  # int64 [nodes, resources]
        "requested",  # int64 [nodes, resources]: exact requests of the pods on the node
        "nonzero_requested",  # int64 [nodes, 2]: cpu, memory with 100m/200Mi per-container defaults
        "pod_count",  # int64 [nodes]
        "allowed_pods",  # int64 [nodes]: allocatable "pods"
        "unschedulable",  # bool [nodes]: spec.unschedulable
        "label_value",  # int32 [nodes, label keys]: interned value, -1 where the node lacks the key
        "value_int",  # int64 [label values]: the value parsed as a base-10 int64 (for Gt/Lt)
        "value_is_int",  # bool [label values]
        "taint_indptr",  # int64 [nodes + 1]: CSR over the taint arrays
        "taint_key",  # int32 [taints]
        "taint_value",  # int32 [taints]
        "taint_effect",  # int8 [taints]: EFFECT_CODES
    ],
)

PodColumns = namedtuple(
    "PodColumns",
    [
        "requests",  # int64 [pods, resources]: exact requests (PodRequests)
        "nonzero_requests",  # int64 [pods, 2]: cpu, memory with scoring defaults
        "priority",  # int64 [pods]
        "node_name",  # int64 [pods]: index of spec.nodeName's node; -1 none; -2 a node not in the cluster
    ],
)


class Interner:
    """Strings to dense int32 ids, in first-seen order."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []

    def __call__(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.strings)
            self.strings.append(text)
        return found

    def get(self, text: str, default: int = -1) -> int:
        return self.ids.get(text, default)

    def __len__(self) -> int:
        return len(self.strings)


def parse_go_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64): optional sign, decimal digits, within int64."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    number = int(text)
    if not -(2**63) <= number < 2**63:
        return None
    return number


def zone_key(labels: dict[str, str]) -> str:
    """utilnode.GetZoneKey: region and zone joined by ':\\x00:'; "" when the node has neither."""
    region = labels.get("topology.kubernetes.io/region", labels.get("failure-domain.beta.kubernetes.io/region", ""))
    zone = labels.get("topology.kubernetes.io/zone", labels.get("failure-domain.beta.kubernetes.io/zone", ""))
    if not region and not zone:
        return ""
    return f"{region}:\x00:{zone}"


def snapshot_order(nodes: list[Node]) -> list[Node]:
    """The scheduler snapshot's node order (pkg/scheduler/backend/cache/node_tree.go): zones in the order
    first seen, round-robin across zones, each zone's nodes in the order they were added."""
    zones: dict[str, list[Node]] = {}
    for node in nodes:
        zones.setdefault(zone_key(node.labels), []).append(node)
    ordered: list[Node] = []
    queues = list(zones.values())
    depth = 0
    while len(ordered) < len(nodes):
        for queue in queues:
            if depth < len(queue):
                ordered.append(queue[depth])
        depth += 1
    return ordered


def resource_names(nodes: list[Node], pods: list[Pod]) -> list[str]:
    names: set[str] = set()
    for node in nodes:
        names.update(node.allocatable)
    for pod in pods:
        names.update(pod.requests)
    names -= {CPU, MEMORY, EPHEMERAL_STORAGE, PODS}
    names = {name for name in names if is_scalar(name)}  # others are not tracked (framework/types.go)
    return [CPU, MEMORY, EPHEMERAL_STORAGE, *sorted(names)]


@dataclass
class ClusterState:
    """Columns for one cluster plus the tables that map ids back to names."""

    node_names: list[str]
    resources: list[str]
    nodes: NodeColumns
    label_keys: Interner
    label_values: Interner
    node_index: dict[str, int]
    node_objects: list[Node]  # in snapshot order, row by row
    running: list[Pod] = field(default_factory=list)
    input_order: list[Node] = field(default_factory=list)  # as given (the order a cache would add them)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)  # Namespace name -> labels
    others: list = field(default_factory=list)  # Services, ReplicaSets, ... (SourcedObject) for plugins
    # How many pods Reserve/Unreserve/Permit kernels may name with their ``pod`` argument (0 .. pod_ids-1):
    # the pending pods given to build_state (a batch), or a replay's trace pods (set by the replay).
    pod_ids: int = 0
    # The run's --seed, for plugins that draw random numbers in their kernels (set before ``prepare``).
    seed: int = 0
    # int64 [pods given to prepare]: how many pods of the run each row stands for (a replay's rows are
    # distinct pod specs); None: one each
    pod_counts: np.ndarray | None = None

    def node_objects_in_input_order(self) -> list[Node]:
        return self.input_order or self.node_objects

    @property
    def num_nodes(self) -> int:
        return len(self.node_names)

    def resource_index(self, name: str) -> int:
        return self.resources.index(name)

    def copy(self) -> "ClusterState":
        """A copy whose mutable columns (usage) can be changed without touching this one."""
        nodes = self.nodes._replace(
            requested=self.nodes.requested.copy(),
            nonzero_requested=self.nodes.nonzero_requested.copy(),
            pod_count=self.nodes.pod_count.copy(),
        )
        return ClusterState(self.node_names, self.resources, nodes, self.label_keys, self.label_values,
                            self.node_index, self.node_objects, list(self.running), self.input_order,
                            self.namespaces, self.others)

    def pod_columns(self, pods: list[Pod]) -> PodColumns:
        count, width = len(pods), len(self.resources)
        requests = np.zeros((count, width), dtype=np.int64)
        nonzero = np.zeros((count, 2), dtype=np.int64)
        priority = np.zeros(count, dtype=np.int64)
        node_name = np.full(count, -1, dtype=np.int64)
        column = {name: i for i, name in enumerate(self.resources)}
        for i, pod in enumerate(pods):
            for res, amount in pod.requests.items():
                if res in column:
                    requests[i, column[res]] = amount
            nonzero[i] = (pod.nonzero_cpu, pod.nonzero_memory)
            priority[i] = pod.priority
            if pod.node_name:
                node_name[i] = self.node_index.get(pod.node_name, -2)
        return PodColumns(requests, nonzero, priority, node_name)


def build_state(cluster: Cluster, pending: list[Pod] | None = None) -> ClusterState:
    """Columns for ``cluster``'s nodes with its running pods accounted; ``pending`` pods' resources get
    columns too (a resource no node has is allocatable 0 everywhere)."""
    pending = pending if pending is not None else cluster.pending_pods
    nodes = snapshot_order(cluster.nodes)
    resources = resource_names(nodes, cluster.pods + pending)
    column = {name: i for i, name in enumerate(resources)}
    count, width = len(nodes), len(resources)
    node_index = {node.name: i for i, node in enumerate(nodes)}

    allocatable = np.zeros((count, width), dtype=np.int64)
    allowed_pods = np.zeros(count, dtype=np.int64)
    unschedulable = np.zeros(count, dtype=np.bool_)
    keys, values = Interner(), Interner()
    for i, node in enumerate(nodes):
        for res, amount in node.allocatable.items():
            if res == PODS:
                allowed_pods[i] = amount
            elif res in column:
                allocatable[i, column[res]] = amount
        unschedulable[i] = node.unschedulable
        for key, value in node.labels.items():
            keys(key)
            values(value)
    label_value = np.full((count, len(keys)), -1, dtype=np.int32)
    for i, node in enumerate(nodes):
        for key, value in node.labels.items():
            label_value[i, keys.ids[key]] = values.ids[value]
    taint_indptr = np.zeros(count + 1, dtype=np.int64)
    taint_key, taint_value, taint_effect = [], [], []
    for i, node in enumerate(nodes):
        for taint in node.taints:
            taint_key.append(keys(taint.key))
            taint_value.append(values(taint.value))
            taint_effect.append(EFFECT_CODES[taint.effect])
        taint_indptr[i + 1] = len(taint_key)
    value_int = np.zeros(len(values), dtype=np.int64)
    value_is_int = np.zeros(len(values), dtype=np.bool_)
    for vid, text in enumerate(values.strings):
        parsed = parse_go_int64(text)
        if parsed is not None:
            value_int[vid], value_is_int[vid] = parsed, True

    columns = NodeColumns(
        allocatable=allocatable,
        requested=np.zeros((count, width), dtype=np.int64),
        nonzero_requested=np.zeros((count, 2), dtype=np.int64),
        pod_count=np.zeros(count, dtype=np.int64),
        allowed_pods=allowed_pods,
        unschedulable=unschedulable,
        label_value=label_value,
        value_int=value_int,
        value_is_int=value_is_int,
        taint_indptr=taint_indptr,
        taint_key=np.asarray(taint_key, dtype=np.int32),
        taint_value=np.asarray(taint_value, dtype=np.int32),
        taint_effect=np.asarray(taint_effect, dtype=np.int8),
    )
    state = ClusterState([n.name for n in nodes], resources, columns, keys, values, node_index, nodes,
                         input_order=list(cluster.nodes), namespaces=cluster.namespaces, others=cluster.others,
                         pod_ids=len(pending or []))
    for pod in cluster.running_pods:
        _account(state, pod)
    return state


def _account(state: ClusterState, pod: Pod) -> None:
    """NodeInfo.AddPod: a running pod's requests count against its node."""
    n = state.node_index[pod.node_name]
    cols = state.nodes
    for res, amount in pod.requests.items():
        if res in state.resources:
            cols.requested[n, state.resources.index(res)] += amount
    cols.nonzero_requested[n, 0] += pod.nonzero_cpu
    cols.nonzero_requested[n, 1] += pod.nonzero_memory
    cols.pod_count[n] += 1
    state.running.append(pod)
