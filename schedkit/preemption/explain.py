"""Preemption in ``schedkit explain``: one cycle of the pod on the cluster as it is, with the pending
pods that hold a nominated node, and DefaultPreemption's PostFilter when no node fits."""

from __future__ import annotations

from dataclasses import dataclass

from ..cluster import Cluster
from ..framework.runtime import TIES_RANDOM
from ..objects import Pod
from ..reference import BatchState, CycleResult, cluster_view, initial_usage, run_cycle
from ..state import snapshot_order
from .batch import offset_rng
from .evaluator import NOT_STARTED, CycleContext, PreemptionOutcome
from .postfilter import full_message, post_filter_message, preemption_plugin, reference_covers, run_preemption



@dataclass
class PreemptionExplanation:
    cycle: CycleResult
    outcome: PreemptionOutcome | None
    message: str | None


def nominated_pods(cluster: Cluster, pod: Pod) -> list[Pod]:
    """The pending pods holding a nominated node on a node of the cluster (the queue's nominator)."""
    names = {node.name for node in cluster.nodes}
    return [p for p in cluster.pods if not p.node_name and p.nominated_node in names and p.key != pod.key]


def holds_room_for(cluster: Cluster, pod: Pod) -> bool:
    """Whether a nominated pod of equal or higher priority than ``pod`` holds room on some node."""
    return any(p.priority >= pod.priority for p in nominated_pods(cluster, pod))


def explain_cycle(scheduler, cluster: Cluster, pod: Pod, seed: int = 0) -> PreemptionExplanation:
    """The cycle (plain Python) and, when no node fits, the PostFilter. ``cluster`` holds the other pods
    (not ``pod``)."""
    profile = scheduler.profiles[pod.scheduler_name]
    nodes = snapshot_order(cluster.nodes)
    usage = initial_usage(cluster)  # the running pods; pending ones hold nothing but nominations
    view = cluster_view(scheduler, cluster, nodes, usage, pod.scheduler_name)
    nominated = nominated_pods(cluster, pod)
    batch = BatchState(0, [seed], scheduler.ties != TIES_RANDOM)
    result = run_cycle(profile, nodes, usage, pod, batch, view, nominated)
    if result.node is not None or not nodes or result.pre_filter is None:
        return PreemptionExplanation(result, None, result.message)
    ctx = CycleContext(profile, nodes, view, result.pre_filter, nominated, cluster.disruption_budgets, NOT_STARTED)
    outcome = run_preemption(profile, ctx, pod, result, offset_rng(seed))
    post = None if result.error else post_filter_message(profile, outcome)
    return PreemptionExplanation(result, outcome, full_message(result.message, post))


def explain_post_filter(scheduler, explanation, cluster: Cluster, pod: Pod, seed: int, nominated_matter: bool,
                        score_all: bool) -> None:
    """Nominated pods and PostFilter for ``explain``: pending pods holding a nominated node take their
    room in this pod's filters, and a pod that fits nowhere runs DefaultPreemption. Both run as the
    plain-Python cycle (``schedkit.preemption.explain``); without a preemption plugin only the
    message gains PostFilter's part. Fills ``explanation`` (a ``framework.scheduler.Explanation``)."""
    profile = scheduler.profiles[pod.scheduler_name]
    if preemption_plugin(profile) is None and not nominated_matter:
        if explanation.message is not None and cluster.nodes:
            explanation.message = full_message(explanation.message, post_filter_message(profile, None))
        return
    if not reference_covers(profile):
        explanation.warnings.append("preemption and nominated pods are evaluated only for profiles whose "
                                    "Filter plugins schedkit has in plain Python; this one has others")
        return
    found = explain_cycle(scheduler, cluster, pod, seed)
    cycle = found.cycle
    if nominated_matter and not score_all:  # the nominated pods change what the filters saw
        explanation.selected_node = cycle.node
        for node in explanation.nodes:
            if node.name not in cycle.status:
                continue
            status = cycle.status[node.name]
            node.feasible = status is None
            node.failed_plugin, node.reasons = (None, []) if status is None else (status[0], list(status[1]))
            node.status = cycle.codes.get(node.name)
            node.scores = cycle.scores.get(node.name, {}) if status is None else {}
            node.total_score = cycle.totals.get(node.name) if status is None else None
            node.scored = node.name in cycle.scores
        explanation.scoring_skipped = cycle.node is not None and not cycle.scores
    explanation.message = None if cycle.node is not None else found.message
    outcome = found.outcome
    explanation.preemption = outcome
    if outcome is not None and outcome.nominated_node is not None:
        explanation.nominated_node = outcome.nominated_node
        explanation.victims = sorted(p.key for p in outcome.victims)


def outcome_json(outcome: PreemptionOutcome | None) -> dict | None:
    if outcome is None:
        return None
    return {
        "eligible": outcome.eligible,
        "message": None if outcome.message is None else f"preemption: {outcome.message}",
        "potentialNodes": outcome.potential_nodes,
        "offset": outcome.offset,
        "numCandidates": outcome.num_candidates,
        "candidates": [{"node": c.node, "victims": [p.key for p in c.victims], "pdbViolations": c.pdb_violations}
                       for c in outcome.candidates],
        "failedNodes": {name: {"status": code, "reasons": reasons}
                        for name, (code, reasons) in outcome.dry_run_statuses.items()},
        "nominatedNode": outcome.nominated_node,
        "chosenBy": outcome.rule,
        "clearedNominations": [p.key for p in outcome.cleared_nominations],
    }


def outcome_lines(outcome: PreemptionOutcome | None) -> list[str]:
    """The PostFilter step in words, for the table view."""
    if outcome is None:
        return []
    if not outcome.eligible:
        return [f"Preemption: {outcome.message}"]
    lines = []
    if outcome.potential_nodes:
        lines.append(f"Preemption: dry run over {len(outcome.potential_nodes)} node(s) whose filters failed with "
                     f"Unschedulable, from offset {outcome.offset}, stopping at {outcome.num_candidates} candidate(s).")
    for c in outcome.candidates:
        violations = f", {c.pdb_violations} PodDisruptionBudget violation(s)" if c.pdb_violations else ""
        lines.append(f"  candidate {c.node}: delete {', '.join(p.key for p in c.victims)}{violations}")
    for name, (code, reasons) in outcome.dry_run_statuses.items():
        lines.append(f"  {name}: {', '.join(reasons)} ({code})")
    if outcome.nominated_node:
        how = f" ({outcome.rule})" if outcome.rule else " (the only candidate)"
        lines.append(f"Nominated node: {outcome.nominated_node}{how}; victims deleted: "
                     f"{', '.join(p.key for p in outcome.victims)}")
    else:
        lines.append(f"Preemption: {outcome.message}")
    return lines


__all__ = ["PreemptionExplanation", "explain_cycle", "explain_post_filter", "holds_room_for", "outcome_json",
           "outcome_lines"]
