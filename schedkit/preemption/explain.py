"""Preemption in ``schedkit explain``: one cycle of the pod on the cluster as it is, with the pending
pods that hold a nominated node, and DefaultPreemption's PostFilter when no node fits."""

from __future__ import annotations

from dataclasses import dataclass

from ..cluster import Cluster
from ..framework.runtime import TIES_RANDOM
from ..objects import Pod
from ..reference import CROSS_NODE, FILTER, PRE_FILTER, BatchState, CycleResult, cluster_view, initial_usage, run_cycle
from ..state import snapshot_order
from .batch import NOT_STARTED, offset_rng
from .evaluator import CycleContext, PreemptionOutcome
from .postfilter import full_message, post_filter_message, run_preemption

# Filter and PreFilter plugins the plain-Python cycle knows; a profile with others cannot dry-run.
REFERENCE_FILTERS = set(FILTER) | set(CROSS_NODE) | set(PRE_FILTER)


@dataclass
class PreemptionExplanation:
    cycle: CycleResult
    outcome: PreemptionOutcome | None
    message: str | None


def reference_covers(profile) -> bool:
    """Whether every Filter/PreFilter plugin of ``profile`` has a plain-Python version."""
    used = set(profile.points["filter"]) | set(profile.points["preFilter"])
    return all(profile.plugins[i].name in REFERENCE_FILTERS for i in used)


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


__all__ = ["PreemptionExplanation", "explain_cycle", "holds_room_for", "outcome_json", "outcome_lines",
           "reference_covers"]
