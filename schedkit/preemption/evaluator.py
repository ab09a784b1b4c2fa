"""DefaultPreemption in plain Python: the readable reference of upstream's PostFilter.

Upstream: pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go (eligibility,
SelectVictimsOnNode, filterPodsWithPDBViolation, the candidate count) and
pkg/scheduler/framework/preemption/preemption.go (Preempt, findCandidates, DryRunPreemption,
SelectCandidate, pickOneNodeForPreemption, getLowerPriorityNominatedPods). Filters run through
``schedkit.reference`` (``filter_with_nominated``): removing or adding a pod on the node edits a copy
of the NodeInfo, and a copy of the cross-node plugins' PreFilter states through their AddPod/RemovePod
extensions (``edit_states``), in upstream's order.

Two things upstream leaves to chance are drawn or ordered here reproducibly:
- the dry run's start offset (``rand.Int31n(len(potentialNodes))``) comes from ``rng``, a stream seeded
  from ``--seed`` (``new_offset_rng``), separate from selectHost's;
- the last tie of pickOneNodeForPreemption takes the first candidate in dry-run order (non-violating
  candidates first, each list in the order the rotated dry run found them), where upstream iterates a
  Go map (random order).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ..disruption import DisruptionBudget
from ..framework.runtime import python_rand_intn
from ..objects import PREEMPT_NEVER, Node, Pod
from ..reference import (
    ClusterView,
    PreFilterOutcome,
    edit_states,
    filter_with_nominated,
    status_code,
    view_with_pods,
)

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."
MAX_INT32 = 2**31 - 1
NOT_STARTED = float("inf")  # GetPodStartTime: a pod without status.startTime started "now"

# pickOneNodeForPreemption's rules, in order; explain names the one that decided.
RULES = (
    "fewest PodDisruptionBudget violations",
    "lowest highest-victim priority",
    "smallest sum of victim priorities",
    "fewest victims",
    "latest start of the highest-priority victims",
    "first candidate in dry-run order",
)


@dataclass(frozen=True)
class PreemptionArgs:
    """DefaultPreemptionArgs (staging kube-scheduler/config/v1/types_pluginargs.go), v1 defaults."""

    min_candidate_nodes_percentage: int = 10
    min_candidate_nodes_absolute: int = 100

    def num_candidates(self, num_nodes: int) -> int:
        """calculateNumCandidates: the percentage of the potential nodes, at least the absolute number,
        at most all of them."""
        n = num_nodes * self.min_candidate_nodes_percentage // 100
        return min(max(n, self.min_candidate_nodes_absolute), num_nodes)


@dataclass
class Candidate:
    node: str
    victims: list[Pod]  # most important first (MoreImportantPod)
    pdb_violations: int
    # pickOneNodeForPreemption's five rule values (``rule_values``), when the dry run computed them
    values: tuple | None = field(default=None, compare=False)


def rule_values(c: Candidate, now: float) -> tuple:
    """The candidate's value under each of pickOneNodeForPreemption's rules (higher wins): fewest PDB
    violations, lowest highest-victim priority, smallest adjusted priority sum, fewest victims, latest
    start of the highest-priority victims."""
    if c.values is not None:
        return c.values
    return (-c.pdb_violations, -c.victims[0].priority, -sum(p.priority + MAX_INT32 + 1 for p in c.victims),
            -len(c.victims), earliest_start_of_highest(c.victims, now))


@dataclass
class PreemptionOutcome:
    """What the PostFilter did. ``nominated_node`` is set on success (``message`` None); otherwise
    ``message`` is the status message without the ``preemption: `` prefix."""

    eligible: bool
    message: str | None = None
    nominated_node: str | None = None
    victims: list[Pod] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # in dry-run order
    dry_run_statuses: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # node -> (code, reasons)
    potential_nodes: list[str] = field(default_factory=list)
    offset: int = 0
    num_candidates: int = 0
    rule: str | None = None  # which pickOneNodeForPreemption rule chose the node (None: one candidate)
    cleared_nominations: list[Pod] = field(default_factory=list)  # lower-priority pods nominated there


def more_important(a: Pod, b: Pod, now: float) -> bool:
    """util.MoreImportantPod: higher priority, then the earlier start (a pod not started yet counts as
    starting now)."""
    if a.priority != b.priority:
        return a.priority > b.priority
    return start_time(a, now) < start_time(b, now)


def start_time(pod: Pod, now: float) -> float:
    return pod.start_time if pod.start_time is not None else now


def importance_order(pods: list[Pod], now: float) -> list[Pod]:
    """Most important first; pods equal under MoreImportantPod keep their order (upstream's sort.Slice
    does not promise any)."""
    return sorted(pods, key=lambda p: (-p.priority, start_time(p, now)))


def eligible_to_preempt(pod: Pod, nominated_status_code: str | None, pods_on_nominated: list[Pod] | None
                        ) -> tuple[bool, str]:
    """PodEligibleToPreemptOthers: never with preemptionPolicy Never; not while a lower-priority pod the
    scheduler preempted is still terminating on the pod's nominated node, unless that node is now
    UnschedulableAndUnresolvable for the pod."""
    if pod.preemption_policy == PREEMPT_NEVER:
        return False, NOT_ELIGIBLE_NEVER
    if pod.nominated_node:
        if nominated_status_code == "UnschedulableAndUnresolvable":
            return True, ""
        for other in pods_on_nominated or []:
            if other.priority < pod.priority and other.deletion_timestamp is not None and other.preempted_by_scheduler:
                return False, NOT_ELIGIBLE_TERMINATING
    return True, ""


def split_by_budget_violation(pods: list[Pod], budgets: list[DisruptionBudget]) -> tuple[list[Pod], list[Pod]]:
    """filterPodsWithPDBViolation: walks the pods in order, charging every budget that selects each pod
    (unless the pod is already among its disrupted pods); a pod that drives any budget below zero
    violates it. Order within each group is kept."""
    allowed = [budget.disruptions_allowed for budget in budgets]
    violating, non_violating = [], []
    for pod in pods:
        violated = False
        for i, budget in enumerate(budgets):
            if not budget.selects(pod) or pod.name in budget.disrupted_pods:
                continue
            allowed[i] -= 1
            if allowed[i] < 0:
                violated = True
        (violating if violated else non_violating).append(pod)
    return violating, non_violating


@dataclass
class CycleContext:
    """What one scheduling cycle's PostFilter reads: the profile, the snapshot (nodes in order and the
    view of their pods), PreFilter's outcome and the nominated pods."""

    profile: object
    nodes: list[Node]
    view: ClusterView
    pre: PreFilterOutcome
    nominated: list[Pod]
    budgets: list[DisruptionBudget]
    now: float  # "now" for pods without status.startTime

    def filter(self, pod: Pod, node: Node, pods_here: list[Pod], states: dict[str, object]
               ) -> tuple[str, list[str]] | None:
        """RunFilterPluginsWithNominatedPods on ``node`` holding ``pods_here``, the cross-node plugins
        reading ``states`` (edited by AddPod/RemovePod alongside)."""
        view = view_with_pods(self.view, node, pods_here)
        return filter_with_nominated(self.profile, pod, node, view, self.pre, self.nominated, states)

    def edit(self, pod: Pod, states: dict[str, object], other: Pod, node: Node, delta: int) -> None:
        edit_states(self.profile, pod, states, self.pre, other, node, delta, self.view)


def select_victims_on_node(ctx: CycleContext, pod: Pod, node: Node
                           ) -> tuple[list[Pod] | None, int, tuple[str, list[str]] | None]:
    """SelectVictimsOnNode: (victims, PDB violations, None) or (None, 0, (code, reasons)) when the node
    cannot become feasible. All lower-priority pods are removed; if the pod then fits, they are put
    back one by one, PDB-violating ones first, most important first, and whichever does not fit with
    the pod stays a victim."""
    here = list(ctx.view.pods_on(node))
    potential = [p for p in here if p.priority < pod.priority]
    if not potential:
        return None, 0, ("UnschedulableAndUnresolvable", [NO_VICTIMS])
    # One copy of the cycle's state for this node, edited pod by pod as upstream's RemovePod/AddPod do
    # (PodTopologySpread's critical paths depend on the order of the edits).
    states = copy.deepcopy(ctx.pre.states)
    for victim in potential:
        ctx.edit(pod, states, victim, node, -1)
    remaining = [p for p in here if p.priority >= pod.priority]
    status = ctx.filter(pod, node, remaining, states)
    if status is not None:
        return None, 0, (status_code(ctx.profile, pod, node, *status), status[1])
    violating, non_violating = split_by_budget_violation(importance_order(potential, ctx.now), ctx.budgets)
    victims: list[Pod] = []
    violations = 0
    for group, counts in ((violating, True), (non_violating, False)):
        for candidate in group:
            ctx.edit(pod, states, candidate, node, 1)
            if ctx.filter(pod, node, remaining + [candidate], states) is None:
                remaining = remaining + [candidate]
            else:
                ctx.edit(pod, states, candidate, node, -1)
                victims.append(candidate)
                violations += counts
    if violating and non_violating:
        victims = importance_order(victims, ctx.now)
    return victims, violations, None


def dry_run(ctx: CycleContext, pod: Pod, potential: list[Node], offset: int, num_candidates: int
            ) -> tuple[list[Candidate], dict[str, tuple[str, list[str]]]]:
    """DryRunPreemption, one node at a time from ``offset``: stops once ``num_candidates`` candidates
    are found, at least one of them without PDB violations; each list keeps at most that many."""
    non_violating: list[Candidate] = []
    violating: list[Candidate] = []
    statuses: dict[str, tuple[str, list[str]]] = {}
    for i in range(len(potential)):
        node = potential[(offset + i) % len(potential)]
        victims, violations, status = select_victims_on_node(ctx, pod, node)
        if status is None and victims:
            bucket = non_violating if violations == 0 else violating
            if len(bucket) < num_candidates:
                bucket.append(Candidate(node.name, victims, violations))
            if non_violating and len(non_violating) + len(violating) >= num_candidates:
                break
            continue
        if status is None:  # fits without removing anything: upstream's "expected at least one victim"
            status = ("Error", [f'expected at least one victim pod on node "{node.name}"'])
        statuses[node.name] = status
    return non_violating + violating, statuses


def earliest_start_of_highest(victims: list[Pod], now: float) -> float:
    """util.GetEarliestPodStartTime: the earliest start among the highest-priority victims."""
    top = max(p.priority for p in victims)
    return min(start_time(p, now) for p in victims if p.priority == top)


def pick_one(candidates: list[Candidate], now: float) -> tuple[Candidate, str | None]:
    """pickOneNodeForPreemption over ``candidates`` in order; also which rule decided."""
    if len(candidates) == 1:
        return candidates[0], None
    values = [rule_values(c, now) for c in candidates]
    remaining = list(range(len(candidates)))
    for k, name in enumerate(RULES[:-1]):
        best = max(values[i][k] for i in remaining)
        remaining = [i for i in remaining if values[i][k] == best]
        if len(remaining) == 1:
            return candidates[remaining[0]], name
    remaining = [candidates[i] for i in remaining]
    return remaining[0], RULES[-1]


def fit_error_message(num_nodes: int, statuses: dict[str, tuple[str, list[str]]], absent_reason: str) -> str:
    """FitError.Error() over the dry run's statuses, nodes without one counting as ``absent_reason``."""
    counts: dict[str, int] = {}
    for _, reasons in statuses.values():
        for reason in reasons:
            counts[reason] = counts.get(reason, 0) + 1
    if len(statuses) < num_nodes:
        counts[absent_reason] = counts.get(absent_reason, 0) + num_nodes - len(statuses)
    parts = sorted(f"{count} {reason}" for reason, count in counts.items())
    return f"0/{num_nodes} nodes are available: {', '.join(parts)}."


def preempt(ctx: CycleContext, pod: Pod, filter_codes: dict[str, str], args: PreemptionArgs, rng) -> PreemptionOutcome:
    """Evaluator.Preempt: eligibility, candidates (nodes whose Filter status was Unschedulable), the dry
    run, the choice of node. ``filter_codes``: the cycle's failing nodes and their status codes (nodes
    left out by a PreFilterResult are absent: UnschedulableAndUnresolvable). (``hybrid.FastBatch`` has a
    version over arrays: ``_preempt_arrays``.)"""
    nominated_node = next((node for node in ctx.nodes if node.name == pod.nominated_node), None) \
        if pod.nominated_node else None
    ok, why = eligible_to_preempt(pod, filter_codes.get(pod.nominated_node),
                                  ctx.view.pods_on(nominated_node) if nominated_node else None)
    if not ok:
        return PreemptionOutcome(False, why)
    potential = [node for node in ctx.nodes if filter_codes.get(node.name) == "Unschedulable"]
    outcome = PreemptionOutcome(True, potential_nodes=[node.name for node in potential])
    if not potential:
        outcome.message = fit_error_message(len(ctx.nodes), {}, NOT_HELPFUL)
        return outcome
    outcome.offset = python_rand_intn(rng, len(potential))
    outcome.num_candidates = args.num_candidates(len(potential))
    outcome.candidates, outcome.dry_run_statuses = dry_run(ctx, pod, potential, outcome.offset,
                                                           outcome.num_candidates)
    if not outcome.candidates:
        outcome.message = fit_error_message(len(ctx.nodes), outcome.dry_run_statuses, NOT_HELPFUL)
        return outcome
    best, outcome.rule = pick_one(outcome.candidates, ctx.now)
    outcome.nominated_node, outcome.victims = best.node, best.victims
    outcome.cleared_nominations = [q for q in ctx.nominated
                                   if q.nominated_node == best.node and q.priority < pod.priority]
    return outcome


__all__ = [
    "Candidate",
    "CycleContext",
    "PreemptionArgs",
    "PreemptionOutcome",
    "eligible_to_preempt",
    "pick_one",
    "preempt",
    "select_victims_on_node",
    "split_by_budget_violation",
]
