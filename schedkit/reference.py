"""A small, slow, pure-Python reference of the scheduling semantics, for differential testing.

Written from the semantics notes (shared/kube-semantics.md sections 2-4, the framework facts and
tests/upstream_tables/NOTES-*.md), independently of the compiled fast path: it shares only the input
objects (``schedkit.objects``), the snapshot node order, resource classification, the parsed profile
(plugin order, weights and args) and the seeded RNG. Everything is plain dicts and lists; clarity wins
over speed.

Scope: the plugins schedkit models (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
NodePorts, NodeResourcesFit, NodeResourcesBalancedAllocation, ImageLocality, and the cross-node plugins
PodTopologySpread and InterPodAffinity) plus the queue (SchedulingGates, PrioritySort), the cycle
(PreFilter narrowing, numFeasibleNodesToFind, rotating start index), scoring and host selection.

PodTopologySpread and InterPodAffinity follow tests/upstream_tables/NOTES-pod-topology-spread.md and
NOTES-interpodaffinity-imagelocality.md (v1.36, default feature gates). They read the raw manifests
(``pod.raw``), Namespace labels and other API objects (Services, ReplicaSets, ...) through a
``ClusterView``, and their args from the scheduler configuration's pluginConfig.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from dataclasses import dataclass, field

from .cluster import Cluster
from .framework.runtime import python_rand_intn
from .objects import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    PODS,
    HostPort,
    Node,
    NodeSelectorTerm,
    Pod,
    Requirement,
    Taint,
    Toleration,
    qualified_name_error,
)
from .resources import is_extended, is_scalar
from .state import snapshot_order

NO_NODES = "no nodes available to schedule pods"
MAX_NODE_SCORE = 100

R_UNSCHEDULABLE = "node(s) were unschedulable"
R_NODE_NAME = "node(s) didn't match the requested node name"
R_TAINT = "node(s) had untolerated taint(s)"
R_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
R_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
R_CONFLICT = "pod affinity terms conflict"
R_PORTS = "node(s) didn't have free ports for the requested pod ports"

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")


# --- node usage (NodeInfo: Requested, NonZeroRequested, pod count, UsedPorts) ----------------------------

def tracked(resource: str) -> bool:
    return resource in (CPU, MEMORY, EPHEMERAL_STORAGE) or is_scalar(resource)


@dataclass
class Usage:
    requested: dict[str, int] = field(default_factory=dict)  # exact requests, tracked resources only
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    pods: int = 0
    ports: list[HostPort] = field(default_factory=list)
    pods_here: list[Pod] = field(default_factory=list)  # NodeInfo.Pods: running pods, then the batch's

    def add(self, pod: Pod) -> None:
        for resource, amount in pod.requests.items():
            if tracked(resource):
                self.requested[resource] = self.requested.get(resource, 0) + amount
        self.nonzero_cpu += pod.nonzero_cpu
        self.nonzero_memory += pod.nonzero_memory
        self.pods += 1
        self.ports.extend(pod.host_ports)
        self.pods_here.append(pod)


def initial_usage(cluster: Cluster) -> dict[str, Usage]:
    usage = {node.name: Usage() for node in cluster.nodes}
    for pod in cluster.pods:
        if pod.node_name and pod.node_name in usage:
            usage[pod.node_name].add(pod)
    return usage


# --- tolerations ------------------------------------------------------------------------------------

def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """v1.Toleration.ToleratesTaint with the comparison-operator gate off."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return toleration.operator == "Exists"  # Lt/Gt never tolerate while the gate is off


def tolerated(tolerations, taint: Taint) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


# --- node selector matching (component-helpers nodeaffinity, apimachinery labels) ---------------------

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not all("0" <= c <= "9" for c in digits):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def valid_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


def expression_matches(req: Requirement, labels: dict[str, str]) -> bool | None:
    """One matchExpressions entry; None when labels.NewRequirement would reject it (parse error)."""
    op, values = req.operator, req.values
    if op in ("In", "NotIn") and not values:
        return None
    if op in ("Exists", "DoesNotExist") and values:
        return None
    if op in ("Gt", "Lt") and (len(values) != 1 or go_parse_int(values[0]) is None):
        return None
    if op not in ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"):
        return None
    if not all(valid_label_value(v) for v in values):
        return None
    present = req.key in labels
    if op == "In":
        return present and labels[req.key] in values
    if op == "NotIn":
        return not present or labels[req.key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    node_value = go_parse_int(labels[req.key]) if present else None
    if node_value is None:
        return False
    wanted = go_parse_int(values[0])
    return node_value > wanted if op == "Gt" else node_value < wanted


def field_matches(req: Requirement, node_name: str) -> bool | None:
    """One matchFields entry: In/NotIn with exactly one value against {metadata.name: node}."""
    if req.operator not in ("In", "NotIn") or len(req.values) != 1:
        return None
    value = node_name if req.key == "metadata.name" else ""
    return (value == req.values[0]) == (req.operator == "In")


def term_matches(term: NodeSelectorTerm, node: Node) -> bool:
    """Requirements ANDed; an empty term or one with a parse error matches nothing."""
    if not term.match_expressions and not term.match_fields:
        return False
    results = [expression_matches(r, node.labels) for r in term.match_expressions]
    fields = [field_matches(r, node.name) for r in term.match_fields]
    if None in results or None in fields:
        return False
    if node.name == "":  # quirk: matchFields are ignored for a node without a name
        fields = []
    return all(results) and all(fields)


def any_term_matches(terms, node: Node) -> bool:
    return any(term_matches(term, node) for term in terms)


def preferred_weight(preferred, node: Node) -> int:
    return sum(p.weight for p in preferred if p.weight != 0 and term_matches(p.term, node))


# --- PreFilter ---------------------------------------------------------------------------------------
# Each returns ("skip", None), ("ok", None), ("nodes", set_of_names) or ("reject", reason).

def node_affinity_pre_filter(plugin, pod: Pod):
    added = plugin.added
    pod_required = pod.node_affinity.required if pod.node_affinity else None
    added_required = added.required if added is not None else None
    if pod_required is None and added_required is None and not pod.node_selector:
        return "skip", None
    if pod_required is None:
        return "ok", None
    names: set[str] | None = None
    for term in pod_required:
        term_names: set[str] | None = None
        for req in term.match_fields:
            if req.key == "metadata.name" and req.operator == "In":
                term_names = set(req.values) if term_names is None else term_names & set(req.values)
        if term_names is None:  # an unrestricted term: every node is allowed (terms are ORed)
            return "ok", None
        names = term_names if names is None else names | term_names
    if names is None:
        return "ok", None
    if not names:
        return "reject", R_CONFLICT
    return "nodes", names


PRE_FILTER = {
    "NodeAffinity": node_affinity_pre_filter,
    "NodePorts": lambda plugin, pod: ("ok", None) if pod.host_ports else ("skip", None),
    "NodeResourcesFit": lambda plugin, pod: ("ok", None),
}


# --- Filter: each returns the failure reasons, [] when the node passes ------------------------------

def node_unschedulable_filter(plugin, pod, node, usage):
    if node.unschedulable and not tolerated(pod.tolerations, UNSCHEDULABLE_TAINT):
        return [R_UNSCHEDULABLE]
    return []


def node_name_filter(plugin, pod, node, usage):
    return [] if not pod.node_name or pod.node_name == node.name else [R_NODE_NAME]


def taint_filter(plugin, pod, node, usage):
    for taint in node.taints:
        if taint.effect in ("NoSchedule", "NoExecute") and not tolerated(pod.tolerations, taint):
            return [R_TAINT]
    return []


def node_affinity_filter(plugin, pod, node, usage):
    added = plugin.added
    if added is not None and added.required is not None and not any_term_matches(added.required, node):
        return [R_ENFORCED]
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return [R_AFFINITY]
    required = pod.node_affinity.required if pod.node_affinity else None
    if required is not None and not any_term_matches(required, node):
        return [R_AFFINITY]
    return []


def port_conflict(wanted: HostPort, used: HostPort) -> bool:
    if wanted.port <= 0 or wanted.protocol != used.protocol or wanted.port != used.port:
        return False
    return wanted.host_ip == "0.0.0.0" or used.host_ip in (wanted.host_ip, "0.0.0.0")


def node_ports_filter(plugin, pod, node, usage):
    for wanted in pod.host_ports:
        if any(port_conflict(wanted, used) for used in usage.ports):
            return [R_PORTS]
    return []


def fit_filter(plugin, pod, node, usage):
    reasons = []
    if usage.pods + 1 > node.allocatable.get(PODS, 0):
        reasons.append("Too many pods")
    scalars = sorted(r for r, q in pod.requests.items() if q and is_scalar(r))
    if not any(pod.requests.get(r, 0) for r in (CPU, MEMORY, EPHEMERAL_STORAGE)) and not scalars:
        return reasons
    for resource in (CPU, MEMORY, EPHEMERAL_STORAGE):
        want = pod.requests.get(resource, 0)
        if want > 0 and want > node.allocatable.get(resource, 0) - usage.requested.get(resource, 0):
            reasons.append(f"Insufficient {resource}")
    for resource in scalars:
        if is_extended(resource) and (resource in plugin.ignored_resources
                                      or resource.split("/")[0] in plugin.ignored_groups):
            continue
        if pod.requests[resource] > node.allocatable.get(resource, 0) - usage.requested.get(resource, 0):
            reasons.append(f"Insufficient {resource}")
    return reasons


FILTER = {
    "NodeUnschedulable": node_unschedulable_filter,
    "NodeName": node_name_filter,
    "TaintToleration": taint_filter,
    "NodeAffinity": node_affinity_filter,
    "NodePorts": node_ports_filter,
    "NodeResourcesFit": fit_filter,
}


# --- PreScore: True when the plugin returns Skip -------------------------------------------------------

PRE_SCORE_SKIP = {
    "NodeResourcesBalancedAllocation": lambda plugin, pod: all(pod.requests.get(r, 0) == 0 for r in plugin.resources),
    # Skip only when the pod has no preferredDuringScheduling... list at all (an empty or all-weight-0
    # list still scores every node 0) and addedAffinity has no preferred terms.
    "NodeAffinity": lambda plugin, pod: (not (pod.node_affinity and pod.node_affinity.has_preferred)
                                         and not (plugin.added is not None and plugin.added.preferred)),
}


# --- Score ----------------------------------------------------------------------------------------

def allocatable_and_requested(resource: str, pod: Pod, node: Node, usage: Usage, nonzero: bool):
    """resource_allocation.go calculateResourceAllocatableRequest: (alloc, node requested + pod request);
    (0, 0) for a scalar resource the pod does not request or the node does not have."""
    pod_request = pod.requests.get(resource, 0)
    if nonzero and resource == CPU:
        return node.allocatable.get(CPU, 0), usage.nonzero_cpu + pod.nonzero_cpu
    if nonzero and resource == MEMORY:
        return node.allocatable.get(MEMORY, 0), usage.nonzero_memory + pod.nonzero_memory
    if pod_request == 0 and is_scalar(resource):
        return 0, 0
    if resource in (CPU, MEMORY, EPHEMERAL_STORAGE) or (is_scalar(resource) and resource in node.allocatable):
        return node.allocatable.get(resource, 0), usage.requested.get(resource, 0) + pod_request
    return 0, 0


def go_div(a: int, b: int) -> int:
    """Go integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def broken_linear(shape, utilization: int) -> int:
    points = [(u, s * 10) for u, s in shape]  # shape scores 0..10 scaled to 0..100
    for i, (u, s) in enumerate(points):
        if utilization <= u:
            if i == 0:
                return s
            u0, s0 = points[i - 1]
            return s0 + go_div((s - s0) * (utilization - u0), u - u0)
    return points[-1][1]


def fit_score(plugin, pod, node, usage):
    total, weights = 0, 0
    for resource, weight in plugin.resources:
        alloc, req = allocatable_and_requested(resource, pod, node, usage, nonzero=True)
        if alloc == 0:
            continue
        if plugin.strategy == 0:  # LeastAllocated
            score = 0 if req > alloc else (alloc - req) * 100 // alloc
        elif plugin.strategy == 1:  # MostAllocated
            score = min(req, alloc) * 100 // alloc
        else:  # RequestedToCapacityRatio: zero scores leave the weight sum too
            score = broken_linear(plugin.shape, 100 if req > alloc else req * 100 // alloc)
            if score == 0:
                continue
        total += score * weight
        weights += weight
    if weights == 0:
        return 0
    if plugin.strategy == 2:
        return (2 * total + weights) // (2 * weights)  # math.Round(total / weights), values >= 0
    return total // weights


def balance_score(fractions: list[float]) -> int:
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) * (f - mean) for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * 100)


def balanced_allocation_score(plugin, pod, node, usage):
    with_pod, without_pod = [], []
    for resource in plugin.resources:
        alloc, req = allocatable_and_requested(resource, pod, node, usage, nonzero=False)
        if alloc == 0:
            continue
        before = usage.requested.get(resource, 0)
        with_pod.append(min(req / alloc, 1.0))
        without_pod.append(min(before / alloc, 1.0))
    return 50 + (50 + balance_score(with_pod) - balance_score(without_pod)) // 2


def taint_score(plugin, pod, node, usage):
    soft = [t for t in pod.tolerations if t.effect in ("", "PreferNoSchedule")]
    return sum(1 for taint in node.taints if taint.effect == "PreferNoSchedule" and not tolerated(soft, taint))


def node_affinity_score(plugin, pod, node, usage):
    score = preferred_weight(pod.node_affinity.preferred, node) if pod.node_affinity else 0
    if plugin.added is not None:
        score += preferred_weight(plugin.added.preferred, node)
    return score


def image_locality_score(pod: Pod, node: Node, nodes: list[Node]) -> int:
    """imagelocality/image_locality.go: images the node has, scaled by how many nodes have them."""
    mib = 1024 * 1024
    size: dict[str, int] = {}
    holders: dict[str, int] = {}
    for other in nodes:  # input order: the first node listing a name sets its size
        for image in other.images:
            for name in image.names:
                size.setdefault(name, image.size_bytes)
        for name in {name for image in other.images for name in image.names}:
            holders[name] = holders.get(name, 0) + 1
    on_node = {name for image in node.images for name in image.names}
    total = 0
    for image in (*pod.images, *pod.image_volumes):
        if image.rfind(":") <= image.rfind("/"):
            image += ":latest"
        if image in on_node:
            total += int(float(size[image]) * (float(holders[image]) / float(len(nodes))))
    low, high = 23 * mib, 1000 * mib * len(pod.images)
    if total < low:
        total = low
    elif total > high:
        total = high
    return 100 * (total - low) // (high - low) if total != low else 0


SCORE = {
    "NodeResourcesFit": fit_score,
    "NodeResourcesBalancedAllocation": balanced_allocation_score,
    "TaintToleration": taint_score,
    "NodeAffinity": node_affinity_score,
}


def default_normalize(scores: list[int], reverse: bool) -> list[int]:
    """helper.DefaultNormalizeScore(100, reverse)."""
    top = max(scores, default=0)
    if top == 0:
        return [MAX_NODE_SCORE if reverse else s for s in scores]
    out = [MAX_NODE_SCORE * s // top for s in scores]
    return [MAX_NODE_SCORE - s for s in out] if reverse else out


NORMALIZE = {
    "TaintToleration": lambda scores: default_normalize(scores, reverse=True),
    "NodeAffinity": lambda scores: default_normalize(scores, reverse=False),
}


# --- label selectors (apimachinery metav1.LabelSelectorAsSelector, labels.Requirement) -----------------

LABEL_VALUE_ERROR = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                     "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                     "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


class SelectorError(ValueError):
    """A label selector that LabelSelectorAsSelector rejects; str() is upstream's error text."""


def go_quote(text: str) -> str:
    """fmt's %q for the plain strings we meet."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def label_value_errors(value: str) -> list[str]:
    """validation.IsValidLabelValue."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        errors.append(LABEL_VALUE_ERROR)
    return errors


def new_requirement(key: str, op: str, values: list[str]) -> tuple[str, str, frozenset]:
    """labels.NewRequirement: validates the key, the value count for the operator and every value."""
    errors = []
    key_error = qualified_name_error(key)
    if key_error:
        errors.append(f"key: Invalid value: {go_quote(key)}: {key_error}")
    if op in ("In", "NotIn") and not values:
        errors.append("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty")
    if op == "=" and len(values) != 1:
        errors.append("values: Invalid value: exact-match compatibility requires one single value")
    if op in ("Exists", "DoesNotExist") and values:
        errors.append("values: Invalid value: values set must be empty for exists and does not exist")
    for i, value in enumerate(values):
        problems = label_value_errors(value)
        if problems:
            errors.append(f"values[{i}][{key}]: Invalid value: {go_quote(value)}: {'; '.join(problems)}")
    if errors:
        raise SelectorError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return key, op, frozenset(values)


def requirement_matches(req: tuple[str, str, frozenset], labels: dict[str, str]) -> bool:
    key, op, values = req
    if op in ("=", "In"):
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    return key not in labels  # DoesNotExist


@dataclass(frozen=True)
class Selector:
    """labels.Selector. ``requirements`` None is labels.Nothing() (matches no label set); an empty tuple is
    labels.Everything() (matches every label set, and is the only selector that is ``empty``)."""

    requirements: tuple | None

    def matches(self, labels: dict[str, str] | None) -> bool:
        if self.requirements is None:
            return False
        return all(requirement_matches(r, labels or {}) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return self.requirements == ()

    def add(self, requirements) -> Selector:
        """Selector.Add: Nothing stays Nothing."""
        if self.requirements is None:
            return self
        return Selector(self.requirements + tuple(requirements))


NOTHING = Selector(None)
EVERYTHING = Selector(())


def label_selector(raw) -> Selector:
    """metav1.LabelSelectorAsSelector: nil -> Nothing, {} -> Everything, else matchLabels AND matchExpressions."""
    if raw is None:
        return NOTHING
    match_labels = raw.get("matchLabels") or {}
    expressions = raw.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    requirements = [new_requirement(str(k), "=", [str(v)]) for k, v in match_labels.items()]
    for expr in expressions:
        op = expr.get("operator", "")
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise SelectorError(f"{go_quote(str(op))} is not a valid label selector operator")
        requirements.append(new_requirement(expr.get("key", ""), op, [str(v) for v in expr.get("values") or []]))
    return Selector(tuple(requirements))


def set_selector(labels: dict[str, str]) -> Selector:
    """labels.Set(m).AsSelector(): one equality per pair; an empty map gives Everything."""
    return Selector(tuple((k, "=", frozenset([v])) for k, v in sorted(labels.items())))


# --- what cross-node plugins see -------------------------------------------------------------------------

@dataclass
class ClusterView:
    """Beyond the node being filtered: every snapshot node with its pods (running pods plus the pods placed
    earlier in the batch, in ``usage[name].pods_here``), Namespace labels (name -> labels), the other API
    objects as raw dicts (Services, ReplicaSets, StatefulSets, ReplicationControllers) and the profile's
    pluginConfig args (plugin name -> dict)."""

    nodes: list[Node]
    usage: dict[str, Usage]
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    objects: list[dict] = field(default_factory=list)
    args: dict[str, dict] = field(default_factory=dict)

    def pods_on(self, node: Node) -> list[Pod]:
        return self.usage[node.name].pods_here


def _spec(pod: Pod) -> dict:
    return (pod.raw or {}).get("spec") or {}


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def required_node_affinity_matches(pod: Pod, node: Node) -> bool:
    """nodeaffinity.GetRequiredNodeAffinity(pod).Match(node), error ignored: nodeSelector AND required terms
    (a term with a parse error matches nothing, as in the NodeAffinity filter)."""
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return False
    required = pod.node_affinity.required if pod.node_affinity else None
    return required is None or any_term_matches(required, node)


def untolerated_hard_taint(pod: Pod, node: Node) -> bool:
    """v1helper.FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc (NoSchedule, NoExecute)."""
    return any(t.effect in ("NoSchedule", "NoExecute") and not tolerated(pod.tolerations, t) for t in node.taints)


# --- PodTopologySpread (podtopologyspread/{common,filtering,scoring,plugin}.go, helper/spread.go) ----------

R_SPREAD = "node(s) didn't match pod topology spread constraints"
R_SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
SYSTEM_DEFAULT_CONSTRAINTS = [  # plugin.go systemDefaultConstraints
    {"topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 3},
    {"topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 5},
]


@dataclass
class SpreadConstraint:
    max_skew: int
    key: str
    selector: Selector
    min_domains: int = 1
    node_affinity_policy: str = "Honor"
    node_taints_policy: str = "Ignore"

    def includes(self, pod: Pod, node: Node) -> bool:
        """common.go matchNodeInclusionPolicies."""
        if self.node_affinity_policy == "Honor" and not required_node_affinity_matches(pod, node):
            return False
        if self.node_taints_policy == "Honor" and untolerated_hard_taint(pod, node):
            return False
        return True


def spread_args(args: dict | None) -> tuple[str, list[dict]]:
    """(defaultingType, default constraints); System is the v1 default."""
    args = args or {}
    defaulting = args.get("defaultingType") or "System"
    if defaulting == "System":
        return defaulting, SYSTEM_DEFAULT_CONSTRAINTS
    return defaulting, list(args.get("defaultConstraints") or [])


def filter_constraints(raw_constraints: list[dict], pod_labels: dict[str, str], action: str) -> list[SpreadConstraint]:
    """common.go filterTopologySpreadConstraints: the constraints with ``action``, selectors parsed,
    matchLabelKeys (gate on) ANDed in from the pod's labels; raises SelectorError."""
    out = []
    for c in raw_constraints:
        if c.get("whenUnsatisfiable") != action:
            continue
        selector = label_selector(c.get("labelSelector"))
        keys = {k: pod_labels[k] for k in c.get("matchLabelKeys") or [] if k in pod_labels}
        if keys:  # mergeLabelSetWithSelector: Nothing has no requirements to merge, so it stays Nothing
            selector = set_selector(keys).add(selector.requirements) if selector.requirements is not None else selector
        min_domains = c.get("minDomains")
        out.append(SpreadConstraint(int(c.get("maxSkew", 0)), c.get("topologyKey", ""), selector,
                                    1 if min_domains is None else int(min_domains),
                                    c.get("nodeAffinityPolicy") or "Honor", c.get("nodeTaintsPolicy") or "Ignore"))
    return out


def default_selector(pod: Pod, objects: list[dict]) -> Selector:
    """helper/spread.go DefaultSelector: selectors of the Services in the pod's namespace that select it,
    plus its controller owner's selector (ReplicationController merged, ReplicaSet/StatefulSet ANDed)."""
    def in_pod_namespace(kind: str):  # the listers see objects by kind and namespace
        for obj in objects:
            if obj.get("kind") == kind and (_meta(obj).get("namespace") or "default") == pod.namespace:
                yield obj

    merged: dict[str, str] = {}
    for service in in_pod_namespace("Service"):
        selector = (service.get("spec") or {}).get("selector")
        if selector is None:  # services with nil selectors match nothing
            continue
        if set_selector(selector).matches(pod.labels):
            merged.update(selector)
    selector = set_selector(merged)
    owners = [ref for ref in _meta(pod.raw).get("ownerReferences") or [] if ref.get("controller") is True]
    if not owners:
        return selector
    owner = owners[0]
    kinds = {("v1", "ReplicationController"), ("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet")}
    if (owner.get("apiVersion"), owner.get("kind")) not in kinds:
        return selector
    for obj in in_pod_namespace(owner["kind"]):
        if _meta(obj).get("name") != owner.get("name"):
            continue
        spec = obj.get("spec") or {}
        if owner["kind"] == "ReplicationController":
            merged.update(spec.get("selector") or {})
            return set_selector(merged)
        try:
            other = label_selector(spec.get("selector"))
        except SelectorError:
            return selector
        return selector.add(other.requirements) if other.requirements is not None else selector
    return selector


def spread_constraints(pod: Pod, args: dict | None, objects: list[dict], action: str) -> list[SpreadConstraint]:
    """common.go getConstraints / scoring.go initPreScoreState: the pod's own constraints with ``action``, or
    (only when the pod has none at all) the default ones with DefaultSelector; raises SelectorError."""
    own = _spec(pod).get("topologySpreadConstraints") or []
    if own:
        return filter_constraints(own, pod.labels, action)
    _, defaults = spread_args(args)
    constraints = filter_constraints(defaults, pod.labels, action)
    if not constraints:
        return []
    selector = default_selector(pod, objects)
    if selector.empty:
        return []
    for c in constraints:
        c.selector = selector
    return constraints


def count_matching(pods: list[Pod], selector: Selector, namespace: str) -> int:
    """common.go countPodsMatchSelector: same namespace, not terminating; an empty selector counts 0."""
    if selector.empty:
        return 0
    return sum(1 for p in pods if p.deletion_timestamp is None and p.namespace == namespace
               and selector.matches(p.labels))


def has_all_keys(node: Node, constraints: list[SpreadConstraint]) -> bool:
    """common.go nodeLabelsMatchSpreadConstraints."""
    return all(c.key in node.labels for c in constraints)


MAX_INT32 = 2**31 - 1


@dataclass
class SpreadFilterState:
    constraints: list[SpreadConstraint]
    counts: list[dict[str, int]]  # per constraint: topology value -> matching pods (TpValueToMatchNum)
    # per constraint: filtering.go's criticalPaths, two [topology value, count] pairs. paths[i][0] holds
    # the minimum after PreFilter; AddPod/RemovePod update them as upstream does, which may leave a
    # count above the true minimum there (upstream's own caveat), and Filter reads paths[i][0].
    paths: list[list[list]] = field(default_factory=list)


def update_critical_paths(paths: list[list], value: str, num: int) -> None:
    """criticalPaths.update (podtopologyspread/filtering.go)."""
    i = 0 if value == paths[0][0] else 1 if value == paths[1][0] else -1
    if i >= 0:
        paths[i][1] = num
        if paths[0][1] > paths[1][1]:
            paths[0], paths[1] = paths[1], paths[0]
    elif num < paths[0][1]:
        paths[1] = list(paths[0])
        paths[0] = [value, num]
    elif num < paths[1][1]:
        paths[1] = [value, num]


def critical_paths(counts: dict[str, int]) -> list[list]:
    """PreFilter's paths over every domain, in the dict's order (upstream: Go map order, which can
    change only which domain sits in paths[1])."""
    paths = [[None, MAX_INT32], [None, MAX_INT32]]
    for value, num in counts.items():
        update_critical_paths(paths, value, num)
    return paths


def pts_update(state: SpreadFilterState | None, pod: Pod, other: Pod, node: Node, delta: int,
               view: ClusterView) -> None:
    """AddPod (``delta`` 1) / RemovePod (-1) of ``other`` on ``node`` (filtering.go updateWithPod): same
    namespace as the pod being scheduled, a node with every constraint's key, then per constraint whose
    selector matches and whose inclusion policies admit the node. Terminating pods count here."""
    if state is None or other.namespace != pod.namespace or not has_all_keys(node, state.constraints):
        return
    for i, c in enumerate(state.constraints):
        if not c.selector.matches(other.labels) or not c.includes(pod, node):
            continue
        value = node.labels[c.key]
        state.counts[i][value] = state.counts[i].get(value, 0) + delta
        update_critical_paths(state.paths[i], value, state.counts[i][value])


def pts_pre_filter(pod: Pod, view: ClusterView):
    """filtering.go PreFilter / calPreFilterState over every snapshot node. Returns ("skip", None, None),
    ("ok", None, state) or ("error", message, None)."""
    try:
        constraints = spread_constraints(pod, view.args.get("PodTopologySpread"), view.objects, "DoNotSchedule")
    except SelectorError as exc:
        message = f"calculating preFilterState: get constraints from pod: obtaining pod's hard topology spread " \
                  f"constraints: {exc}"
        return "error", message, None
    if not constraints:
        return "skip", None, None
    counts: list[dict[str, int]] = [{} for _ in constraints]
    for node in view.nodes:
        if not has_all_keys(node, constraints):  # a node missing any key counts for no constraint
            continue
        for i, c in enumerate(constraints):
            if not c.includes(pod, node):
                continue
            value = node.labels[c.key]
            counts[i][value] = counts[i].get(value, 0) + count_matching(view.pods_on(node), c.selector, pod.namespace)
    return "ok", None, SpreadFilterState(constraints, counts, [critical_paths(c) for c in counts])


def pts_filter(state: SpreadFilterState | None, pod: Pod, node: Node) -> list[str]:
    """filtering.go Filter: every hard constraint, first failure wins; policies are not applied to ``node``."""
    if state is None:
        return []
    for c, counts, paths in zip(state.constraints, state.counts, state.paths):
        if c.key not in node.labels:
            return [R_SPREAD_LABEL]
        min_match = paths[0][1] if len(counts) >= c.min_domains else 0
        self_match = 1 if c.selector.matches(pod.labels) else 0
        if counts.get(node.labels[c.key], 0) + self_match - min_match > c.max_skew:
            return [R_SPREAD]
    return []


@dataclass
class SpreadScoreState:
    constraints: list[SpreadConstraint]
    ignored: set[str]
    counts: list[dict[str, int]]  # per constraint: domain -> matching pods ({} for hostname constraints)
    sizes: list[int]  # the size given to topologyNormalizingWeight
    weights: list[float]


def pts_pre_score(pod: Pod, view: ClusterView, feasible: list[Node]):
    """scoring.go PreScore / initPreScoreState over the feasible nodes; counts over every snapshot node.
    Returns ("skip", None, None), ("ok", None, state) or ("error", message, None)."""
    if not view.nodes:
        return "skip", None, None
    args = view.args.get("PodTopologySpread")
    try:
        constraints = spread_constraints(pod, args, view.objects, "ScheduleAnyway")
    except SelectorError as exc:
        return "error", f"calculating preScoreState: obtaining pod's soft topology spread constraints: {exc}", None
    if not constraints:
        return "skip", None, None
    system_defaulted = spread_args(args)[0] == "System"
    require_all = bool(_spec(pod).get("topologySpreadConstraints")) or not system_defaulted
    ignored: set[str] = set()
    counts: list[dict[str, int]] = [{} for _ in constraints]
    for node in feasible:  # domains come from the feasible, non-ignored nodes
        if require_all and not has_all_keys(node, constraints):
            ignored.add(node.name)
            continue
        for i, c in enumerate(constraints):
            if c.key != HOSTNAME:
                counts[i].setdefault(node.labels.get(c.key, ""), 0)
    sizes = [len(feasible) - len(ignored) if c.key == HOSTNAME else len(counts[i]) for i, c in enumerate(constraints)]
    for node in view.nodes:  # pods on every node count, feasible or not
        if require_all and not has_all_keys(node, constraints):
            continue
        for i, c in enumerate(constraints):
            value = node.labels.get(c.key, "")
            if c.includes(pod, node) and value in counts[i]:
                counts[i][value] += count_matching(view.pods_on(node), c.selector, pod.namespace)
    weights = [math.log(size + 2) for size in sizes]
    return "ok", None, SpreadScoreState(constraints, ignored, counts, sizes, weights)


def go_round(x: float) -> int:
    """math.Round: half away from zero."""
    t = math.trunc(x)
    if abs(x - t) >= 0.5:
        t += math.copysign(1, x)
    return int(t)


def pts_score(state: SpreadScoreState, pod: Pod, node: Node, view: ClusterView) -> int:
    """scoring.go Score: Σ count × weight + (maxSkew − 1) over the constraints whose key the node has."""
    if node.name in state.ignored:
        return 0
    score = 0.0
    for i, c in enumerate(state.constraints):
        if c.key not in node.labels:
            continue
        if c.key == HOSTNAME:  # this node's own pods, inclusion policies not applied
            count = count_matching(view.pods_on(node), c.selector, pod.namespace)
        else:
            count = state.counts[i][node.labels[c.key]]
        score += float(count) * state.weights[i] + float(c.max_skew - 1)
    return go_round(score)


def pts_normalize(state: SpreadScoreState, names: list[str], raw: list[int]) -> list[int]:
    """scoring.go NormalizeScore: fewer matching pods scores higher; ignored nodes get 0."""
    kept = [s for n, s in zip(names, raw) if n not in state.ignored]
    top, low = max([0, *kept]), min(kept, default=2**63 - 1)
    out = []
    for name, s in zip(names, raw):
        if name in state.ignored:
            out.append(0)
        elif top == 0:
            out.append(MAX_NODE_SCORE)
        else:
            out.append(MAX_NODE_SCORE * (top + low - s) // top)
    return out


# --- InterPodAffinity (interpodaffinity/{filtering,scoring,plugin}.go, framework/types.go) ------------------

R_POD_AFFINITY = "node(s) didn't match pod affinity rules"
R_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
R_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"


@dataclass
class AffinityTerm:
    """framework.AffinityTerm: Matches(pod, nsLabels) = (namespace listed OR namespaceSelector matches
    nsLabels) AND selector matches the pod's labels."""

    namespaces: set[str]
    selector: Selector
    namespace_selector: Selector
    key: str
    weight: int = 0

    def matches(self, pod: Pod, ns_labels: dict[str, str] | None) -> bool:
        if pod.namespace in self.namespaces or self.namespace_selector.matches(ns_labels):
            return self.selector.matches(pod.labels)
        return False


def affinity_term(owner: Pod, raw: dict, weight: int = 0) -> AffinityTerm:
    """newAffinityTerm; the owner's namespace is implied only when namespaces is empty and
    namespaceSelector is nil. Raises SelectorError."""
    selector = label_selector(raw.get("labelSelector"))
    listed = raw.get("namespaces") or []
    ns_raw = raw.get("namespaceSelector")
    namespaces = {owner.namespace} if not listed and ns_raw is None else set(listed)
    return AffinityTerm(namespaces, selector, label_selector(ns_raw), raw.get("topologyKey", ""), weight)


@dataclass
class PodAffinityInfo:
    """The four term lists framework.NewPodInfo builds, and its aggregated parse error."""

    required: list[AffinityTerm]
    required_anti: list[AffinityTerm]
    preferred: list[AffinityTerm]
    preferred_anti: list[AffinityTerm]
    error: str | None = None


def pod_affinity_info(pod: Pod) -> PodAffinityInfo:
    """A kind with a parse error keeps no terms (GetAffinityTerms returns nil on the first error)."""
    affinity = _spec(pod).get("affinity") or {}
    lists, errors = [], []
    for kind, field_name, weighted, label in (
            ("podAffinity", "requiredDuringSchedulingIgnoredDuringExecution", False, "requiredAffinityTerms"),
            ("podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", False, "requiredAntiAffinityTerms"),
            ("podAffinity", "preferredDuringSchedulingIgnoredDuringExecution", True, "preferredAffinityTerms"),
            ("podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", True, "preferredAntiAffinityTerms")):
        terms = []
        try:
            for raw in (affinity.get(kind) or {}).get(field_name) or []:
                if weighted:
                    terms.append(affinity_term(pod, raw.get("podAffinityTerm") or {}, int(raw.get("weight", 0))))
                else:
                    terms.append(affinity_term(pod, raw))
        except SelectorError as exc:
            errors.append(f"{label}: {exc}")
            terms = []
        lists.append(terms)
    error = None if not errors else errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return PodAffinityInfo(*lists, error=error)


def merge_term_namespaces(term: AffinityTerm, namespaces: dict[str, dict[str, str]]) -> AffinityTerm:
    """plugin.go mergeAffinityTermNamespacesIfNotEmpty: a non-Everything namespaceSelector is resolved to the
    names of the Namespace objects it matches, then becomes Nothing."""
    if term.namespace_selector.empty:
        return term
    names = {name for name, labels in namespaces.items() if term.namespace_selector.matches(labels)}
    return AffinityTerm(term.namespaces | names, term.selector, NOTHING, term.key, term.weight)


def add_count(counts: dict[tuple[str, str], int], node: Node, key: str, value: int = 1) -> None:
    """topologyToMatchedTermCount.update: only when the node has the key."""
    if key in node.labels:
        pair = (key, node.labels[key])
        counts[pair] = counts.get(pair, 0) + value
        if counts[pair] == 0:
            del counts[pair]


def matches_all_terms(terms: list[AffinityTerm], pod: Pod) -> bool:
    """podMatchesAllAffinityTerms (nsLabels nil); false without terms."""
    return bool(terms) and all(t.matches(pod, None) for t in terms)


@dataclass
class AffinityFilterState:
    info: PodAffinityInfo  # the incoming pod's terms, namespaces merged
    existing_anti: dict[tuple[str, str], int]  # existingAntiAffinityCounts
    affinity: dict[tuple[str, str], int]  # affinityCounts
    anti: dict[tuple[str, str], int]  # antiAffinityCounts


def ipa_pre_filter(pod: Pod, view: ClusterView):
    """filtering.go PreFilter. Returns ("skip", None, None), ("ok", None, state) or ("reject", reason, None)."""
    info = pod_affinity_info(pod)
    if info.error is not None:
        return "reject", f"parsing pod: {info.error}", None
    info.required = [merge_term_namespaces(t, view.namespaces) for t in info.required]
    info.required_anti = [merge_term_namespaces(t, view.namespaces) for t in info.required_anti]
    ns_labels = view.namespaces.get(pod.namespace)
    existing_anti: dict = {}
    affinity: dict = {}
    anti: dict = {}
    for node in view.nodes:
        for existing in view.pods_on(node):
            for term in pod_affinity_info(existing).required_anti:  # symmetry: existing pods' anti-affinity
                if term.matches(pod, ns_labels):
                    add_count(existing_anti, node, term.key)
            if matches_all_terms(info.required, existing):
                for term in info.required:
                    add_count(affinity, node, term.key)
            for term in info.required_anti:
                if term.matches(existing, None):
                    add_count(anti, node, term.key)
    if not existing_anti and not info.required and not info.required_anti:
        return "skip", None, None
    return "ok", None, AffinityFilterState(info, existing_anti, affinity, anti)


def ipa_update(state: AffinityFilterState | None, pod: Pod, other: Pod, node: Node, delta: int,
               view: ClusterView) -> None:
    """AddPod/RemovePod of ``other`` on ``node`` (interpodaffinity/filtering.go updateWithPod): the counts
    PreFilter takes over every pod, for this one pod."""
    if state is None:
        return
    ns_labels = view.namespaces.get(pod.namespace)
    for term in pod_affinity_info(other).required_anti:
        if term.matches(pod, ns_labels):
            add_count(state.existing_anti, node, term.key, delta)
    if matches_all_terms(state.info.required, other):
        for term in state.info.required:
            add_count(state.affinity, node, term.key, delta)
    for term in state.info.required_anti:
        if term.matches(other, None):
            add_count(state.anti, node, term.key, delta)


def satisfies_pod_affinity(state: AffinityFilterState, pod: Pod, node: Node) -> bool:
    pods_exist = True
    for term in state.info.required:
        if term.key not in node.labels:
            return False
        if state.affinity.get((term.key, node.labels[term.key]), 0) <= 0:
            pods_exist = False
    # the first pod of a group that has affinity to itself may go anywhere the keys exist
    return pods_exist or (not state.affinity and matches_all_terms(state.info.required, pod))


def satisfies_pod_anti_affinity(state: AffinityFilterState, node: Node) -> bool:
    if not state.anti:
        return True
    return not any(term.key in node.labels and state.anti.get((term.key, node.labels[term.key]), 0) > 0
                   for term in state.info.required_anti)


def satisfies_existing_anti_affinity(state: AffinityFilterState, node: Node) -> bool:
    if not state.existing_anti:
        return True
    return not any(state.existing_anti.get(pair, 0) > 0 for pair in node.labels.items())


def ipa_filter(state: AffinityFilterState | None, pod: Pod, node: Node) -> list[str]:
    """filtering.go Filter: affinity, then anti-affinity, then existing pods' anti-affinity."""
    if state is None:
        return []
    if not satisfies_pod_affinity(state, pod, node):
        return [R_POD_AFFINITY]
    if not satisfies_pod_anti_affinity(state, node):
        return [R_POD_ANTI_AFFINITY]
    if not satisfies_existing_anti_affinity(state, node):
        return [R_EXISTING_ANTI_AFFINITY]
    return []


def affinity_args(args: dict | None) -> tuple[int, bool]:
    """(hardPodAffinityWeight, ignorePreferredTermsOfExistingPods) with v1 defaults."""
    args = args or {}
    weight = args.get("hardPodAffinityWeight")
    return (1 if weight is None else int(weight)), bool(args.get("ignorePreferredTermsOfExistingPods", False))


def _score_term(scores: dict[str, dict[str, int]], term: AffinityTerm, weight: int, pod: Pod,
                ns_labels, node: Node, sign: int) -> None:
    """scoreMap.processTerm."""
    if term.matches(pod, ns_labels) and term.key in node.labels:
        by_value = scores.setdefault(term.key, {})
        value = node.labels[term.key]
        by_value[value] = by_value.get(value, 0) + weight * sign


def ipa_pre_score(pod: Pod, view: ClusterView, feasible: list[Node]):
    """scoring.go PreScore: topologyScore[key][value] from every existing pod (the feasible nodes do not
    restrict which pods count). Returns ("skip", None, None), ("ok", None, scores) or ("error", msg, None)."""
    if not feasible:
        return "skip", None, None
    hard_weight, ignore_existing_preferred = affinity_args(view.args.get("InterPodAffinity"))
    affinity = _spec(pod).get("affinity") or {}
    has_constraints = bool(((affinity.get("podAffinity") or {}).get("preferredDuringSchedulingIgnoredDuringExecution"))
                           or ((affinity.get("podAntiAffinity") or {})
                               .get("preferredDuringSchedulingIgnoredDuringExecution")))
    if ignore_existing_preferred and not has_constraints:
        return "skip", None, None
    info = pod_affinity_info(pod)
    if info.error is not None:
        return "error", f"failed to parse pod: {info.error}", None
    preferred = [merge_term_namespaces(t, view.namespaces) for t in info.preferred]
    preferred_anti = [merge_term_namespaces(t, view.namespaces) for t in info.preferred_anti]
    ns_labels = view.namespaces.get(pod.namespace)
    scores: dict[str, dict[str, int]] = {}
    for node in view.nodes:
        if not node.labels:
            continue
        for existing in view.pods_on(node):
            other = pod_affinity_info(existing)
            for term in preferred:
                _score_term(scores, term, term.weight, existing, None, node, 1)
            for term in preferred_anti:
                _score_term(scores, term, term.weight, existing, None, node, -1)
            if hard_weight > 0:
                for term in other.required:
                    _score_term(scores, term, hard_weight, pod, ns_labels, node, 1)
            for term in other.preferred:
                _score_term(scores, term, term.weight, pod, ns_labels, node, 1)
            for term in other.preferred_anti:
                _score_term(scores, term, term.weight, pod, ns_labels, node, -1)
    if not scores:
        return "skip", None, None
    return "ok", None, scores


def ipa_score(scores: dict[str, dict[str, int]], node: Node) -> int:
    return sum(by_value.get(node.labels[key], 0) for key, by_value in scores.items() if key in node.labels)


def ipa_normalize(raw: list[int]) -> list[int]:
    """scoring.go NormalizeScore: (s − min) / (max − min) × 100 in float64, truncated; all 0 when flat."""
    if not raw:
        return []
    low, high = min(raw), max(raw)
    if high - low <= 0:
        return [0 for _ in raw]
    return [int(float(MAX_NODE_SCORE) * (float(s - low) / float(high - low))) for s in raw]


# --- cross-node plugins in the cycle ---------------------------------------------------------------------
# Each PreFilter returns (code, payload, state); Filter gets that state; PreScore gets the feasible nodes and
# returns (code, payload, state); Score and NormalizeScore get the PreScore state.

@dataclass(frozen=True)
class CrossNodePlugin:
    pre_filter: object
    filter: object
    pre_score: object
    score: object  # (state, pod, node, view) -> raw score
    normalize: object  # (state, names, raw) -> normalized scores
    update: object  # PreFilterExtensions: (state, pod, other pod, its node, +1 AddPod / -1 RemovePod, view)


CROSS_NODE = {
    "PodTopologySpread": CrossNodePlugin(pts_pre_filter, pts_filter, pts_pre_score, pts_score, pts_normalize,
                                         pts_update),
    "InterPodAffinity": CrossNodePlugin(ipa_pre_filter, ipa_filter, ipa_pre_score,
                                        lambda state, pod, node, view: ipa_score(state, node),
                                        lambda state, names, raw: ipa_normalize(raw), ipa_update),
}


# --- the cycle -------------------------------------------------------------------------------------

def num_feasible_nodes_to_find(percentage: int, num_nodes: int) -> int:
    if num_nodes < 100:
        return num_nodes
    if percentage == 0:
        percentage = max(50 - num_nodes // 125, 5)
    return max(num_nodes * percentage // 100, 100)


@dataclass
class CycleResult:
    node: str | None
    message: str | None
    candidates: list[str]  # node names after PreFilter narrowing (all when not narrowed)
    narrowed: bool
    reject: tuple[str, str] | None  # (plugin, reason) when PreFilter rejected the pod
    status: dict[str, tuple[str, list[str]] | None]  # candidate -> (plugin, reasons), None when feasible
    feasible: list[str]  # the feasible nodes the cycle found, in visit order
    scores: dict[str, dict[str, dict[str, int]]]  # node -> plugin -> raw/normalized/weight (when scored)
    totals: dict[str, int]
    codes: dict[str, str] = field(default_factory=dict)  # failed candidate -> its Filter status code
    pre_filter: PreFilterOutcome | None = None
    error: bool = False  # the cycle ended with an Error status (no PostFilter runs)


@dataclass
class BatchState:
    next_start: int = 0
    rng: list[int] = field(default_factory=lambda: [0])
    ties_first: bool = False  # selectHost keeps the first best node in visit order (runtime.TIES_FIRST)


def gate_message(profile, pod: Pod) -> str | None:
    has_gates_plugin = any(profile.plugins[i].name == "SchedulingGates" for i in profile.points["preEnqueue"])
    if has_gates_plugin and pod.scheduling_gates:
        return f"waiting for scheduling gates: [{' '.join(pod.scheduling_gates)}]"
    return None


def no_profile_message(pod: Pod) -> str:
    return (f'no profile for schedulerName "{pod.scheduler_name}": kube-scheduler leaves the pod pending for '
            "another scheduler")


@dataclass
class PreFilterOutcome:
    """What PreFilter left for Filter: plugins to skip, cross-node plugins' states, the PreFilterResult."""

    skip: set[int]
    states: dict[str, object]
    allowed: set[str] | None
    no_state: set[int]  # Filter plugins whose PreFilter is not enabled but whose Filter needs its state
    reject: tuple[str, str] | None = None  # (plugin, reason) of a rejecting PreFilter
    error: bool = False  # the rejection is an Error status, not a FitError


def run_pre_filter(profile, pod: Pod, view: ClusterView) -> PreFilterOutcome:
    plugins = profile.plugins
    outcome = PreFilterOutcome(set(), {}, None, {i for i in profile.points["filter"]
                                                if i not in profile.points["preFilter"]
                                                and plugins[i].missing_pre_filter_state})
    for i in profile.points["preFilter"]:
        name = plugins[i].name
        if name in CROSS_NODE:
            code, payload, outcome.states[name] = CROSS_NODE[name].pre_filter(pod, view)
        else:
            code, payload = PRE_FILTER[name](plugins[i], pod)
        if code == "skip":
            outcome.skip.add(i)
        elif code in ("reject", "error"):
            outcome.reject, outcome.error = (name, payload), code == "error"
            return outcome
        elif code == "nodes":
            outcome.allowed = payload if outcome.allowed is None else outcome.allowed & payload
    return outcome


def filter_node(profile, pod: Pod, node: Node, usage: Usage, pre: PreFilterOutcome,
                states: dict[str, object] | None = None) -> tuple[str, list[str]] | None:
    """RunFilterPlugins on one node: the first failing plugin and its reasons, None when all pass.
    ``states`` replaces the cross-node plugins' PreFilter states (after AddPod/RemovePod)."""
    states = pre.states if states is None else states
    for i in profile.points["filter"]:
        if i in pre.skip:
            continue
        name = profile.plugins[i].name
        if i in pre.no_state:
            return name, [profile.state_error(i)]
        if name in CROSS_NODE:  # no PreFilter state (PreFilter disabled): passes
            reasons = CROSS_NODE[name].filter(states.get(name), pod, node)
        else:
            reasons = FILTER[name](profile.plugins[i], pod, node, usage)
        if reasons:
            return name, reasons
    return None


def usage_of(pods: list[Pod]) -> Usage:
    """A node's usage holding exactly ``pods``."""
    usage = Usage()
    for pod in pods:
        usage.add(pod)
    return usage


def view_with_pods(view: ClusterView, node: Node, pods: list[Pod]) -> ClusterView:
    """``view`` with ``pods`` (and only them) on ``node``: the NodeInfo copy AddPod/RemovePod edit."""
    return dataclasses.replace(view, usage={**view.usage, node.name: usage_of(pods)})


def edit_states(profile, pod: Pod, states: dict[str, object], pre: PreFilterOutcome, other: Pod, node: Node,
                delta: int, view: ClusterView) -> None:
    """RunPreFilterExtensionAddPod (``delta`` 1) / RemovePod (-1) on ``states`` (a copy the caller
    owns): each cross-node plugin whose PreFilter did not return Skip updates its state for ``other``."""
    for i in profile.points["preFilter"]:
        name = profile.plugins[i].name
        if name in CROSS_NODE and i not in pre.skip:
            CROSS_NODE[name].update(states.get(name), pod, other, node, delta, view)


def nominated_here(pod: Pod, node: Node, nominated: list[Pod]) -> list[Pod]:
    """addGENominatedPods (framework/runtime/framework.go): the pods nominated to ``node`` with a priority
    equal to or higher than ``pod``'s, other than ``pod`` itself."""
    return [q for q in nominated if q.nominated_node == node.name and q.priority >= pod.priority and q.key != pod.key]


def filter_with_nominated(profile, pod: Pod, node: Node, view: ClusterView, pre: PreFilterOutcome,
                          nominated: list[Pod], states: dict[str, object] | None = None
                          ) -> tuple[str, list[str]] | None:
    """RunFilterPluginsWithNominatedPods: with the higher-or-equal priority pods nominated to the node
    added first, and, when they were and the node passed, once more without them."""
    states = pre.states if states is None else states
    extra = nominated_here(pod, node, nominated)
    if extra:
        with_extra = view_with_pods(view, node, view.pods_on(node) + extra)
        added = copy.deepcopy(states)
        for other in extra:
            edit_states(profile, pod, added, pre, other, node, 1, with_extra)
        status = filter_node(profile, pod, node, with_extra.usage[node.name], pre, added)
        if status is not None:
            return status
    return filter_node(profile, pod, node, view.usage[node.name], pre, states)


def status_code(profile, pod: Pod, node: Node, plugin: str, reasons: list[str]) -> str:
    """The failing Filter status's code. Unresolvable: the node-level plugins; NodeResourcesFit when a
    request exceeds the node's whole allocatable; PodTopologySpread's missing label; InterPodAffinity's
    affinity rules. Everything else is Unschedulable (preemption may help)."""
    if plugin in ("NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity"):
        return "UnschedulableAndUnresolvable"
    if plugin == "NodeResourcesFit":
        fit = profile.plugins[profile.plugin_index(plugin)]
        for reason in reasons:
            resource = reason[len("Insufficient "):] if reason.startswith("Insufficient ") else None
            if resource is None:
                continue
            if is_extended(resource) and (resource in fit.ignored_resources
                                          or resource.split("/")[0] in fit.ignored_groups):
                continue
            if pod.requests.get(resource, 0) > node.allocatable.get(resource, 0):
                return "UnschedulableAndUnresolvable"
        return "Unschedulable"
    if plugin == "PodTopologySpread" and R_SPREAD_LABEL in reasons:
        return "UnschedulableAndUnresolvable"
    if plugin == "InterPodAffinity" and R_POD_AFFINITY in reasons:
        return "UnschedulableAndUnresolvable"
    if any(reason.startswith("running ") for reason in reasons):
        return "Error"
    return "Unschedulable"


def run_cycle(profile, nodes: list[Node], usage: dict[str, Usage], pod: Pod, batch: BatchState,
              view: ClusterView | None = None, nominated: list[Pod] | None = None) -> CycleResult:
    """One scheduling cycle for ``pod`` over ``nodes`` (snapshot order); updates ``batch``. ``view`` (default:
    these nodes and usage, no namespaces, objects or args) is what cross-node plugins read; ``nominated``
    the pending pods holding a nominated node (status.nominatedNodeName)."""
    result = CycleResult(None, None, [], False, None, {}, [], {}, {})
    num_all = len(nodes)
    if num_all == 0:
        result.message = NO_NODES
        return result
    if view is None:
        view = ClusterView(nodes, usage)
    nominated = nominated or []

    pre = run_pre_filter(profile, pod, view)
    result.pre_filter = pre
    if pre.reject is not None:
        name, payload = pre.reject
        result.reject = pre.reject
        result.message = f'running PreFilter plugin "{name}": {payload}' if pre.error else \
            f"0/{num_all} nodes are available: {payload}."
        result.error = pre.error
        return result
    candidates = [n for n in nodes if pre.allowed is None or n.name in pre.allowed]
    result.narrowed = pre.allowed is not None
    result.candidates = [n.name for n in candidates]

    # The nominated node first (schedule_one.go evaluateNominatedNode): when it passes, it is the answer.
    by_name = {n.name: n for n in candidates}
    if pod.nominated_node in by_name and not pre.no_state:
        node = by_name[pod.nominated_node]
        if filter_with_nominated(profile, pod, node, view, pre, nominated) is None:
            for n in candidates:
                result.status[n.name] = None if n.name == node.name else \
                    filter_with_nominated(profile, pod, n, view, pre, nominated)
            result.feasible, result.node = [node.name], node.name
            return result

    # Filter (every candidate is evaluated so explain can show it; only visited ones decide). A plugin
    # whose Filter needs its PreFilter's state, PreFilter not enabled, returns an Error on any node it
    # reaches: no node can pass it, so every node is visited and the cycle ends with that error.
    plugins = profile.plugins
    no_state_names = {plugins[i].name for i in pre.no_state}
    filter_error = None
    for node in candidates:
        status = result.status[node.name] = filter_with_nominated(profile, pod, node, view, pre, nominated)
        if status is not None and status[0] in no_state_names and filter_error is None:
            filter_error = status[1][0]
    result.codes = {name: status_code(profile, pod, by_name[name], *status)
                    for name, status in result.status.items() if status is not None}

    count = len(candidates)
    target = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, count)
    if not profile.points["score"]:
        target = 1
    start = batch.next_start
    visited, failed = 0, []
    for j in range(count):
        node = candidates[(start + j) % count]
        visited += 1
        if result.status[node.name] is None:
            result.feasible.append(node.name)
            if len(result.feasible) >= target:
                break
        else:
            failed.append(node.name)
    batch.next_start = (start + visited) % num_all

    if filter_error:
        result.message, result.error = filter_error, True
        return result
    if not result.feasible:
        counts: dict[str, int] = {}
        for name in failed:
            for reason in result.status[name][1]:
                counts[reason] = counts.get(reason, 0) + 1
        if result.narrowed and len(failed) < num_all:
            reason = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
            counts[reason] = counts.get(reason, 0) + num_all - len(failed)
        parts = sorted(f"{c} {r}" for r, c in counts.items())
        result.message = f"0/{num_all} nodes are available:" + (f" {', '.join(parts)}." if parts else "")
        return result
    if len(result.feasible) == 1:
        result.node = result.feasible[0]
        return result

    # PreScore (over the feasible nodes; any Error ends the cycle)
    by_name = {n.name: n for n in candidates}
    feasible_nodes = [by_name[name] for name in result.feasible]
    skip_score: set[int] = set()
    score_states: dict[str, object] = {}
    for i in profile.points["preScore"]:
        plugin = plugins[i]
        if plugin.name in CROSS_NODE:
            code, payload, state = CROSS_NODE[plugin.name].pre_score(pod, view, feasible_nodes)
            if code == "error":
                result.node, result.message = None, f'running PreScore plugin "{plugin.name}": {payload}'
                result.error = True
                return result
            if code == "skip":
                skip_score.add(i)
            else:
                score_states[plugin.name] = state
        elif plugin.name in PRE_SCORE_SKIP and PRE_SCORE_SKIP[plugin.name](plugin, pod):
            skip_score.add(i)

    # Score without its PreScore state: the first such plugin fails RunScorePlugins (an Error status), or,
    # for plugins whose Score computes the state itself, scores every node 0 where PreScore would skip.
    pre_score = set(profile.points["preScore"])
    no_state = [i for i in profile.points["score"] if i not in pre_score and plugins[i].missing_pre_score_state]
    if no_state:
        result.message, result.error = profile.state_error(no_state[0]), True
        return result
    zero = {i for i in profile.points["score"] if i not in pre_score and plugins[i].name in PRE_SCORE_SKIP
            and PRE_SCORE_SKIP[plugins[i].name](plugins[i], pod)}

    # Score, NormalizeScore, weights
    totals = {name: 0 for name in result.feasible}
    scores: dict[str, dict] = {name: {} for name in result.feasible}
    for i in profile.points["score"]:
        plugin = plugins[i]
        if i in skip_score:
            continue
        if i in zero:
            raw = [0 for _ in result.feasible]
            normalized = NORMALIZE.get(plugin.name, list)(raw)
        elif plugin.name in CROSS_NODE:
            state = score_states.get(plugin.name)
            if state is None:  # PreScore disabled for the plugin: not modelled, not scored
                continue
            cross = CROSS_NODE[plugin.name]
            raw = [cross.score(state, pod, node, view) for node in feasible_nodes]
            normalized = cross.normalize(state, result.feasible, raw)
        elif plugin.name == "ImageLocality":
            raw = [image_locality_score(pod, by_name[name], nodes) for name in result.feasible]
            normalized = raw
        else:
            raw = [SCORE[plugin.name](plugin, pod, by_name[name], usage[name]) for name in result.feasible]
            normalized = NORMALIZE.get(plugin.name, list)(raw)
        weight = profile.weights[i]
        for name, r, s in zip(result.feasible, raw, normalized):
            scores[name][plugin.name] = {"raw": r, "normalized": s, "weight": weight}
            totals[name] += weight * s
    result.scores, result.totals = scores, totals

    # selectHost: highest total, ties broken by reservoir sampling in visit order (or the first one)
    best_name = result.feasible[0]
    best, ties = totals[best_name], 1
    for name in result.feasible[1:]:
        if totals[name] > best:
            best, best_name, ties = totals[name], name, 1
        elif totals[name] == best and not batch.ties_first:
            ties += 1
            if python_rand_intn(batch.rng, ties) == 0:
                best_name = name
    result.node = best_name
    return result


# --- public API --------------------------------------------------------------------------------------

def queue_order(scheduler, pods: list[Pod]) -> tuple[list[int], dict[int, str]]:
    held: dict[int, str] = {}
    queue: list[int] = []
    for row, pod in enumerate(pods):
        profile = scheduler.profiles.get(pod.scheduler_name)
        if profile is None:
            held[row] = no_profile_message(pod)
        elif gate_message(profile, pod):
            held[row] = gate_message(profile, pod)
        else:
            queue.append(row)
    queue.sort(key=lambda row: -pods[row].priority)  # stable: input order among equal priorities
    return queue, held


def plugin_args(scheduler, scheduler_name: str) -> dict[str, dict]:
    """The profile's pluginConfig args (plugin name -> dict) from the scheduler's configuration."""
    config = getattr(scheduler, "config", None)
    profile = config.profile(scheduler_name) if config is not None else None
    return dict(profile.plugin_config) if profile is not None else {}


def cluster_view(scheduler, cluster: Cluster, nodes: list[Node], usage: dict[str, Usage],
                 scheduler_name: str) -> ClusterView:
    return ClusterView(nodes, usage, dict(cluster.namespaces), [item.obj for item in cluster.others],
                       plugin_args(scheduler, scheduler_name))


def reference_schedule(scheduler, cluster: Cluster, pods: list[Pod], seed: int = 0):
    """[(pod key, node or None, message or None)] in the input order of ``pods``: the queue scheduled one
    pod after another, with PostFilter (DefaultPreemption) as ``schedkit.preemption.batch`` runs it."""
    from .preemption.batch import schedule_with_preemption

    queue, held = queue_order(scheduler, pods)
    outcome: dict[int, tuple[str | None, str | None]] = {row: (None, msg) for row, msg in held.items()}
    batch = schedule_with_preemption(scheduler, cluster, pods, queue, seed)
    for row in queue:
        outcome[row] = (batch.results[row].node, batch.results[row].message)
    return [(pod.key, *outcome[row]) for row, pod in enumerate(pods)]


def _node_entry(feasible=False, plugin=None, reasons=None, scores=None, total=None) -> dict:
    return {"feasible": feasible, "failedPlugin": plugin, "reasons": list(reasons or []),
            "scores": scores or {}, "totalScore": total}


def reference_explain(scheduler, cluster: Cluster, pod: Pod, seed: int = 0) -> dict:
    """What one cycle does with ``pod`` (other pods of the cluster in place, nothing reserved)."""
    profile = scheduler.profiles.get(pod.scheduler_name)
    held = no_profile_message(pod) if profile is None else gate_message(profile, pod)
    if held:  # the pod never enters a scheduling cycle
        return {"selectedNode": None, "message": held, "nodes": {n.name: _node_entry() for n in cluster.nodes}}
    others = dataclasses.replace(cluster, pods=[p for p in cluster.pods if p.key != pod.key])
    nodes_in_order, usage = snapshot_order(cluster.nodes), initial_usage(others)
    view = cluster_view(scheduler, others, nodes_in_order, usage, pod.scheduler_name)
    result = run_cycle(profile, nodes_in_order, usage, pod, BatchState(0, [seed]), view)
    nodes = {}
    for node in cluster.nodes:
        name = node.name
        if result.reject is not None:
            nodes[name] = _node_entry(False, result.reject[0], [result.reject[1]])
        elif name not in result.status:  # left out by NodeAffinity's PreFilterResult
            nodes[name] = _node_entry(False, "NodeAffinity", ["node(s) didn't satisfy plugin(s) [NodeAffinity]"])
        elif result.status[name] is not None:
            nodes[name] = _node_entry(False, *result.status[name])
        elif name in result.scores:
            nodes[name] = _node_entry(True, None, [], result.scores[name], result.totals[name])
        else:
            nodes[name] = _node_entry(True)
    message = result.message
    if result.node is None and not result.error and cluster.nodes:
        from .preemption.explain import explain_cycle  # PostFilter's part of the message

        message = explain_cycle(scheduler, others, pod, seed).message
    return {"selectedNode": result.node, "message": message, "nodes": nodes}


__all__ = [
    "CROSS_NODE",
    "ClusterView",
    "num_feasible_nodes_to_find",
    "reference_explain",
    "reference_schedule",
    "run_cycle",
]
