"""NodeAffinity: nodeSelector and required node affinity (Filter), preferred terms (Score).

Upstream: pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go; matching in staging
k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go. The plugin arg
``addedAffinity`` is ANDed on top of every pod's (required) and added to every score (preferred).
PreFilter returns a PreFilterResult when every required term pins ``metadata.name`` with In.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.errors import InputError
from schedkit.framework.config import check_fields
from schedkit.framework.normalize import default_normalize_score
from schedkit.framework.plugin import NARROW, SKIP, SUCCESS, Code, Kernels, Plugin, kernel
from schedkit.nodeselector import OBJECT_NAME_FIELD, TermTables, term_matches
from schedkit.objects import NodeAffinity as NodeAffinitySpec
from schedkit.objects import Requirement, _Fields, parse_node_affinity

ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
ERR_REASON_CONFLICT = "pod affinity terms conflict"

CODE_POD, CODE_ENFORCED, CODE_CONFLICT = 1, 2, 3
PRE_SKIP, PRE_SUCCESS, PRE_NARROW, PRE_CONFLICT = 0, 1, 2, 3

# Terms are ids into the state's ``terms`` tables (schedkit.nodeselector.TermArrays).
PreferredTerms = namedtuple(
    "PreferredTerms",
    [
        "indptr",  # int64 [pods + 1]: CSR over terms and weights
        "terms",  # int64 [preferred terms]: the pods' preferred terms with a non-zero weight
        "weights",  # int64 [preferred terms]
    ],
)

AddedPreferredTerms = namedtuple(
    "AddedPreferredTerms",
    [
        "terms",  # int64 [added terms]: addedAffinity's preferred terms with a non-zero weight
        "weights",  # int64 [added terms]
    ],
)

NodeAffinityState = namedtuple(
    "NodeAffinityState",
    [
        "terms",  # schedkit.nodeselector.TermArrays: every term below
        "added_required",  # int64 [added terms]: addedAffinity's required terms (ORed, ANDed on every pod's)
        "selector_term",  # int64 [pods]: the pod's nodeSelector as a term, -1 without one
        "required_indptr",  # int64 [pods + 1]: CSR over required_terms
        "required_terms",  # int64 [required terms]: the pods' required node affinity terms (ORed)
        "has_required",  # bool [pods]: the pod has required node affinity
        "preferred",  # PreferredTerms: the pods' preferred terms
        "added_preferred",  # AddedPreferredTerms: addedAffinity's preferred terms
        "pre_kind",  # int64 [pods]: PreFilter's answer: PRE_SKIP, PRE_SUCCESS, PRE_NARROW or PRE_CONFLICT
        "narrow_indptr",  # int64 [pods + 1]: CSR over narrow_nodes
        "narrow_nodes",  # int64 [nodes pinned]: PRE_NARROW's node rows (the PreFilterResult)
        "has_preferred",  # bool [pods]: the pod has preferred node affinity terms
        "has_added_preferred",  # bool [1]: addedAffinity has preferred terms (whatever their weights)
    ],
)


@kernel
def _any_term(nodes, n, lo, hi, term_list, tables):
    term_indptr, term_valid, req_key, req_op = tables.term_indptr, tables.term_valid, tables.req_key, tables.req_op
    req_number, value_indptr, values = tables.req_number, tables.value_indptr, tables.values
    for k in range(lo, hi):
        if term_matches(nodes, n, term_list[k], term_indptr, term_valid, req_key, req_op, req_number,
                        value_indptr, values):
            return True
    return False


@kernel
def _pre_filter_kernel(nodes, pods, p, state, mask):
    pre_kind, narrow_indptr, narrow_nodes = state.pre_kind, state.narrow_indptr, state.narrow_nodes
    kind = pre_kind[p]
    if kind == PRE_SKIP:
        return SKIP
    if kind == PRE_CONFLICT:
        return CODE_CONFLICT
    if kind == PRE_NARROW:
        mask[:] = 0
        for k in range(narrow_indptr[p], narrow_indptr[p + 1]):
            mask[narrow_nodes[k]] = 1
        return NARROW
    return SUCCESS


@kernel
def _filter(nodes, pods, p, n, state):
    tables = state.terms
    added_required, selector_term = state.added_required, state.selector_term
    required_indptr, required_terms, has_required = state.required_indptr, state.required_terms, state.has_required
    if added_required.shape[0] > 0 and not _any_term(nodes, n, 0, added_required.shape[0], added_required, tables):
        return CODE_ENFORCED
    t = selector_term[p]
    if t >= 0 and not _any_term(nodes, n, 0, 1, selector_term[p:p + 1], tables):
        return CODE_POD
    if has_required[p] and not _any_term(nodes, n, required_indptr[p], required_indptr[p + 1], required_terms, tables):
        return CODE_POD
    return 0


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    has_preferred, has_added_preferred = state.has_preferred, state.has_added_preferred
    if not has_preferred[p] and not has_added_preferred[0]:
        return SKIP
    return SUCCESS


@kernel
def _weighted(nodes, n, lo, hi, terms, weights, tables):
    total = 0
    for k in range(lo, hi):
        term_indptr, term_valid, req_key = tables.term_indptr, tables.term_valid, tables.req_key
        req_op, req_number = tables.req_op, tables.req_number
        value_indptr, values = tables.value_indptr, tables.values
        if term_matches(nodes, n, terms[k], term_indptr, term_valid, req_key, req_op, req_number, value_indptr,
                        values):
            total += weights[k]
    return total


@kernel
def _score(nodes, pods, p, n, state):
    tables = state.terms
    preferred_indptr, preferred_terms, preferred_weights = (state.preferred.indptr, state.preferred.terms,
                                                            state.preferred.weights)
    added_terms, added_weights = state.added_preferred.terms, state.added_preferred.weights
    count = _weighted(nodes, n, 0, added_terms.shape[0], added_terms, added_weights, tables)
    count += _weighted(nodes, n, preferred_indptr[p], preferred_indptr[p + 1], preferred_terms, preferred_weights,
                       tables)
    return count


@kernel
def _normalize(nodes, pods, p, feasible, scores, count, state):
    default_normalize_score(scores, count, False)


def _pinned_node_names(spec: NodeAffinitySpec | None) -> set[str] | None:
    """PreFilter's node names: the union over required terms of the names each pins with
    ``metadata.name In`` (intersected within a term); None when some term pins none (all nodes)."""
    if spec is None or not spec.required:
        return None
    names: set[str] = set()
    for term in spec.required:
        term_names: set[str] | None = None
        for req in term.match_fields:
            if req.key == OBJECT_NAME_FIELD and req.operator == "In":
                term_names = set(req.values) if term_names is None else term_names & set(req.values)
        if term_names is None:
            return None
        names |= term_names
    return names


class NodeAffinity(Plugin):
    name = "NodeAffinity"
    kernels = Kernels(pre_filter=_pre_filter_kernel, filter=_filter, pre_score=_pre_score, score=_score,
                      normalize=_normalize)
    reason_table = {CODE_POD: ERR_REASON_POD, CODE_ENFORCED: ERR_REASON_ENFORCED, CODE_CONFLICT: ERR_REASON_CONFLICT}
    failure_status = Code.UnschedulableAndUnresolvable
    node_local = True
    # pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go EventsToRegister: node events only (a node
    # added may match).
    requeue_events = ("node_add",)

    def signature(self, pod):
        return (tuple(sorted(pod.node_selector.items())), pod.node_affinity)

    def __init__(self, args=None):
        args = dict(args or {})
        added = args.pop("addedAffinity", None)
        if args:
            check_fields(args, "", ("addedAffinity",))  # every key left is unknown
        try:
            self.added = parse_node_affinity(_Fields("", ""), added, "addedAffinity")
        except InputError as exc:
            raise ValueError(f"{exc.field}: {exc.message}") from None

    def prepare(self, cluster, pods, pod_columns):
        tables = TermTables()
        added_required: list[int] = []
        added_pref_terms: list[int] = []
        added_pref_weights: list[int] = []
        if self.added is not None:
            for term in self.added.required or ():
                added_required.append(tables.add_term(cluster, term))
            if self.added.required == ():
                added_required.append(tables.add_term(cluster, []))  # no terms: matches no node
            for pref in self.added.preferred:
                if pref.weight:
                    added_pref_terms.append(tables.add_term(cluster, pref.term))
                    added_pref_weights.append(pref.weight)
        count = len(pods)
        selector_term = np.full(count, -1, dtype=np.int64)
        has_required = np.zeros(count, dtype=np.bool_)
        required_indptr = np.zeros(count + 1, dtype=np.int64)
        preferred_indptr = np.zeros(count + 1, dtype=np.int64)
        pre_kind = np.zeros(count, dtype=np.int64)
        has_preferred = np.array([pod.node_affinity is not None and pod.node_affinity.has_preferred for pod in pods],
                                 dtype=np.bool_)
        narrow_indptr = np.zeros(count + 1, dtype=np.int64)
        required_terms, preferred_terms, preferred_weights, narrow_nodes = [], [], [], []
        for i, pod in enumerate(pods):
            spec = pod.node_affinity
            if pod.node_selector:
                reqs = [Requirement(k, "In", (v,)) for k, v in pod.node_selector.items()]
                selector_term[i] = tables.add_term(cluster, reqs, validate=False)
            if spec is not None and spec.required is not None:
                has_required[i] = True
                required_terms.extend(tables.add_term(cluster, term) for term in spec.required)
            required_indptr[i + 1] = len(required_terms)
            if spec is not None:
                for pref in spec.preferred:
                    if pref.weight:
                        preferred_terms.append(tables.add_term(cluster, pref.term))
                        preferred_weights.append(pref.weight)
            preferred_indptr[i + 1] = len(preferred_terms)
            # PreFilter: Skip when there is nothing to check; a PreFilterResult for pinned node names.
            if not has_required[i] and not added_required and not pod.node_selector:
                pre_kind[i] = PRE_SKIP
            else:
                names = _pinned_node_names(spec)
                if names is None:
                    pre_kind[i] = PRE_SUCCESS
                elif not names:
                    pre_kind[i] = PRE_CONFLICT
                else:
                    pre_kind[i] = PRE_NARROW
                    narrow_nodes.extend(cluster.node_index[name] for name in names if name in cluster.node_index)
            narrow_indptr[i + 1] = len(narrow_nodes)
        as_array = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
        return NodeAffinityState(
            terms=tables.arrays(),
            added_required=as_array(added_required),
            selector_term=selector_term,
            required_indptr=required_indptr,
            required_terms=as_array(required_terms),
            has_required=has_required,
            preferred=PreferredTerms(preferred_indptr, as_array(preferred_terms), as_array(preferred_weights)),
            added_preferred=AddedPreferredTerms(as_array(added_pref_terms), as_array(added_pref_weights)),
            pre_kind=pre_kind,
            narrow_indptr=narrow_indptr,
            narrow_nodes=as_array(narrow_nodes),
            has_preferred=has_preferred,
            # New(): the added preferred terms count when the list is non-empty, whatever the weights.
            has_added_preferred=np.array([self.added is not None and len(self.added.preferred) > 0],
                                         dtype=np.bool_),
        )
