"""A small, slow, pure-Python reference of the scheduling semantics, for differential testing.

Written from the semantics notes (shared/kube-semantics.md sections 2-4, the framework facts and
tests/upstream_tables/NOTES-*.md), independently of the compiled fast path: it shares only the input
objects (``schedkit.objects``), the snapshot node order, resource classification, the parsed profile
(plugin order, weights and args) and the seeded RNG. Everything is plain dicts and lists; clarity wins
over speed.

Scope: the plugins schedkit models (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity,
NodePorts, NodeResourcesFit, NodeResourcesBalancedAllocation) plus the queue (SchedulingGates,
PrioritySort), the cycle (PreFilter narrowing, numFeasibleNodesToFind, rotating start index), scoring
and host selection.
"""

from __future__ import annotations

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

    def add(self, pod: Pod) -> None:
        for resource, amount in pod.requests.items():
            if tracked(resource):
                self.requested[resource] = self.requested.get(resource, 0) + amount
        self.nonzero_cpu += pod.nonzero_cpu
        self.nonzero_memory += pod.nonzero_memory
        self.pods += 1
        self.ports.extend(pod.host_ports)


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


@dataclass
class BatchState:
    next_start: int = 0
    rng: list[int] = field(default_factory=lambda: [0])


def gate_message(profile, pod: Pod) -> str | None:
    has_gates_plugin = any(profile.plugins[i].name == "SchedulingGates" for i in profile.points["preEnqueue"])
    if has_gates_plugin and pod.scheduling_gates:
        return f"waiting for scheduling gates: [{' '.join(pod.scheduling_gates)}]"
    return None


def no_profile_message(pod: Pod) -> str:
    return (f'no profile for schedulerName "{pod.scheduler_name}": kube-scheduler leaves the pod pending for '
            "another scheduler")


def run_cycle(profile, nodes: list[Node], usage: dict[str, Usage], pod: Pod, batch: BatchState) -> CycleResult:
    """One scheduling cycle for ``pod`` over ``nodes`` (snapshot order); updates ``batch``."""
    result = CycleResult(None, None, [], False, None, {}, [], {}, {})
    num_all = len(nodes)
    if num_all == 0:
        result.message = NO_NODES
        return result
    plugins = profile.plugins

    # PreFilter
    skip_filter: set[int] = set()
    allowed: set[str] | None = None
    for i in profile.points["preFilter"]:
        code, payload = PRE_FILTER[plugins[i].name](plugins[i], pod)
        if code == "skip":
            skip_filter.add(i)
        elif code == "reject":
            result.reject = (plugins[i].name, payload)
            result.message = f"0/{num_all} nodes are available: {payload}."
            return result
        elif code == "nodes":
            allowed = payload if allowed is None else allowed & payload
    candidates = [n for n in nodes if allowed is None or n.name in allowed]
    result.narrowed = allowed is not None
    result.candidates = [n.name for n in candidates]

    # Filter (every candidate is evaluated so explain can show it; only visited ones decide)
    for node in candidates:
        result.status[node.name] = None
        for i in profile.points["filter"]:
            if i in skip_filter:
                continue
            reasons = FILTER[plugins[i].name](plugins[i], pod, node, usage[node.name])
            if reasons:
                result.status[node.name] = (plugins[i].name, reasons)
                break

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

    # PreScore, Score, NormalizeScore, weights
    by_name = {n.name: n for n in candidates}
    totals = {name: 0 for name in result.feasible}
    scores: dict[str, dict] = {name: {} for name in result.feasible}
    for i in profile.points["score"]:
        plugin = plugins[i]
        skip = PRE_SCORE_SKIP.get(plugin.name)
        if skip is not None and i in profile.points["preScore"] and skip(plugin, pod):
            continue
        if plugin.name == "ImageLocality":
            raw = [image_locality_score(pod, by_name[name], nodes) for name in result.feasible]
        else:
            raw = [SCORE[plugin.name](plugin, pod, by_name[name], usage[name]) for name in result.feasible]
        normalized = NORMALIZE.get(plugin.name, list)(raw)
        weight = profile.weights[i]
        for name, r, s in zip(result.feasible, raw, normalized):
            scores[name][plugin.name] = {"raw": r, "normalized": s, "weight": weight}
            totals[name] += weight * s
    result.scores, result.totals = scores, totals

    # selectHost: highest total, ties broken by reservoir sampling in visit order
    best_name = result.feasible[0]
    best, ties = totals[best_name], 1
    for name in result.feasible[1:]:
        if totals[name] > best:
            best, best_name, ties = totals[name], name, 1
        elif totals[name] == best:
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


def reference_schedule(scheduler, cluster: Cluster, pods: list[Pod], seed: int = 0):
    """[(pod key, node or None, message or None)] in the input order of ``pods``."""
    nodes = snapshot_order(cluster.nodes)
    usage = initial_usage(cluster)
    batch = BatchState(0, [seed])
    queue, held = queue_order(scheduler, pods)
    outcome: dict[int, tuple[str | None, str | None]] = {row: (None, msg) for row, msg in held.items()}
    for row in queue:
        pod = pods[row]
        result = run_cycle(scheduler.profiles[pod.scheduler_name], nodes, usage, pod, batch)
        if result.node is not None:
            usage[result.node].add(pod)
        outcome[row] = (result.node, result.message)
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
    others = Cluster(cluster.nodes, [p for p in cluster.pods if p.key != pod.key])
    result = run_cycle(profile, snapshot_order(cluster.nodes), initial_usage(others), pod, BatchState(0, [seed]))
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
    return {"selectedNode": result.node, "message": result.message, "nodes": nodes}


__all__ = ["num_feasible_nodes_to_find", "reference_explain", "reference_schedule", "run_cycle"]
