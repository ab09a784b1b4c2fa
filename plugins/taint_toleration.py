"""TaintToleration: Filter on NoSchedule/NoExecute taints; Score counts intolerable PreferNoSchedule taints.

Upstream: pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go and staging
k8s.io/component-helpers/scheduling/corev1/helpers.go (``FindMatchingUntoleratedTaint``: the node's
first NoSchedule/NoExecute taint the pod does not tolerate rejects it). Score is reversed by
NormalizeScore: fewer intolerable PreferNoSchedule taints score higher.
"""

from __future__ import annotations

from collections import namedtuple

from schedkit.framework.normalize import default_normalize_score
from schedkit.framework.plugin import SUCCESS, Code, Kernels, Plugin, kernel
from schedkit.taints import tolerated, toleration_tables

EFFECT_NO_SCHEDULE, EFFECT_PREFER_NO_SCHEDULE, EFFECT_NO_EXECUTE = 0, 1, 2
ERR_REASON_UNTOLERATED = "node(s) had untolerated taint(s)"

TaintTolerationState = namedtuple(
    "TaintTolerationState",
    [
        "tolerations",  # schedkit.taints.Tolerations: every pod's tolerations as CSR
    ],
)


@kernel
def _filter(nodes, pods, p, n, state):
    tolerations = state.tolerations
    tol_indptr, tol_key, tol_op = tolerations.indptr, tolerations.key, tolerations.operator
    tol_value, tol_effect = tolerations.value, tolerations.effect
    for t in range(nodes.taint_indptr[n], nodes.taint_indptr[n + 1]):
        effect = nodes.taint_effect[t]
        if effect != EFFECT_NO_SCHEDULE and effect != EFFECT_NO_EXECUTE:
            continue
        if not tolerated(nodes, t, p, tol_indptr, tol_key, tol_op, tol_value, tol_effect, False):
            return 1
    return 0


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    """Upstream's PreScore stores the pod's PreferNoSchedule tolerations for Score; it never skips."""
    return SUCCESS


@kernel
def _score(nodes, pods, p, n, state):
    tolerations = state.tolerations
    tol_indptr, tol_key, tol_op = tolerations.indptr, tolerations.key, tolerations.operator
    tol_value, tol_effect = tolerations.value, tolerations.effect
    intolerable = 0
    for t in range(nodes.taint_indptr[n], nodes.taint_indptr[n + 1]):
        if nodes.taint_effect[t] != EFFECT_PREFER_NO_SCHEDULE:
            continue
        if not tolerated(nodes, t, p, tol_indptr, tol_key, tol_op, tol_value, tol_effect, True):
            intolerable += 1
    return intolerable


@kernel
def _normalize(nodes, pods, p, feasible, scores, count, state):
    default_normalize_score(scores, count, True)


class TaintToleration(Plugin):
    name = "TaintToleration"
    # taint_toleration.go: Filter, PreScore, Score (+NormalizeScore).
    kernels = Kernels(filter=_filter, pre_score=_pre_score, score=_score, normalize=_normalize)
    failure_status = Code.UnschedulableAndUnresolvable
    # taint_toleration.go getPreScoreState: Score reads what only PreScore writes.
    missing_pre_score_state = 'failed to read "PreScoreTaintToleration" from cycleState: not found'

    # Since v1.35 the reason no longer names the taint (it did as "{key: value}" before).
    reason_table = {1: ERR_REASON_UNTOLERATED}
    node_local = True
    # pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go EventsToRegister: node events only
    # (a node added may have no untolerated taint); the pending pod's own toleration updates do not happen in
    # a replay.
    requeue_events = ("node_add",)

    def signature(self, pod):
        return pod.tolerations

    def prepare(self, cluster, pods, pod_columns):
        return TaintTolerationState(toleration_tables(cluster, pods))
