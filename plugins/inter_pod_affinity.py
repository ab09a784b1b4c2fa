"""InterPodAffinity: required pod affinity / anti-affinity (Filter) and preferred terms (Score).

Upstream v1.36: pkg/scheduler/framework/plugins/interpodaffinity/{filtering,scoring,plugin}.go and
pkg/scheduler/framework/types.go (``AffinityTerm.Matches``). Filter, in order: the incoming pod's
required affinity (every term's key on the node and a matching pod in the node's domain, unless no pod
anywhere matches and the pod matches its own terms: the first pod of a group), its required
anti-affinity, and existing pods' required anti-affinity against it (symmetry). Score sums, per
(topologyKey, value), the incoming pod's preferred terms over existing pods, existing pods' required
affinity terms (``hardPodAffinityWeight``) and preferred terms that match the incoming pod; NormalizeScore
maps min..max to 0..100 in float64.

Columns: a "predicate" is a conjunction of (namespaces, label selector) terms over pods; the plugin keeps
per predicate and node how many pods match it, and per existing-pod term and node how many pods carry it
(and the sum of their weights). Reserve adds the placed pod to both, so each pod's PreFilter and PreScore
cost a pass over the nodes per term instead of a scan over every pod.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from schedkit.errors import InputError
from schedkit.framework.config import check_fields
from schedkit.framework.plugin import SKIP, SUCCESS, Code, Kernels, Plugin, kernel
from schedkit.nodeselector import _valid_value, node_label
from schedkit.podselector import NOTHING, LabelSelector, parse_label_selector

ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
CODE_AFFINITY, CODE_ANTI, CODE_EXISTING_ANTI = 1, 2, 3

# Kinds of existing-pod terms.
REQ_ANTI, REQ_AFF, PREF = 0, 1, 2

# The incoming pods' own terms, CSR per pod: predicates are rows of pred_count, keys label-key ids.
IncomingTerms = namedtuple(
    "IncomingTerms",
    [
        "aff_indptr",  # int64 [pods + 1]: required affinity terms
        "aff_key",  # int64 [affinity terms]: topology key
        "all_pred",  # int64 [pods]: the predicate of all the pod's required affinity terms together, -1 none
        "self_match_all",  # bool [pods]: the pod matches its own required affinity terms (the first of a group)
        "anti_indptr",  # int64 [pods + 1]: required anti-affinity terms
        "anti_pred",  # int64 [anti-affinity terms]: each term's predicate
        "anti_key",  # int64 [anti-affinity terms]: topology key
        "pref_indptr",  # int64 [pods + 1]: preferred terms, affinity then anti-affinity
        "pref_pred",  # int64 [preferred terms]: each term's predicate
        "pref_key",  # int64 [preferred terms]: topology key
        "pref_weight",  # int64 [preferred terms]: weight, negative for anti-affinity
    ],
)

# The existing-pod terms that match each incoming pod (against its namespace's labels), CSR.
MatchingTerms = namedtuple(
    "MatchingTerms",
    [
        "indptr",  # int64 [pods + 1]
        "terms",  # int64 [matches]: existing-term rows (of term_count)
    ],
)

# What Reserve adds for each incoming pod, CSR.
AffinityReserve = namedtuple(
    "AffinityReserve",
    [
        "pred_indptr",  # int64 [pods + 1]: CSR over preds
        "preds",  # int64 [matches]: the predicates the pod matches (rows of pred_count)
        "own_indptr",  # int64 [pods + 1]: CSR over own_terms and own_weights
        "own_terms",  # int64 [own terms]: the pod's own terms as existing-term rows
        "own_weights",  # int64 [own terms]: their weights (0 for required terms, negative for anti-affinity)
    ],
)

# Per-pod scratch space: one slot per term a pod's PreFilter or PreScore looks at.
AffinityScratch = namedtuple(
    "AffinityScratch",
    [
        "maps",  # int64 [slots, label values]: matching pods (PreFilter) or weights (PreScore) per topology value
        "stamps",  # int64 [slots, label values]: the stamp of the pass that set maps
        "totals",  # int64 [5]: PreFilter's entries for affinity, anti-affinity and existing anti-affinity
        # terms, then its existing anti-affinity slots; PreScore's slots used
        "slots",  # int64 [slots]: the existing-term row of each slot (PreScore: -1 - row of the pod's own terms)
        "stamp",  # int64 [1]: current pass
        "hard_weight",  # int64 [1]: hardPodAffinityWeight
        "ignore_existing",  # bool [1]: ignorePreferredTermsOfExistingPods
    ],
)

InterPodAffinityState = namedtuple(
    "InterPodAffinityState",
    [
        "pred_count",  # int64 [predicates, nodes]: pods on the node matching each predicate
        "term_count",  # int64 [existing terms, nodes]: pods on the node carrying each existing-pod term
        "term_weight",  # int64 [existing terms, nodes]: the sum of those pods' weights for the term
        "term_kind",  # int64 [existing terms]: REQ_ANTI, REQ_AFF or PREF
        "term_key",  # int64 [existing terms]: topology key (label-key id)
        "pod_terms",  # IncomingTerms
        "matching",  # MatchingTerms
        "reserve",  # AffinityReserve
        "scratch",  # AffinityScratch
    ],
)


@dataclass(frozen=True)
class Term:
    """An AffinityTerm: namespaces (None: every namespace), a namespace selector (NOTHING when unused),
    a label selector and a topology key."""

    namespaces: frozenset[str] | None
    namespace_selector: LabelSelector
    selector: LabelSelector
    key: str

    def matches(self, namespace: str, labels: dict[str, str], namespace_labels: dict[str, str] | None) -> bool:
        in_namespace = (self.namespaces is None or namespace in self.namespaces
                        or self.namespace_selector.matches(namespace_labels or {})
                        or self.namespace_selector.empty)
        return in_namespace and self.selector.matches(labels)


def _check_values(raw_selector, pod, path: str) -> None:
    """API validation (ValidateLabelSelector): label values must be valid; such pods never reach upstream's
    scheduler through the API, so schedkit rejects them as input."""
    for i, expression in enumerate((raw_selector or {}).get("matchExpressions") or []):
        for j, value in enumerate(expression.get("values") or []):
            if not _valid_value(str(value)):
                raise InputError(f'Invalid value: "{value}": a valid label must be an empty string or consist of '
                                 "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                                 "alphanumeric character", pod.source or None,
                                 f"{path}.labelSelector.matchExpressions[{i}].values[{j}]")


def _parse_term(raw: dict, pod, path: str = "") -> Term:
    """PodAffinityTerm -> Term, with matchLabelKeys/mismatchLabelKeys merged as the API server does."""
    _check_values(raw.get("labelSelector"), pod, path)
    selector = parse_label_selector(raw.get("labelSelector"))
    extra = tuple((k, "In", (pod.labels[k],)) for k in raw.get("matchLabelKeys") or [] if k in pod.labels)
    extra += tuple((k, "NotIn", (pod.labels[k],)) for k in raw.get("mismatchLabelKeys") or [] if k in pod.labels)
    selector = selector.with_requirements(extra)
    names = frozenset(str(n) for n in raw.get("namespaces") or [])
    ns_raw = raw.get("namespaceSelector")
    ns_selector = parse_label_selector(ns_raw) if ns_raw is not None else NOTHING
    if not names and ns_raw is None:
        names = frozenset([pod.namespace])
    return Term(names, ns_selector, selector, str(raw.get("topologyKey", "")))


def pod_terms(pod) -> dict[str, list]:
    """The pod's terms by kind: required/preferred affinity/anti-affinity ((weight, Term) when preferred)."""
    affinity = (pod.raw.get("spec") or {}).get("affinity") or {}
    result: dict[str, list] = {}
    for kind, field in (("affinity", "podAffinity"), ("anti", "podAntiAffinity")):
        spec = affinity.get(field) or {}
        base = f"spec.affinity.{field}"
        result[f"required_{kind}"] = [
            _parse_term(t, pod, f"{base}.requiredDuringSchedulingIgnoredDuringExecution[{i}]")
            for i, t in enumerate(spec.get("requiredDuringSchedulingIgnoredDuringExecution") or [])]
        result[f"preferred_{kind}"] = [
            (int(t.get("weight", 0)), _parse_term(
                t.get("podAffinityTerm") or {}, pod,
                f"{base}.preferredDuringSchedulingIgnoredDuringExecution[{i}].podAffinityTerm"))
            for i, t in enumerate(spec.get("preferredDuringSchedulingIgnoredDuringExecution") or [])]
    return result


def _resolve_namespaces(term: Term, namespaces: dict[str, dict[str, str]]) -> Term:
    """mergeAffinityTermNamespacesIfNotEmpty: a non-empty namespaceSelector becomes the names it selects
    among the Namespace objects; {} stays (every namespace)."""
    if term.namespace_selector.empty or term.namespace_selector.requirements is None:
        return term
    chosen = {name for name, labels in namespaces.items() if term.namespace_selector.matches(labels)}
    return Term(frozenset(term.namespaces | chosen), NOTHING, term.selector, term.key)


# ---- kernels ----------------------------------------------------------------------------------

@kernel
def _domain_pass(nodes, key, per_node, row, maps, stamps, slot, now, weight):
    """maps[slot, value] += weight * per_node[row, n] over nodes with the key; returns how many nodes
    contributed (entries created)."""
    entries = 0
    for n in range(nodes.allocatable.shape[0]):
        c = per_node[row, n]
        if c == 0:
            continue
        v = node_label(nodes, n, key)
        if v < 0:
            continue
        if stamps[slot, v] != now:
            stamps[slot, v] = now
            maps[slot, v] = 0
        maps[slot, v] += weight * c
        entries += 1
    return entries


@kernel
def _value(maps, stamps, slot, v, now):
    if v < 0 or stamps[slot, v] != now:
        return 0
    return maps[slot, v]


@kernel
def _pre_filter(nodes, pods, p, state, mask):
    pred_count, term_count, term_key = state.pred_count, state.term_count, state.term_key
    pod_terms = state.pod_terms
    aff_indptr, aff_key, all_pred = pod_terms.aff_indptr, pod_terms.aff_key, pod_terms.all_pred
    anti_indptr, anti_pred, anti_key = pod_terms.anti_indptr, pod_terms.anti_pred, pod_terms.anti_key
    x_indptr, x_list = state.matching.indptr, state.matching.terms
    scratch = state.scratch
    maps, stamps, totals, slots, stamp = scratch.maps, scratch.stamps, scratch.totals, scratch.slots, scratch.stamp
    stamp[0] += 1
    now = stamp[0]
    # Existing pods' required anti-affinity terms that match this pod.
    ex_total = 0
    ex_slots = 0
    base = (aff_indptr[p + 1] - aff_indptr[p]) + (anti_indptr[p + 1] - anti_indptr[p])
    for k in range(x_indptr[p], x_indptr[p + 1]):
        x = x_list[k]
        if term_kind(state, x) != REQ_ANTI:
            continue
        slot = base + ex_slots
        slots[slot] = x
        ex_total += _domain_pass(nodes, term_key[x], term_count, x, maps, stamps, slot, now, 1)
        ex_slots += 1
    totals[2] = ex_total
    totals[3] = ex_slots
    if ex_total == 0 and aff_indptr[p] == aff_indptr[p + 1] and anti_indptr[p] == anti_indptr[p + 1]:
        return SKIP
    aff_total = 0
    for i in range(aff_indptr[p + 1] - aff_indptr[p]):
        row = aff_indptr[p] + i
        aff_total += _domain_pass(nodes, aff_key[row], pred_count, all_pred[p], maps, stamps, i, now, 1)
    anti_total = 0
    first = aff_indptr[p + 1] - aff_indptr[p]
    for i in range(anti_indptr[p + 1] - anti_indptr[p]):
        row = anti_indptr[p] + i
        anti_total += _domain_pass(nodes, anti_key[row], pred_count, anti_pred[row], maps, stamps, first + i, now, 1)
    totals[0] = aff_total
    totals[1] = anti_total
    return SUCCESS


@kernel
def term_kind(state, x):
    return state.term_kind[x]


@kernel
def _filter(nodes, pods, p, n, state):
    term_key, pod_terms, scratch = state.term_key, state.pod_terms, state.scratch
    aff_indptr, aff_key, self_match_all = pod_terms.aff_indptr, pod_terms.aff_key, pod_terms.self_match_all
    anti_indptr, anti_key = pod_terms.anti_indptr, pod_terms.anti_key
    maps, stamps, totals, slots, stamp = scratch.maps, scratch.stamps, scratch.totals, scratch.slots, scratch.stamp
    now = stamp[0]
    num_aff = aff_indptr[p + 1] - aff_indptr[p]
    missing = False
    for i in range(num_aff):
        v = node_label(nodes, n, aff_key[aff_indptr[p] + i])
        if v < 0:
            return CODE_AFFINITY
        if _value(maps, stamps, i, v, now) <= 0:
            missing = True
    if missing and not (totals[0] == 0 and self_match_all[p]):
        return CODE_AFFINITY
    num_anti = anti_indptr[p + 1] - anti_indptr[p]
    if totals[1] > 0:
        for i in range(num_anti):
            v = node_label(nodes, n, anti_key[anti_indptr[p] + i])
            if v >= 0 and _value(maps, stamps, num_aff + i, v, now) > 0:
                return CODE_ANTI
    if totals[2] > 0:
        for s in range(totals[3]):
            slot = num_aff + num_anti + s
            v = node_label(nodes, n, term_key[slots[slot]])
            if v >= 0 and _value(maps, stamps, slot, v, now) > 0:
                return CODE_EXISTING_ANTI
    return 0


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    pred_count, term_count, term_key = state.pred_count, state.term_count, state.term_key
    pod_terms = state.pod_terms
    pref_indptr, pref_pred = pod_terms.pref_indptr, pod_terms.pref_pred
    pref_key, pref_weight = pod_terms.pref_key, pod_terms.pref_weight
    x_indptr, x_list = state.matching.indptr, state.matching.terms
    scratch = state.scratch
    maps, stamps, totals, slots, stamp = scratch.maps, scratch.stamps, scratch.totals, scratch.slots, scratch.stamp
    hard_weight, ignore_existing = scratch.hard_weight, scratch.ignore_existing
    has_preferred = pref_indptr[p] != pref_indptr[p + 1]
    if ignore_existing[0] and not has_preferred:
        return SKIP
    stamp[0] += 1
    now = stamp[0]
    entries = 0
    used = 0
    for i in range(pref_indptr[p + 1] - pref_indptr[p]):
        row = pref_indptr[p] + i
        slots[used] = -1 - row  # negative: the incoming pod's own preferred term
        entries += _domain_pass(nodes, pref_key[row], pred_count, pref_pred[row], maps, stamps, used, now,
                                pref_weight[row])
        used += 1
    # The flag only decides the Skip above: with preferred terms of its own, the pod is scored against
    # existing pods' terms too (scoring.go processExistingPod never reads it).
    for k in range(x_indptr[p], x_indptr[p + 1]):
        x = x_list[k]
        kind = term_kind(state, x)
        if kind == REQ_ANTI or (kind == REQ_AFF and hard_weight[0] <= 0):
            continue
        slots[used] = x
        if kind == REQ_AFF:
            entries += _domain_pass(nodes, term_key[x], term_count, x, maps, stamps, used, now, hard_weight[0])
        else:
            # Preferred terms of existing pods: their weights (signed) summed per node.
            for n in range(nodes.allocatable.shape[0]):
                if term_count[x, n] == 0:
                    continue
                v = node_label(nodes, n, term_key[x])
                if v < 0:
                    continue
                if stamps[used, v] != now:
                    stamps[used, v] = now
                    maps[used, v] = 0
                maps[used, v] += state.term_weight[x, n]
                entries += 1
        used += 1
    totals[4] = used
    if entries == 0:
        return SKIP
    return SUCCESS


@kernel
def _score(nodes, pods, p, n, state):
    term_key = state.term_key
    pref_key = state.pod_terms.pref_key
    scratch = state.scratch
    maps, stamps, totals, slots, stamp = scratch.maps, scratch.stamps, scratch.totals, scratch.slots, scratch.stamp
    now = stamp[0]
    score = 0
    for slot in range(totals[4]):
        x = slots[slot]
        key = pref_key[-1 - x] if x < 0 else term_key[x]
        v = node_label(nodes, n, key)
        if v >= 0:
            score += _value(maps, stamps, slot, v, now)
    return score


@kernel
def _normalize(nodes, pods, p, feasible, scores, count, state):
    if count == 0:
        return
    lowest = scores[0]
    highest = scores[0]
    for j in range(count):
        lowest = min(lowest, scores[j])
        highest = max(highest, scores[j])
    spread = highest - lowest
    for j in range(count):
        if spread > 0:
            scores[j] = np.int64(100.0 * (float(scores[j] - lowest) / float(spread)))
        else:
            scores[j] = 0


@kernel
def _reserve_sign(state, p, n, sign):
    pred_count, term_count, term_weight = state.pred_count, state.term_count, state.term_weight
    reserve = state.reserve
    pred_indptr, preds = reserve.pred_indptr, reserve.preds
    own_indptr, own_terms, own_weights = reserve.own_indptr, reserve.own_terms, reserve.own_weights
    for k in range(pred_indptr[p], pred_indptr[p + 1]):
        pred_count[preds[k], n] += sign
    for k in range(own_indptr[p], own_indptr[p + 1]):
        term_count[own_terms[k], n] += sign
        term_weight[own_terms[k], n] += sign * own_weights[k]


@kernel
def _reserve(nodes, pods, p, n, state):
    _reserve_sign(state, p, n, 1)


@kernel
def _unreserve(nodes, pods, p, n, state):
    _reserve_sign(state, p, n, -1)


class InterPodAffinity(Plugin):
    name = "InterPodAffinity"
    kernels = Kernels(pre_filter=_pre_filter, filter=_filter, pre_score=_pre_score, score=_score,
                      normalize=_normalize, reserve=_reserve, unreserve=_unreserve)
    reason_table = {CODE_AFFINITY: ERR_REASON_AFFINITY, CODE_ANTI: ERR_REASON_ANTI_AFFINITY,
                    CODE_EXISTING_ANTI: ERR_REASON_EXISTING_ANTI_AFFINITY}
    # plugin.go: PreFilter, Filter, PreScore, Score; no Reserve: the affinity tables follow the pods in
    # upstream's cache. filtering.go / scoring.go getPreFilterState / getPreScoreState errors:
    reserve_keeps_cache = True
    missing_pre_filter_state = 'error reading "PreFilterInterPodAffinity" from cycleState: not found'
    missing_pre_score_state = 'failed to read "PreScoreInterPodAffinity" from cycleState: not found'
    # pkg/scheduler/framework/plugins/interpodaffinity/plugin.go EventsToRegister: assigned pods added and
    # deleted (they may satisfy an affinity term or stop violating an anti-affinity one) and nodes added.
    requeue_events = ("pod_add", "pod_delete", "node_add")

    def __init__(self, args=None):
        args = dict(args or {})
        self.hard_pod_affinity_weight = args.pop("hardPodAffinityWeight", 1)
        self.ignore_preferred_of_existing = args.pop("ignorePreferredTermsOfExistingPods", False)
        if args:
            check_fields(args, "", ("hardPodAffinityWeight", "ignorePreferredTermsOfExistingPods"))  # every key left is unknown
        weight = self.hard_pod_affinity_weight
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValueError(f"hardPodAffinityWeight: Invalid value: {weight!r}: not in valid range [0, 100]")
        if not isinstance(self.ignore_preferred_of_existing, bool):
            raise ValueError("ignorePreferredTermsOfExistingPods: expected true or false")

    def status(self, code: int) -> Code:
        return Code.UnschedulableAndUnresolvable if code == CODE_AFFINITY else Code.Unschedulable

    def prepare(self, cluster, pods, pod_columns):
        namespaces = cluster.namespaces
        everyone = list(cluster.running) + list(pods)
        running = len(cluster.running)
        num_nodes = max(cluster.num_nodes, 1)
        terms_of = [pod_terms(pod) for pod in everyone]

        # Predicates over pods: conjunctions of the incoming pods' (namespace-resolved) terms.
        predicates: dict[tuple, int] = {}

        def predicate(terms: tuple[Term, ...]) -> int:
            key = tuple((t.namespaces, t.namespace_selector, t.selector) for t in terms)
            return predicates.setdefault(key, len(predicates))

        columns = {name: [] for name in ("aff_key", "all_pred", "self_all", "anti_pred", "anti_key",
                                         "pref_pred", "pref_key", "pref_weight")}
        aff_indptr, anti_indptr, pref_indptr = [0], [0], [0]
        for i, pod in enumerate(pods):
            terms = terms_of[running + i]
            required = [_resolve_namespaces(t, namespaces) for t in terms["required_affinity"]]
            for t in required:
                columns["aff_key"].append(cluster.label_keys(t.key))
            columns["all_pred"].append(predicate(tuple(required)) if required else -1)
            columns["self_all"].append(bool(required) and all(t.matches(pod.namespace, pod.labels, None)
                                                              for t in required))
            aff_indptr.append(len(columns["aff_key"]))
            for t in terms["required_anti"]:
                t = _resolve_namespaces(t, namespaces)
                columns["anti_pred"].append(predicate((t,)))
                columns["anti_key"].append(cluster.label_keys(t.key))
            anti_indptr.append(len(columns["anti_key"]))
            for sign, kind in ((1, "preferred_affinity"), (-1, "preferred_anti")):
                for weight, t in terms[kind]:
                    t = _resolve_namespaces(t, namespaces)
                    columns["pref_pred"].append(predicate((t,)))
                    columns["pref_key"].append(cluster.label_keys(t.key))
                    columns["pref_weight"].append(sign * weight)
            pref_indptr.append(len(columns["pref_key"]))
        pred_list = list(predicates)
        pred_count = np.zeros((max(len(pred_list), 1), num_nodes), dtype=np.int64)
        pred_indptr, pred_members = [0], []
        for q, pod in enumerate(everyone):
            matched = [g for g, key in enumerate(pred_list)
                       if all(Term(ns, nss, sel, "").matches(pod.namespace, pod.labels, None) for ns, nss, sel in key)]
            if q < running:
                for g in matched:
                    pred_count[g, cluster.node_index[pod.node_name]] += 1
            else:
                pred_members.extend(matched)
                pred_indptr.append(len(pred_members))

        # Existing pods' terms (every pod may become existing once placed).
        existing: dict[tuple, int] = {}
        kinds: list[int] = []
        keys: list[int] = []
        own: list[list[tuple[int, int]]] = []
        for q, pod in enumerate(everyone):
            mine = []
            terms = terms_of[q]
            for kind, items in ((REQ_ANTI, [(0, t) for t in terms["required_anti"]]),
                                (REQ_AFF, [(0, t) for t in terms["required_affinity"]]),
                                (PREF, [(w, t) for w, t in terms["preferred_affinity"]]
                                 + [(-w, t) for w, t in terms["preferred_anti"]])):
                for weight, t in items:
                    x = existing.get((kind, t))
                    if x is None:
                        x = existing[(kind, t)] = len(kinds)
                        kinds.append(kind)
                        keys.append(cluster.label_keys(t.key))
                    mine.append((x, weight))
            own.append(mine)
        term_count = np.zeros((max(len(kinds), 1), num_nodes), dtype=np.int64)
        term_weight = np.zeros((max(len(kinds), 1), num_nodes), dtype=np.int64)
        for q in range(running):
            n = cluster.node_index[everyone[q].node_name]
            for x, weight in own[q]:
                term_count[x, n] += 1
                term_weight[x, n] += weight
        own_indptr, own_terms, own_weights = [0], [], []
        for q in range(running, len(everyone)):
            for x, weight in own[q]:
                own_terms.append(x)
                own_weights.append(weight)
            own_indptr.append(len(own_terms))
        # Which existing terms match each incoming pod (against its namespace's labels).
        term_list = list(existing)
        x_indptr, x_list = [0], []
        for pod in pods:
            labels = namespaces.get(pod.namespace, {})
            x_list.extend(x for x, (_, t) in enumerate(term_list) if t.matches(pod.namespace, pod.labels, labels))
            x_indptr.append(len(x_list))

        as_int = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
        most = 1
        for i in range(len(pods)):
            filter_slots = (aff_indptr[i + 1] - aff_indptr[i]) + (anti_indptr[i + 1] - anti_indptr[i]) \
                + (x_indptr[i + 1] - x_indptr[i])
            score_slots = (pref_indptr[i + 1] - pref_indptr[i]) + (x_indptr[i + 1] - x_indptr[i])
            most = max(most, filter_slots, score_slots)
        width = max(len(cluster.label_values), 1)
        pod_term_arrays = IncomingTerms(
            aff_indptr=as_int(aff_indptr), aff_key=as_int(columns["aff_key"]),
            all_pred=as_int(columns["all_pred"]),
            self_match_all=np.asarray(columns["self_all"], dtype=np.bool_), anti_indptr=as_int(anti_indptr),
            anti_pred=as_int(columns["anti_pred"]), anti_key=as_int(columns["anti_key"]),
            pref_indptr=as_int(pref_indptr), pref_pred=as_int(columns["pref_pred"]),
            pref_key=as_int(columns["pref_key"]), pref_weight=as_int(columns["pref_weight"]))
        scratch = AffinityScratch(
            maps=np.zeros((most, width), dtype=np.int64), stamps=np.zeros((most, width), dtype=np.int64),
            totals=np.zeros(5, dtype=np.int64), slots=np.zeros(most, dtype=np.int64),
            stamp=np.zeros(1, dtype=np.int64),
            hard_weight=np.array([self.hard_pod_affinity_weight], dtype=np.int64),
            ignore_existing=np.array([self.ignore_preferred_of_existing], dtype=np.bool_))
        return InterPodAffinityState(
            pred_count=pred_count, term_count=term_count, term_weight=term_weight, term_kind=as_int(kinds),
            term_key=as_int(keys), pod_terms=pod_term_arrays,
            matching=MatchingTerms(as_int(x_indptr), as_int(x_list)),
            reserve=AffinityReserve(as_int(pred_indptr), as_int(pred_members), as_int(own_indptr),
                                    as_int(own_terms), as_int(own_weights)),
            scratch=scratch)

