"""PodTopologySpread: keep matching pods spread across topology domains.

Upstream v1.36: pkg/scheduler/framework/plugins/podtopologyspread/{common,filtering,scoring,plugin}.go
and helper/spread.go (``DefaultSelector``). DoNotSchedule constraints filter: a node fails when
``count(domain) + selfMatch - minMatch > maxSkew`` (minMatch 0 with fewer domains than minDomains), or
``UnschedulableAndUnresolvable`` when it lacks the key. ScheduleAnyway constraints score:
``round(sum(count * ln(size + 2) + maxSkew - 1))``, normalized so fewer matching pods score higher.
Pods without constraints get the System defaults (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway)
with a selector built from the Services, ReplicationController, ReplicaSet or StatefulSet that select
or control them.

Counts are kept per (namespace, selector) and node in a matrix updated at Reserve, so PreFilter and
PreScore cost one pass over the nodes per constraint instead of a scan of every pod.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from schedkit.framework.config import check_fields
from schedkit.framework.plugin import SKIP, SUCCESS, Code, Kernels, Plugin, kernel
from schedkit.nodeselector import TermTables, node_label, term_matches
from schedkit.objects import Requirement as NodeRequirement
from schedkit.podselector import LabelSelector, parse_label_selector, selector_from_set
from schedkit.taints import tolerated, toleration_tables

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
CODE_SKEW, CODE_MISSING_LABEL = 1, 2
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
SYSTEM_DEFAULTS = ((HOSTNAME, 3), (ZONE, 5))  # plugin.go systemDefaultConstraints, ScheduleAnyway

# Columns of a constraint row.
SEL, KEY, MAX_SKEW, MIN_DOMAINS, AFFINITY_HONOR, TAINTS_HONOR, SELF_MATCH, IS_HOSTNAME = range(8)

# The pods' nodeSelector and required node affinity, for nodeAffinityPolicy: Honor. Terms are ids into
# ``terms`` (schedkit.nodeselector.TermArrays).
PodNodeAffinity = namedtuple(
    "PodNodeAffinity",
    [
        "terms",  # schedkit.nodeselector.TermArrays: every term below
        "selector_term",  # int64 [pods]: the pod's nodeSelector as a term, -1 without one
        "required_indptr",  # int64 [pods + 1]: CSR over required_terms
        "required_terms",  # int64 [required terms]: the pods' required node affinity terms (ORed)
        "has_required",  # bool [pods]: the pod has required node affinity
    ],
)

# What Reserve updates besides the counts, and the memos that let same-signature pods share domain counts.
SpreadReserve = namedtuple(
    "SpreadReserve",
    [
        "selector_indptr",  # int64 [pods + 1]: CSR over selectors
        "selectors",  # int64 [matches]: the (namespace, selector) rows of counts each pod matches
        "memo_sig",  # int64 [1]: pts_sig of the pod PreFilter's domain counts are for; -1 none yet
        "memo_pod",  # int64 [1]: that pod's row
        "pts_sig",  # int64 [pods]: equal for equal hard constraints and inclusion-policy inputs; -1 none
        "soft_memo_sig",  # int64 [1]: soft_sig of the pod PreScore's per-value totals are for; -1 none yet
        "soft_memo_pod",  # int64 [1]: that pod's row
        "soft_sig",  # int64 [pods]: the same for the soft constraints; -1 none
    ],
)

# Scratch space of one extension point: PreFilter's, or PreScore's (where dom_list holds the totals).
SpreadScratch = namedtuple(
    "SpreadScratch",
    [
        "dom_count",  # int64 [constraints, label values]: matching pods per domain (valid where stamped)
        "dom_stamp",  # int64 [constraints, label values]: the stamp of the pass that set dom_count
        "dom_list",  # int64 [constraints, label values]: PreFilter: domains seen, in order (dom_n of them);
        # PreScore: matching pods per topology value over every eligible node (the totals Score reads)
        "dom_n",  # int64 [constraints]: domains seen
        "min_match",  # int64 [constraints]: PreFilter: the fewest matching pods in a domain
        "stamp",  # int64 [1]: current pass
        "ignored",  # bool [nodes]: PreScore: left out (lacks a soft key under require_all): scores 0
        "weights",  # float64 [constraints]: PreScore: ln(domains + 2)
        "empty_value",  # int64 [1]: the label-value id of "" (a node without the key)
    ],
)

PodTopologySpreadState = namedtuple(
    "PodTopologySpreadState",
    [
        "counts",  # int64 [selectors, nodes]: non-terminating pods matching each (namespace, selector)
        "hard_indptr",  # int64 [pods + 1]: CSR over hard
        "hard",  # int64 [DoNotSchedule constraints, 8]: constraint rows (SEL ... IS_HOSTNAME)
        "soft_indptr",  # int64 [pods + 1]: CSR over soft
        "soft",  # int64 [ScheduleAnyway constraints, 8]: constraint rows
        "require_all",  # bool [pods]: requireAllTopologies: only nodes with every soft key count (not for
        # System defaults)
        "affinity",  # PodNodeAffinity: for nodeAffinityPolicy: Honor
        "tolerations",  # schedkit.taints.Tolerations: for nodeTaintsPolicy: Honor
        "reserve",  # SpreadReserve
        "pre_filter",  # SpreadScratch: PreFilter's domain counts (kept current by Reserve while memoized)
        "pre_score",  # SpreadScratch: PreScore's
    ],
)


@kernel
def _passes_policies(nodes, p, n, row, info, affinity, tolerations):
    """matchNodeInclusionPolicies: Honor on affinity needs the pod's nodeSelector and required node
    affinity to match the node; Honor on taints needs every NoSchedule/NoExecute taint tolerated."""
    if info[row, AFFINITY_HONOR]:
        tables, selector_term = affinity.terms, affinity.selector_term
        required_indptr, required_terms, has_required = (affinity.required_indptr, affinity.required_terms,
                                                         affinity.has_required)
        t_indptr, t_valid, r_key, r_op = tables.term_indptr, tables.term_valid, tables.req_key, tables.req_op
        r_num, v_indptr, values = tables.req_number, tables.value_indptr, tables.values
        t = selector_term[p]
        if t >= 0 and not term_matches(nodes, n, t, t_indptr, t_valid, r_key, r_op, r_num, v_indptr, values):
            return False
        if has_required[p]:
            ok = False
            for k in range(required_indptr[p], required_indptr[p + 1]):
                if term_matches(nodes, n, required_terms[k], t_indptr, t_valid, r_key, r_op, r_num, v_indptr, values):
                    ok = True
                    break
            if not ok:
                return False
    if info[row, TAINTS_HONOR]:
        tol_indptr, tol_key, tol_op = tolerations.indptr, tolerations.key, tolerations.operator
        tol_value, tol_effect = tolerations.value, tolerations.effect
        for t in range(nodes.taint_indptr[n], nodes.taint_indptr[n + 1]):
            effect = nodes.taint_effect[t]
            if (effect == 0 or effect == 2) and not tolerated(nodes, t, p, tol_indptr, tol_key, tol_op, tol_value,
                                                             tol_effect, False):
                return False
    return True


@kernel
def _has_all_keys(nodes, n, lo, hi, info):
    for row in range(lo, hi):
        if node_label(nodes, n, info[row, KEY]) < 0:
            return False
    return True


@kernel
def _set_min_match(p, hard_indptr, hard, dom_count, dom_list, dom_n, min_match):
    lo, hi = hard_indptr[p], hard_indptr[p + 1]
    for c in range(hi - lo):
        lowest = 2147483647  # criticalPaths start at MaxInt32
        for k in range(dom_n[c]):
            lowest = min(lowest, dom_count[c, dom_list[c, k]])
        if dom_n[c] < hard[lo + c, MIN_DOMAINS]:
            lowest = 0
        min_match[c] = lowest


@kernel
def _pre_filter(nodes, pods, p, state, mask):
    counts, hard_indptr, hard = state.counts, state.hard_indptr, state.hard
    affinity, tolerations, reserve, scratch = state.affinity, state.tolerations, state.reserve, state.pre_filter
    dom_count, dom_stamp, dom_list, dom_n = scratch.dom_count, scratch.dom_stamp, scratch.dom_list, scratch.dom_n
    min_match, stamp = scratch.min_match, scratch.stamp
    memo_sig, memo_pod, pts_sig = reserve.memo_sig, reserve.memo_pod, reserve.pts_sig
    lo, hi = hard_indptr[p], hard_indptr[p + 1]
    if lo == hi:
        return SKIP
    if pts_sig[p] >= 0 and pts_sig[p] == memo_sig[0]:
        # Same constraints and inclusion policies as the pod that built the counts: Reserve has kept
        # them current, only the minimum needs recomputing.
        _set_min_match(p, hard_indptr, hard, dom_count, dom_list, dom_n, min_match)
        return SUCCESS
    memo_sig[0] = pts_sig[p]
    memo_pod[0] = p
    stamp[0] += 1
    now = stamp[0]
    for c in range(hi - lo):
        dom_n[c] = 0
    for n in range(nodes.allocatable.shape[0]):
        if not _has_all_keys(nodes, n, lo, hi, hard):
            continue
        for c in range(hi - lo):
            row = lo + c
            if not _passes_policies(nodes, p, n, row, hard, affinity, tolerations):
                continue
            v = node_label(nodes, n, hard[row, KEY])
            if dom_stamp[c, v] != now:
                dom_stamp[c, v] = now
                dom_count[c, v] = 0
                dom_list[c, dom_n[c]] = v
                dom_n[c] += 1
            dom_count[c, v] += counts[hard[row, SEL], n]
    _set_min_match(p, hard_indptr, hard, dom_count, dom_list, dom_n, min_match)
    return SUCCESS


@kernel
def _filter(nodes, pods, p, n, state):
    hard_indptr, hard, scratch = state.hard_indptr, state.hard, state.pre_filter
    dom_count, dom_stamp, min_match, stamp = scratch.dom_count, scratch.dom_stamp, scratch.min_match, scratch.stamp
    lo, hi = hard_indptr[p], hard_indptr[p + 1]
    for c in range(hi - lo):
        row = lo + c
        v = node_label(nodes, n, hard[row, KEY])
        if v < 0:
            return CODE_MISSING_LABEL
        matching = dom_count[c, v] if dom_stamp[c, v] == stamp[0] else 0
        if matching + hard[row, SELF_MATCH] - min_match[c] > hard[row, MAX_SKEW]:
            return CODE_SKEW
    return 0


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    counts, soft_indptr, soft, require_all = state.counts, state.soft_indptr, state.soft, state.require_all
    affinity, tolerations, reserve, scratch = state.affinity, state.tolerations, state.reserve, state.pre_score
    dom_count, dom_stamp, dom_n, stamp = scratch.dom_count, scratch.dom_stamp, scratch.dom_n, scratch.stamp
    ignored, weights, empty_value = scratch.ignored, scratch.weights, scratch.empty_value
    lo, hi = soft_indptr[p], soft_indptr[p + 1]
    num_nodes = nodes.allocatable.shape[0]
    if lo == hi or num_nodes == 0:
        return SKIP
    stamp[0] += 1
    now = stamp[0]
    for c in range(hi - lo):
        dom_n[c] = 0
    kept = 0
    for j in range(count):
        n = feasible[j]
        ignored[n] = require_all[p] and not _has_all_keys(nodes, n, lo, hi, soft)
        if ignored[n]:
            continue
        kept += 1
        for c in range(hi - lo):
            if soft[lo + c, IS_HOSTNAME]:
                continue
            v = node_label(nodes, n, soft[lo + c, KEY])
            if v < 0:
                v = empty_value[0]  # Labels[key] of a node without the key is ""
            if dom_stamp[c, v] != now:
                dom_stamp[c, v] = now
                dom_count[c, v] = 0
                dom_n[c] += 1
    for c in range(hi - lo):
        size = kept if soft[lo + c, IS_HOSTNAME] else dom_n[c]
        weights[c] = math.log(size + 2)
    # Pod counts per topology value over every eligible node (only domain values are ever read). Pods
    # with the same soft constraints and policy inputs share them: Reserve keeps them current.
    totals, memo_sig, memo_pod = scratch.dom_list, reserve.soft_memo_sig, reserve.soft_memo_pod
    soft_sig = reserve.soft_sig
    if soft_sig[p] >= 0 and soft_sig[p] == memo_sig[0]:
        return SUCCESS
    memo_sig[0] = soft_sig[p]
    memo_pod[0] = p
    for c in range(hi - lo):
        for v in range(totals.shape[1]):
            totals[c, v] = 0
    for n in range(num_nodes):
        if require_all[p] and not _has_all_keys(nodes, n, lo, hi, soft):
            continue
        for c in range(hi - lo):
            row = lo + c
            if soft[row, IS_HOSTNAME] or not _passes_policies(nodes, p, n, row, soft, affinity, tolerations):
                continue
            v = node_label(nodes, n, soft[row, KEY])
            if v < 0:
                v = empty_value[0]
            totals[c, v] += counts[soft[row, SEL], n]
    return SUCCESS


@kernel
def _score(nodes, pods, p, n, state):
    counts, soft_indptr, soft, scratch = state.counts, state.soft_indptr, state.soft, state.pre_score
    dom_list, ignored, weights = scratch.dom_list, scratch.ignored, scratch.weights
    if ignored[n]:
        return 0
    lo, hi = soft_indptr[p], soft_indptr[p + 1]
    score = 0.0
    for c in range(hi - lo):
        row = lo + c
        v = node_label(nodes, n, soft[row, KEY])
        if v < 0:
            continue
        if soft[row, IS_HOSTNAME]:
            matching = counts[soft[row, SEL], n]
        else:
            matching = dom_list[c, v]  # PreScore's per-value totals
        score += matching * weights[c] + (soft[row, MAX_SKEW] - 1)
    return np.int64(math.floor(score + 0.5))  # math.Round of a non-negative value


@kernel
def _normalize(nodes, pods, p, feasible, scores, count, state):
    ignored = state.pre_score.ignored
    lowest = 9223372036854775807
    highest = 0
    for j in range(count):
        if ignored[feasible[j]]:
            continue
        lowest = min(lowest, scores[j])
        highest = max(highest, scores[j])
    for j in range(count):
        if ignored[feasible[j]]:
            scores[j] = 0
        elif highest == 0:
            scores[j] = 100
        else:
            scores[j] = 100 * (highest + lowest - scores[j]) // highest


@kernel
def _matches_selector(p, selector, indptr, selectors):
    for k in range(indptr[p], indptr[p + 1]):
        if selectors[k] == selector:
            return True
    return False


@kernel
def _update(nodes, pods, p, n, state, sign):
    counts, hard_indptr, hard = state.counts, state.hard_indptr, state.hard
    soft_indptr, soft, require_all = state.soft_indptr, state.soft, state.require_all
    affinity, tolerations, reserve, scratch = state.affinity, state.tolerations, state.reserve, state.pre_filter
    dom_count, dom_stamp, stamp = scratch.dom_count, scratch.dom_stamp, scratch.stamp
    empty_value = scratch.empty_value
    indptr, selectors = reserve.selector_indptr, reserve.selectors
    memo_sig, memo_pod = reserve.memo_sig, reserve.memo_pod
    for k in range(indptr[p], indptr[p + 1]):
        counts[selectors[k], n] += sign
    # Keep the memoized PreFilter domain counts current: the pod counts where the memo's pod would count it.
    q = memo_pod[0]
    lo, hi = hard_indptr[q], hard_indptr[q + 1]
    if memo_sig[0] >= 0 and _has_all_keys(nodes, n, lo, hi, hard):
        for c in range(hi - lo):
            row = lo + c
            if (_matches_selector(p, hard[row, SEL], indptr, selectors)
                    and _passes_policies(nodes, q, n, row, hard, affinity, tolerations)):
                v = node_label(nodes, n, hard[row, KEY])
                if dom_stamp[c, v] == stamp[0]:
                    dom_count[c, v] += sign
    # And PreScore's per-value totals.
    totals, soft_memo_sig, soft_memo_pod = state.pre_score.dom_list, reserve.soft_memo_sig, reserve.soft_memo_pod
    q = soft_memo_pod[0]
    lo, hi = soft_indptr[q], soft_indptr[q + 1]
    if soft_memo_sig[0] < 0 or (require_all[q] and not _has_all_keys(nodes, n, lo, hi, soft)):
        return
    for c in range(hi - lo):
        row = lo + c
        if soft[row, IS_HOSTNAME] or not _matches_selector(p, soft[row, SEL], indptr, selectors):
            continue
        if _passes_policies(nodes, q, n, row, soft, affinity, tolerations):
            v = node_label(nodes, n, soft[row, KEY])
            if v < 0:
                v = empty_value[0]
            totals[c, v] += sign


@kernel
def _reserve(nodes, pods, p, n, state):
    _update(nodes, pods, p, n, state, 1)


@kernel
def _unreserve(nodes, pods, p, n, state):
    _update(nodes, pods, p, n, state, -1)


def _owner_selector(pod, objects_by_kind) -> LabelSelector | None:
    """DefaultSelector's controller part: the controlling RC's selector map, or the controlling
    ReplicaSet's / StatefulSet's label selector, looked up by name in the pod's namespace."""
    for owner in (pod.raw.get("metadata") or {}).get("ownerReferences") or []:
        if not isinstance(owner, dict) or owner.get("controller") is not True:
            continue
        api, kind, name = owner.get("apiVersion"), owner.get("kind"), owner.get("name")
        if (api, kind) == ("v1", "ReplicationController"):
            obj = objects_by_kind.get((kind, pod.namespace, name))
            return selector_from_set((obj or {}).get("spec", {}).get("selector") or {}) if obj else None
        if (api, kind) in (("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet")):
            obj = objects_by_kind.get((kind, pod.namespace, name))
            if obj is None:
                return None
            return parse_label_selector((obj.get("spec") or {}).get("selector"))
        return None
    return None


def default_selector(pod, services, objects_by_kind) -> LabelSelector:
    """helper.DefaultSelector: Services in the pod's namespace selecting it (selector maps merged), then
    the controller's selector ANDed on."""
    merged: dict[str, str] = {}
    for namespace, selector in services:
        if namespace == pod.namespace and selector is not None and selector_from_set(selector).matches(pod.labels):
            merged.update(selector)
    selector = selector_from_set(merged)
    owner = _owner_selector(pod, objects_by_kind)
    if owner is not None:
        if owner.requirements is None:
            return selector
        selector = LabelSelector(tuple(sorted(set(selector.requirements) | set(owner.requirements))))
    return selector


class PodTopologySpread(Plugin):
    name = "PodTopologySpread"
    kernels = Kernels(pre_filter=_pre_filter, filter=_filter, pre_score=_pre_score, score=_score,
                      normalize=_normalize, reserve=_reserve, unreserve=_unreserve)
    reason_table = {CODE_SKEW: ERR_REASON_CONSTRAINTS_NOT_MATCH, CODE_MISSING_LABEL: ERR_REASON_NODE_LABEL_NOT_MATCH}
    # plugin.go: PreFilter, Filter, PreScore, Score; no Reserve: the per-node counts follow the pods in
    # upstream's cache. filtering.go / scoring.go getPreFilterState / getPreScoreState errors:
    reserve_keeps_cache = True
    missing_pre_filter_state = 'reading "PreFilterPodTopologySpread" from cycleState: not found'
    missing_pre_score_state = 'error reading "PreScorePodTopologySpread" from cycleState: not found'
    # pkg/scheduler/framework/plugins/podtopologyspread/plugin.go EventsToRegister: assigned pods added and
    # deleted change the skew; a node added may open a domain.
    requeue_events = ("pod_add", "pod_delete", "node_add")

    def __init__(self, args=None):
        args = dict(args or {})
        self.defaulting_type = args.pop("defaultingType", "System")
        raw_defaults = args.pop("defaultConstraints", None) or []
        if args:
            check_fields(args, "", ("defaultingType", "defaultConstraints"))  # every key left is unknown
        if self.defaulting_type not in ("System", "List"):
            raise ValueError(f'defaultingType: Unsupported value: "{self.defaulting_type}": supported values: '
                             '"System", "List"')
        if self.defaulting_type == "System" and raw_defaults:
            raise ValueError("defaultConstraints: Invalid value: when .defaultingType is \"System\", "
                             ".defaultConstraints must be empty")
        self.default_constraints = []
        for i, raw in enumerate(raw_defaults):
            if not isinstance(raw, dict):
                raise ValueError(f"defaultConstraints[{i}]: expected a mapping")
            if raw.get("labelSelector") is not None:
                raise ValueError(f"defaultConstraints[{i}].labelSelector: Forbidden: constraint must not define a "
                                 "selector, as they deduced for each pod")
            skew = raw.get("maxSkew", 0)
            if not isinstance(skew, int) or skew <= 0:
                raise ValueError(f"defaultConstraints[{i}].maxSkew: Invalid value: {skew}: must be greater than zero")
            self.default_constraints.append(
                (raw.get("topologyKey", ""), skew, raw.get("whenUnsatisfiable", "DoNotSchedule")))

    def status(self, code: int) -> Code:
        return Code.UnschedulableAndUnresolvable if code == CODE_MISSING_LABEL else Code.Unschedulable

    # -- per batch -------------------------------------------------------------------------------
    def _constraints(self, pod, services, objects_by_kind):
        """[(key, maxSkew, minDomains, affinityHonor, taintsHonor, whenUnsatisfiable, selector)], system_defaulted"""
        raw = (pod.raw.get("spec") or {}).get("topologySpreadConstraints") or []
        result = []
        if raw:
            for c in raw:
                selector = parse_label_selector(c.get("labelSelector"))
                keys = [k for k in c.get("matchLabelKeys") or [] if k in pod.labels]
                selector = selector.with_requirements(tuple((k, "In", (pod.labels[k],)) for k in keys))
                result.append((c.get("topologyKey", ""), int(c.get("maxSkew", 1)), int(c.get("minDomains") or 1),
                               (c.get("nodeAffinityPolicy") or "Honor") == "Honor",
                               (c.get("nodeTaintsPolicy") or "Ignore") == "Honor",
                               c.get("whenUnsatisfiable", "DoNotSchedule"), selector))
            return result, False
        defaults = ([(key, skew, "ScheduleAnyway") for key, skew in SYSTEM_DEFAULTS]
                    if self.defaulting_type == "System" else self.default_constraints)
        if not defaults:
            return [], self.defaulting_type == "System"
        selector = default_selector(pod, services, objects_by_kind)
        if selector.empty:
            return [], self.defaulting_type == "System"
        return [(key, skew, 1, True, False, when, selector) for key, skew, when in defaults], \
            self.defaulting_type == "System"

    def prepare(self, cluster, pods, pod_columns):
        services, objects_by_kind = [], {}
        for item in cluster.others:
            obj = item.obj
            meta = obj.get("metadata") or {}
            namespace = meta.get("namespace") or "default"
            if obj.get("kind") == "Service":
                services.append((namespace, (obj.get("spec") or {}).get("selector")))
            elif obj.get("kind") in ("ReplicationController", "ReplicaSet", "StatefulSet"):
                objects_by_kind[(obj.get("kind"), namespace, meta.get("name"))] = obj
        selector_ids: dict[tuple[str, LabelSelector], int] = {}
        hard_rows, soft_rows = [], []
        hard_indptr = np.zeros(len(pods) + 1, dtype=np.int64)
        soft_indptr = np.zeros(len(pods) + 1, dtype=np.int64)
        require_all = np.zeros(len(pods), dtype=np.bool_)
        hostname = cluster.label_keys(HOSTNAME)
        signatures: dict[tuple, int] = {}
        soft_signatures: dict[tuple, int] = {}
        pts_sig = np.full(len(pods), -1, dtype=np.int64)
        soft_sig = np.full(len(pods), -1, dtype=np.int64)
        for i, pod in enumerate(pods):
            constraints, system_defaulted = self._constraints(pod, services, objects_by_kind)
            require_all[i] = not system_defaulted or bool((pod.raw.get("spec") or {}).get("topologySpreadConstraints"))
            hard = tuple((pod.namespace, key, skew, md, aff, taints, sel) for key, skew, md, aff, taints, when, sel
                         in constraints if when == "DoNotSchedule")
            if hard:
                # Pods whose counts come out the same: same constraints, same inclusion-policy inputs.
                policy = (tuple(sorted(pod.node_selector.items())), pod.node_affinity,
                          pod.tolerations if any(c[5] for c in hard) else None)
                pts_sig[i] = signatures.setdefault((hard, policy), len(signatures))
            soft_constraints = tuple((pod.namespace, key, skew, aff, taints, sel) for key, skew, md, aff, taints, when, sel
                                     in constraints if when != "DoNotSchedule")
            if soft_constraints:
                policy = (tuple(sorted(pod.node_selector.items())), pod.node_affinity,
                          pod.tolerations if any(c[4] for c in soft_constraints) else None)
                soft_sig[i] = soft_signatures.setdefault((soft_constraints, policy, bool(require_all[i])),
                                                         len(soft_signatures))
            for key, skew, min_domains, aff, taints, when, selector in constraints:
                sel = selector_ids.setdefault((pod.namespace, selector), len(selector_ids))
                key_id = cluster.label_keys(key)
                row = [sel, key_id, skew, min_domains, int(aff), int(taints), int(selector.matches(pod.labels)),
                       int(key_id == hostname)]
                (hard_rows if when == "DoNotSchedule" else soft_rows).append(row)
            hard_indptr[i + 1] = len(hard_rows)
            soft_indptr[i + 1] = len(soft_rows)
        # Counts per (namespace, selector) and node: non-terminating pods; {} counts nothing.
        counts = np.zeros((max(len(selector_ids), 1), max(cluster.num_nodes, 1)), dtype=np.int64)
        for (namespace, selector), s in selector_ids.items():
            if selector.empty or selector.requirements is None:
                continue
            for pod in cluster.running:
                if pod.namespace == namespace and pod.deletion_timestamp is None and selector.matches(pod.labels):
                    counts[s, cluster.node_index[pod.node_name]] += 1
        reserve_indptr = np.zeros(len(pods) + 1, dtype=np.int64)
        reserve_selectors: list[int] = []
        for i, pod in enumerate(pods):
            if pod.deletion_timestamp is None:
                for (namespace, selector), s in selector_ids.items():
                    if namespace == pod.namespace and not selector.empty and selector.matches(pod.labels):
                        reserve_selectors.append(s)
            reserve_indptr[i + 1] = len(reserve_selectors)
        # The pods' nodeSelector and required node affinity, for nodeAffinityPolicy: Honor.
        tables = TermTables()
        selector_term = np.full(len(pods), -1, dtype=np.int64)
        has_required = np.zeros(len(pods), dtype=np.bool_)
        required_indptr = np.zeros(len(pods) + 1, dtype=np.int64)
        required_terms: list[int] = []
        for i, pod in enumerate(pods):
            if pod.node_selector:
                selector_term[i] = tables.add_term(
                    cluster, [NodeRequirement(k, "In", (v,)) for k, v in pod.node_selector.items()], validate=False)
            spec = pod.node_affinity
            if spec is not None and spec.required is not None:
                has_required[i] = True
                required_terms.extend(tables.add_term(cluster, term) for term in spec.required)
            required_indptr[i + 1] = len(required_terms)
        width = max(len(cluster.label_values) + 1, 1)
        empty_value = cluster.label_values("")
        width = max(width, empty_value + 1)
        most = max(max(np.diff(hard_indptr), default=0), max(np.diff(soft_indptr), default=0), 1)
        as_rows = lambda rows: np.asarray(rows, dtype=np.int64).reshape(-1, 8)  # noqa: E731
        def scratch():
            return SpreadScratch(
                dom_count=np.zeros((most, width), dtype=np.int64),
                dom_stamp=np.zeros((most, width), dtype=np.int64),
                dom_list=np.zeros((most, width), dtype=np.int64),
                dom_n=np.zeros(most, dtype=np.int64),
                min_match=np.zeros(most, dtype=np.int64),
                stamp=np.zeros(1, dtype=np.int64),
                ignored=np.zeros(max(cluster.num_nodes, 1), dtype=np.bool_),
                weights=np.zeros(most, dtype=np.float64),
                empty_value=np.array([empty_value], dtype=np.int64),
            )
        return PodTopologySpreadState(
            counts=counts,
            hard_indptr=hard_indptr,
            hard=as_rows(hard_rows),
            soft_indptr=soft_indptr,
            soft=as_rows(soft_rows),
            require_all=require_all,
            affinity=PodNodeAffinity(tables.arrays(), selector_term, required_indptr,
                                     np.asarray(required_terms, dtype=np.int64), has_required),
            tolerations=toleration_tables(cluster, pods),
            reserve=SpreadReserve(
                selector_indptr=reserve_indptr,
                selectors=np.asarray(reserve_selectors, dtype=np.int64),
                memo_sig=np.array([-1], dtype=np.int64),
                memo_pod=np.zeros(1, dtype=np.int64),
                pts_sig=pts_sig,
                soft_memo_sig=np.array([-1], dtype=np.int64),
                soft_memo_pod=np.zeros(1, dtype=np.int64),
                soft_sig=soft_sig,
            ),
            pre_filter=scratch(),
            pre_score=scratch(),
        )

