"""A batch of pending pods scheduled with preemption, as kube-scheduler's queue would take them.

The pods go through ``batch_queue.BatchQueue``: upstream's active, backoff and unschedulable queues on a
small clock, with QueueingHints deciding which cluster events (a pod bound, a victim gone) bring a rejected
pod back (``hints.py``). Victims of a preemption stay on their nodes, terminating, while every pod already
queued is tried, then leave. A preemptor retried finds its nominated node first (schedule_one.go
evaluateNominatedNode).

Plain Python over ``schedkit.reference``: the readable reference of scheduling with preemption.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..cluster import Cluster
from ..objects import PREEMPT_NEVER, Pod
from ..reference import BatchState, cluster_view, initial_usage, plugin_args, run_cycle, usage_of
from ..state import snapshot_order
from .batch_queue import BatchQueue
from .evaluator import NOT_STARTED, CycleContext
from .hints import POD_ADD, POD_DELETE, requeues
from .postfilter import full_message, post_filter_message, preemption_plugin, reference_covers, run_preemption

TERMINATING = "1970-01-01T00:00:00Z"  # deletionTimestamp of a victim while it terminates


def max_steps(queued: int, pods: int) -> int:
    """More steps (attempts and deletions) than any batch takes: a queued pod is tried once, then at most
    once per event that requeues it (a binding, a deletion, a cleared nomination: at most ``queued``,
    ``pods`` and ``queued`` of them), and at most ``pods`` pods are deleted. Reaching it is a bug."""
    return queued * (2 * queued + pods + 1) + pods + 1


class BatchDidNotEnd(RuntimeError):
    """The queue's walk took more steps than ``max_steps`` allows (a bug, never a result)."""


@dataclass
class PodResult:
    node: str | None
    message: str | None
    nominated_node: str | None = None


@dataclass
class Eviction:
    pod: Pod
    node: str
    by: str  # the preemptor's namespace/name


@dataclass
class BatchOutcome:
    results: dict[int, PodResult]  # queue row -> its final state
    evicted: list[Eviction] = field(default_factory=list)


def offset_rng(seed: int) -> list[int]:
    """The dry run's offset stream (upstream: a dedicated rand.Int31n), seeded apart from selectHost's."""
    return [(seed * 0x2545F4914F6CDD1D + 0x5851F42D4C957F2D) & (2**64 - 1)]


def needs_preemption(scheduler, cluster: Cluster, queued: list[Pod]) -> bool:
    """Whether the batch needs the scheduler with preemption: some queued pod's profile preempts and
    either a pending pod holds a nominated node or a queued pod that may preempt outranks some running
    pod. Otherwise no pod can have victims, and the compiled loop decides alone. Profiles with Filter
    plugins that have no plain-Python version (GpuShare, third-party plugins) are not dry-run."""
    dry_runs = {name: preemption_plugin(profile) is not None and reference_covers(profile)
                for name, profile in scheduler.profiles.items()}
    preempting = [pod for pod in queued if dry_runs[pod.scheduler_name]]
    if not preempting:
        return False
    if any(pod.nominated_node for pod in cluster.pods if not pod.node_name) or any(p.nominated_node for p in queued):
        return True
    running = [pod.priority for pod in cluster.pods if pod.node_name]
    lowest = min(running) if running else None
    return lowest is not None and any(pod.preemption_policy != PREEMPT_NEVER and pod.priority > lowest
                                      for pod in preempting)


def schedule_with_preemption(scheduler, cluster: Cluster, pods: list[Pod], queue: list[int], seed: int = 0,
                             ties_first: bool = False) -> BatchOutcome:
    """Schedule ``pods[row]`` for ``row`` in ``queue`` (QueueSort order) on ``cluster``."""
    nodes = snapshot_order(cluster.nodes)
    usage = initial_usage(cluster)
    batch = BatchState(0, [seed], ties_first)
    rng = offset_rng(seed)
    current = {row: pods[row] for row in queue}
    row_of = {pods[row].key: row for row in queue}
    outcome = BatchOutcome({row: PodResult(None, None) for row in queue})
    bound: set[int] = set()
    rejectors: dict[int, set[str]] = {}
    waiting = BatchQueue(queue, lambda r: current[r].priority)
    input_nominated = [p for p in cluster.pods if not p.node_name and p.nominated_node and p.key not in row_of]
    objects = [item.obj for item in cluster.others]

    def event(kind: str, other: Pod) -> None:
        def moves(row: int) -> bool:
            profile = scheduler.profiles[current[row].scheduler_name]
            args = plugin_args(scheduler, current[row].scheduler_name)
            return any(requeues(plugin, current[row], kind, other, args, objects)
                       for plugin in profile.plugins if plugin.name in rejectors.get(row, set()))
        waiting.event(moves)

    for _ in range(max_steps(len(queue), len(cluster.pods) + len(queue))):
        for node_name, victim, by in waiting.due_marks():
            if mark_terminating(usage[node_name], victim) is not None:  # (a second preemptor's delete: no-op)
                waiting.delete_later((node_name, victim, by))
        row = waiting.pop()
        if row is None and waiting.marks_before_deletions():
            for node_name, victim, by in waiting.due_marks(flush=True):
                if mark_terminating(usage[node_name], victim) is not None:
                    waiting.delete_later((node_name, victim, by))
            continue
        if row is None:
            deletion = waiting.next_deletion()
            if deletion is None:
                break
            node_name, victim, by = deletion
            usage[node_name] = usage_of([pod for pod in usage[node_name].pods_here if pod.key != victim.key])
            outcome.evicted.append(Eviction(victim, node_name, by))
            gone = row_of.get(victim.key)
            if gone in bound:  # a pod bound earlier in this batch, preempted now
                bound.discard(gone)
                outcome.results[gone] = PodResult(None, f"preempted by {by} on node {node_name}")
            event(POD_DELETE, victim)
            continue
        pod = current[row]
        profile = scheduler.profiles[pod.scheduler_name]
        nominated = input_nominated + [current[r] for r in queue
                                       if r not in bound and r != row and current[r].nominated_node]
        view = cluster_view(scheduler, cluster, nodes, usage, pod.scheduler_name)
        result = run_cycle(profile, nodes, usage, pod, batch, view, nominated)
        if result.node is not None:
            placed = dataclasses.replace(pod, node_name=result.node, nominated_node="", start_time=None)
            usage[result.node].add(placed)
            current[row] = placed
            bound.add(row)
            waiting.done(row)
            outcome.results[row] = PodResult(result.node, None)
            event(POD_ADD, placed)
            continue
        rejectors[row] = {status[0] for status in result.status.values() if status is not None}
        if result.reject is not None:
            rejectors[row].add(result.reject[0])
        preemption = None
        if nodes and result.pre_filter is not None:
            ctx = CycleContext(profile, nodes, view, result.pre_filter, nominated, cluster.disruption_budgets,
                               NOT_STARTED)
            preemption = run_preemption(profile, ctx, pod, result, rng)
        post = post_filter_message(profile, preemption) if nodes and not result.error else None
        cleared: list[int] = []
        if preemption is not None and preemption.nominated_node is not None:
            current[row] = dataclasses.replace(pod, nominated_node=preemption.nominated_node)
            for victim in preemption.victims:
                if victim.deletion_timestamp is None:  # one already terminating needs no second delete
                    waiting.mark_later(row, (preemption.nominated_node, victim, pod.key))
            for other in preemption.cleared_nominations:
                r = row_of.get(other.key)
                if r is not None and r not in bound:
                    current[r] = dataclasses.replace(current[r], nominated_node="")
                    cleared.append(r)
        elif preemption is not None and preemption.eligible:
            current[row] = dataclasses.replace(pod, nominated_node="")  # preemption cannot help: cleared
        outcome.results[row] = PodResult(None, full_message(result.message, post),
                                         current[row].nominated_node or None)
        waiting.failed(row)
        for r in cleared:  # a pod whose nomination was cleared is tried again
            if waiting.where[r] == "unschedulable":
                waiting.requeue(r)
    else:
        raise BatchDidNotEnd(f"the batch of {len(queue)} pods did not end")
    return outcome


def mark_terminating(usage, victim: Pod) -> Pod | None:
    """A victim whose deletion started: terminating on its node (deletionTimestamp, and the DisruptionTarget
    condition the scheduler adds). Returns the pod as it is now there (None: not there, or terminating
    already)."""
    for i, pod in enumerate(usage.pods_here):
        if pod.key == victim.key and pod.deletion_timestamp is None:
            usage.pods_here[i] = dataclasses.replace(pod, deletion_timestamp=TERMINATING, preempted_by_scheduler=True)
            return usage.pods_here[i]
    return None


__all__ = ["BatchOutcome", "Eviction", "PodResult", "mark_terminating", "needs_preemption", "schedule_with_preemption"]
