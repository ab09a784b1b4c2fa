"""The batch with preemption, fast: compiled cycles, DefaultPreemption in Python only where it runs.

``batch.py`` is the readable model: its queue (``batch_queue.py``), each cycle through ``schedkit.reference``.
This module makes the same decisions with the profile's compiled loop for the cycles, where that is
exact, and ``batch.py``'s plain-Python pieces for the rest:

- Pods run in *segments*: consecutive pods in the queue's order that see the same
  nominated pods. A segment ends after a pod that may preempt (its PostFilter can nominate a node,
  delete victims and clear nominations, which the next pods see) and after a pod holding a nomination.
- Nominated pods hold room on their nodes in later pods' Filter (RunFilterPluginsWithNominatedPods):
  for a segment, the nominated pods of equal or higher priority are added to their nodes' columns. For
  the node-local plugins this batch admits (``covers``), a node that fails with them added is the node
  upstream fails with the same status, and one that passes with them passes without; only its scores
  would differ (upstream scores without them). So before a segment, an explain run per pod spec checks
  that no such node is feasible; a spec for which one is runs its pods through ``schedkit.reference``.
- A pod that fails and may preempt gets its nodes' Filter codes from an explain run, then
  ``preempt`` (the plain-Python dry run) over the reference's view of the cluster, kept alongside.
- Victims stay on their nodes (terminating) until they leave (``BatchQueue.next_deletion``), then leave
  both views.

The two views of the cluster (the compiled loop's columns, the reference's nodes and pods) are
``fast_views.BatchViews``; this module holds the queue's walk: segments, cycles and PostFilter.

- A nominated preemptor retried while its victims terminate usually fails again exactly as before:
  ``retry.py`` decides such attempts from one shared scan per pod signature.

What it covers is ``coverage.covers``; anything else runs ``batch.py`` whole.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..cluster import Cluster
from ..framework.loop_errors import MISSING_STATE
from ..framework.plugin import requeued_on
from ..framework.runtime import python_rand_intn
from ..framework.scheduler import fast_path_message, failure_message, unschedulable_nodes
from ..objects import PREEMPT_NEVER, Pod
from ..reference import (
    BatchState,
    CycleResult,
    filter_with_nominated,
    plugin_args,
    run_cycle,
    run_pre_filter,
    fit_filter,
    status_code,
)
from .batch import BatchDidNotEnd, BatchOutcome, Eviction, PodResult, max_steps, offset_rng
from .batch_queue import BatchQueue
from .evaluator import (
    NOT_HELPFUL,
    NOT_STARTED,
    CycleContext,
    PreemptionOutcome,
    eligible_to_preempt,
    fit_error_message,
    preempt,
)
from .fast_views import BatchViews
from .hints import POD_ADD, POD_DELETE, requeues
from .coverage import covers
from .postfilter import draws_offset, full_message, post_filter_message, preemption_plugin
from .resource_dry_run import dry_run_resources, pick_one_arrays
from .retry import RetryShortcut


class FastBatch:
    """One batch, scheduled as ``batch.py`` schedules it (see there)."""

    def __init__(self, scheduler, profile, cluster: Cluster, pods: list[Pod], queue: list[int], seed: int,
                 ties_first: bool):
        self.scheduler, self.profile, self.cluster, self.pods, self.queue = scheduler, profile, cluster, pods, queue
        self.v = BatchViews(scheduler, profile, cluster, pods, queue, seed)
        self.batch = BatchState(0, [seed], ties_first)  # the reference cycle's streams (kept in step)
        self.offsets = offset_rng(seed)
        self.rank = {row: i for i, row in enumerate(queue)}
        self.nominated_rows = {row for row in queue if pods[row].nominated_node}  # pending pods holding a node
        self.min_bound = min((p.priority for p in cluster.pods if p.node_name), default=None)
        # The resource-only dry run needs NodeResourcesFit filtering and no PodDisruptionBudget to account.
        self.fit_plugin = next((profile.plugins[i] for i in profile.points["filter"]
                                if profile.plugins[i].name == "NodeResourcesFit"), None)
        self.arrays_dry_run = not cluster.disruption_budgets and self.fit_plugin is not None
        self.pre_filters: dict[object, object] = {}
        self.wanted_memo: dict[int, dict[int, int]] = {}  # priority -> _wanted of a pod holding no nomination
        self.args = plugin_args(scheduler, profile.scheduler_name)  # for the QueueingHints (hints.py)
        self.objects = [item.obj for item in cluster.others]
        self.rejectors: dict[int, set[str]] = {}  # row -> the plugins that rejected its last attempt
        self.nominated_by_batch: set[int] = set()  # rows nominated by this batch's preemption (not the input)
        self.nominated_status: dict[int, str] = {}  # row -> its nominated node's Filter code, this attempt
        # plugins whose QueueingHints a binding can pass (bindings are pod_add events)
        self.add_sensitive = {p.name for p in profile.plugins if "pod_add" in requeued_on(p)}
        self.add_waiting: set[int] = set()  # unschedulable rows a plugin in add_sensitive rejected
        self.retry = RetryShortcut(self)

    @classmethod
    def for_batch(cls, scheduler, cluster: Cluster, pods: list[Pod], queue: list[int], seed: int = 0,
                  ties_first: bool = False) -> "FastBatch | None":
        """A FastBatch ready to run (its loops compiled or loaded), or None when the batch is outside what
        it covers."""
        profile = covers(scheduler, cluster, pods, queue)
        if profile is None:
            return None
        scheduler.next_start_node_index[:] = 0
        fast = cls(scheduler, profile, cluster, pods, queue, seed, ties_first)
        c = fast.v.c
        empty = np.zeros(0, dtype=np.int64)
        for explain, outputs in ((False, c.outputs), (True, c.explain_outputs)):
            scheduler._run(profile, c.state, c.columns, empty, c.prepared, outputs, c.rng.copy(), c.sig,
                           explain=explain, pods=pods, pod_ids=c.pod_ids)
        fast.compiled = profile.compiled
        fast._dry_run_warm_up()
        return fast

    # -- the two views of the cluster -------------------------------------------------------------------

    def _nominated(self, bound: set[int], row: int) -> list[Pod]:
        return [self.v.current[r] for r in sorted(self.nominated_rows, key=self.rank.__getitem__)
                if r not in bound and r != row]

    def _nominations_changed(self) -> None:
        self.wanted_memo.clear()
        self.retry.with_self_memo.clear()

    def _nominate(self, row: int, node: str) -> None:
        self._nominations_changed()
        self.nominated_by_batch.discard(row)
        self.v.current[row] = dataclasses.replace(self.v.current[row], nominated_node=node)
        if node:
            self.nominated_rows.add(row)
        else:
            self.nominated_rows.discard(row)

    def _bind(self, row: int, node: str) -> None:
        """Pod ``row`` bound to ``node`` (in the views; the columns by whoever bound it)."""
        pod = self.v.current[row]
        if pod.nominated_node:
            self.nominated_rows.discard(row)
            self._nominations_changed()
        self.v.bind(row, node)
        self.waiting.done(row)
        self._event(POD_ADD, pod, self.rejectors)  # (node_name unset: the hints read labels, namespace, ports)
        if self.min_bound is None or pod.priority < self.min_bound:
            self.min_bound = pod.priority

    # -- one pod's cycle ---------------------------------------------------------------------------------

    def _may_preempt(self, pod: Pod) -> bool:
        return pod.preemption_policy != PREEMPT_NEVER and self.min_bound is not None and pod.priority > self.min_bound

    def _compiled_chunk(self, rows: list[int], outcome: BatchOutcome, bound: set[int],
                        rejectors: dict[int, set[str]]) -> None:
        """The pods' cycles in one call of the compiled loop; a failed one's PostFilter after it (only the
        chunk's last pod may preempt or hold a nomination: segments end there)."""
        c = self.v.c
        self.scheduler._run(self.profile, c.state, c.columns, np.asarray(rows, dtype=np.int64), c.prepared,
                            c.outputs, c.rng, c.sig, pod_ids=c.pod_ids, pod_keys=self.v.pod_keys)
        chosen = c.outputs.node[np.asarray(rows, dtype=np.int64)]
        if (chosen >= 0).any():
            self.v.version += 1
        if len(rows) > 1 and (chosen >= 0).all() and self._bindings_move_nobody() \
                and not any(self.v.current[row].nominated_node for row in rows):
            self._bind_all(rows, chosen.tolist(), outcome, bound, rejectors)
            return
        for row in rows:
            rejectors[row] = self._compiled_outcome(row, outcome, bound)

    def _bindings_move_nobody(self) -> bool:
        """Whether no unschedulable pod waits for a binding (``_event``'s POD_ADD would move nobody)."""
        self.add_waiting = {r for r in self.add_waiting if self.waiting.where[r] == "unschedulable"}
        return not self.add_waiting

    def _bind_all(self, rows: list[int], chosen: list[int], outcome: BatchOutcome, bound: set[int],
                  rejectors: dict[int, set[str]]) -> None:
        """Every pod of a chunk bound, none holding a nomination, no pod waiting for a binding: what
        ``_compiled_outcome`` does for each, at once (the bindings' events would move nobody)."""
        names = self.v.c.state.node_names
        self.v.bind_all(rows, chosen)
        where = self.waiting.where
        for row, n in zip(rows, chosen):
            where[row] = "gone"  # BatchQueue.done
            bound.add(row)
            outcome.results[row] = PodResult(names[n], None)
            rejectors[row] = set()
        lowest = min(self.v.current[row].priority for row in rows)
        if self.min_bound is None or lowest < self.min_bound:
            self.min_bound = lowest

    def _compiled_outcome(self, row: int, outcome: BatchOutcome, bound: set[int]) -> set[str]:
        """What the compiled cycle of ``row`` left: its binding, or its failure and PostFilter. Returns
        its rejectors."""
        c = self.v.c
        pod = self.v.current[row]
        chosen = int(c.outputs.node[row])
        if chosen >= 0:
            self._bind(row, c.state.node_names[chosen])
            bound.add(row)
            outcome.results[row] = PodResult(c.state.node_names[chosen], None)
            return set()
        hist = [(int(c.outputs.hist_plugin[row, k]), int(c.outputs.hist_code[row, k]), int(c.outputs.hist_count[row, k]))
                for k in range(int(c.outputs.hist_len[row]))]
        reject_plugin, reject_code = int(c.outputs.reject_plugin[row]), int(c.outputs.reject_code[row])
        rejectors = {self.profile.plugins[i].name for i, _, _ in hist}
        if reject_plugin >= 0:
            rejectors.add(self.profile.plugins[reject_plugin].name)
        self.rejectors[row] = rejectors
        if not self._may_preempt(pod) and not pod.nominated_node:
            # No pod of lower priority anywhere: every Unschedulable node has no victims.
            message = fast_path_message(self.profile, c.state.num_nodes, reject_plugin, reject_code, hist, pod)
            unschedulable = unschedulable_nodes(self.profile, c.state.num_nodes, reject_plugin, reject_code, hist)
            if draws_offset(pod, unschedulable):
                python_rand_intn(self.offsets, unschedulable)
            outcome.results[row] = PodResult(None, message, None)
            self._failed(row)
            return rejectors
        message = failure_message(self.profile, c.state.num_nodes, reject_plugin, reject_code, hist, pod.key)
        error = reject_code == MISSING_STATE or any(code == MISSING_STATE for _, code, _ in hist) \
            or not c.state.num_nodes
        nominated_code = self.nominated_status.pop(row, None)
        if not error and pod.nominated_node and nominated_code not in (None, "UnschedulableAndUnresolvable"):
            # PodEligibleToPreemptOthers decides from the nominated node alone (tried first this attempt):
            # while a victim terminates there, the pod does not preempt again, and no node needs a look.
            node = self.v.node_of.get(pod.nominated_node)
            self.v.flush(pod.nominated_node)
            ok, why = eligible_to_preempt(pod, nominated_code, self.v.usage[node.name].pods_here)
            if not ok:
                post = post_filter_message(self.profile, PreemptionOutcome(False, why))
                outcome.results[row] = PodResult(None, full_message(message, post), pod.nominated_node)
                self._failed(row)
                return rejectors
        failed, codes = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)) if reject_plugin >= 0 \
            else self.v.codes(row)
        potential_rows = failed[codes == "Unschedulable"]
        if not error and not pod.nominated_node and not len(potential_rows):
            # Eligible, and no node where removing pods could help: preempt's first answer, without the
            # cluster's plain-Python view.
            post = post_filter_message(self.profile, PreemptionOutcome(
                True, fit_error_message(c.state.num_nodes, {}, NOT_HELPFUL)))
            outcome.results[row] = PodResult(None, full_message(message, post), None)
            self._failed(row)
            return rejectors
        view = self.v.view(full=not self._arrays_dry_run())
        if pod.nominated_node in self.v.node_row:
            self.v.flush(pod.nominated_node)  # eligibility looks at the pods there
        nominated = self._nominated(bound, row)
        pre = self._pre_filter(row)
        names = self.v.c.state.node_names
        if self._arrays_dry_run():  # it reads the potential rows, and the nominated node's code
            at = np.flatnonzero(failed == self.v.node_row.get(pod.nominated_node, -1))
            by_node = {pod.nominated_node: codes[at[0]]} if len(at) else {}
        else:
            by_node = {names[n]: code for n, code in zip(failed.tolist(), codes.tolist())}
        result = CycleResult(None, message, [], False, None, {}, [], {}, {}, by_node, pre, error)
        self._post_filter(row, result, view, nominated, outcome, potential_rows)
        self._failed(row)
        return rejectors

    def _reference_cycle(self, row: int, outcome: BatchOutcome, bound: set[int]) -> set[str]:
        """The pod's cycle through ``schedkit.reference`` (what batch.py does), the streams kept in step."""
        c = self.v.c
        pod = self.v.current[row]
        self.batch.rng[0] = int(c.rng[0])
        self.batch.next_start = int(self.scheduler.next_start_node_index[0])
        view = self.v.view()
        nominated = self._nominated(bound, row)
        result = run_cycle(self.profile, self.v.nodes, self.v.usage, pod, self.batch, view, nominated)
        c.rng[0] = np.uint64(self.batch.rng[0])
        self.scheduler.next_start_node_index[0] = self.batch.next_start
        if result.node is not None:
            self._bind(row, result.node)
            self.v.reserve(row, self.v.node_row[result.node])
            bound.add(row)
            outcome.results[row] = PodResult(result.node, None)
            return set()
        rejectors = {status[0] for status in result.status.values() if status is not None}
        if result.reject is not None:
            rejectors.add(result.reject[0])
        self.rejectors[row] = rejectors
        self._post_filter(row, result, view, nominated, outcome)
        self._failed(row)
        return rejectors

    def _post_filter(self, row: int, result: CycleResult, view, nominated: list[Pod], outcome: BatchOutcome,
                     potential_rows: np.ndarray | None = None) -> None:
        """batch.py's PostFilter step for a failed cycle (``potential_rows``: its Unschedulable nodes, when
        known; else from ``result.codes``)."""
        pod = self.v.current[row]
        preemption = None
        if self.v.nodes and result.pre_filter is not None and not result.error:
            ctx = CycleContext(self.profile, self.v.nodes, view, result.pre_filter, nominated,
                               self.cluster.disruption_budgets, NOT_STARTED)
            if potential_rows is not None and self._arrays_dry_run():
                preemption = self._preempt_arrays(ctx, pod, result.codes, potential_rows)
            else:
                preemption = preempt(ctx, pod, result.codes, preemption_plugin(self.profile).args, self.offsets)
        post = post_filter_message(self.profile, preemption) if self.v.nodes and not result.error else None
        if preemption is not None and preemption.nominated_node is not None:
            self._nominate(row, preemption.nominated_node)
            self.nominated_by_batch.add(row)
            self.v.flush(preemption.nominated_node)
            for victim in preemption.victims:
                if victim.deletion_timestamp is None:
                    self.waiting.mark_later(row, (preemption.nominated_node, victim, pod.key))
            for other in preemption.cleared_nominations:
                r = self.row_of.get(other.key)
                if r is not None and r not in self.bound:
                    self._nominate(r, "")
                    self.cleared_now.append(r)
        elif preemption is not None and preemption.eligible:
            self._nominate(row, "")
        outcome.results[row] = PodResult(None, full_message(result.message, post),
                                         self.v.current[row].nominated_node or None)

    def _dry_run_warm_up(self) -> None:
        """Compile the arrays dry run's walk (or load it from numba's cache) before the batch is timed."""
        if self._arrays_dry_run():
            N, R = self.v.resource_nodes.allocatable.shape
            dry_run_resources(self.profile, self.fit_plugin, self.pods[self.queue[0]], self.v.bound_pods,
                              self.v.resource_nodes, np.zeros((N, R), dtype=np.int64), np.zeros(N, dtype=np.int64),
                              np.zeros(0, dtype=np.int64), 0, 1)

    def _arrays_dry_run(self) -> bool:
        return self.arrays_dry_run

    def _pre_filter(self, row: int):
        """The pod's PreFilter outcome: on the nodes alone (covers: it never depends on pods), once per
        signature (the node-local plugins' view of the pod; the cross-node ones skip every pod here)."""
        key = int(self.v.c.sig[row]) if self.v.c.sig[row] >= 0 else ("row", row)
        pre = self.pre_filters.get(key)
        if pre is None:
            pre = self.pre_filters[key] = run_pre_filter(self.profile, self.v.current[row], self.v.empty_view)
        return pre

    def _preempt_arrays(self, ctx: CycleContext, pod: Pod, codes: dict[str, str], potential: np.ndarray
                        ) -> PreemptionOutcome:
        """``evaluator.preempt`` with the dry run over arrays (``resource_dry_run``) and the Unschedulable
        node rows known: the same steps, without lists of every node."""
        nominated_node = self.v.node_of.get(pod.nominated_node) if pod.nominated_node else None
        ok, why = eligible_to_preempt(pod, codes.get(pod.nominated_node),
                                      ctx.view.pods_on(nominated_node) if nominated_node else None)
        if not ok:
            return PreemptionOutcome(False, why)
        outcome = PreemptionOutcome(True)
        if not len(potential):
            outcome.message = fit_error_message(len(self.v.nodes), {}, NOT_HELPFUL)
            return outcome
        args = preemption_plugin(self.profile).args
        outcome.offset = python_rand_intn(self.offsets, len(potential))
        outcome.num_candidates = args.num_candidates(len(potential))
        N, R = self.v.resource_nodes.allocatable.shape
        requests = np.zeros((N, R), dtype=np.int64)
        # What RunFilterPluginsWithNominatedPods adds on each node: the nominated pods of equal or higher
        # priority (all of them rows of the batch: covers), their requests from the columns.
        rows = [r for r in self.nominated_rows if r not in self.bound and self.v.current[r].key != pod.key
                and self.v.current[r].priority >= pod.priority]
        at = np.array([self.v.node_row[self.v.current[r].nominated_node] for r in rows], dtype=np.int64)
        np.add.at(requests, at, self.v.c.columns.requests[np.array(rows, dtype=np.int64)])
        counts = np.bincount(at, minlength=N).astype(np.int64)
        outcome.candidates, statuses = dry_run_resources(
            self.profile, self.fit_plugin, pod, self.v.bound_pods, self.v.resource_nodes, requests, counts,
            potential, outcome.offset, outcome.num_candidates)
        if not outcome.candidates:
            outcome.dry_run_statuses = statuses.as_dict()
            outcome.message = fit_error_message(len(self.v.nodes), outcome.dry_run_statuses, NOT_HELPFUL)
            return outcome
        index, outcome.rule = pick_one_arrays(outcome.candidates)
        best = outcome.candidates[index]
        outcome.nominated_node, outcome.victims = best.node, best.victims
        outcome.cleared_nominations = [q for q in ctx.nominated
                                       if q.nominated_node == best.node and q.priority < pod.priority]
        return outcome

    def _try_nominated(self, row: int, bound: set[int], outcome: BatchOutcome) -> bool:
        """evaluateNominatedNode: a pod holding a nomination binds there when the node passes Filter.

        When this batch's preemption chose the node, it passed every node-level Filter plugin then (nodes
        do not change in a batch), the cross-node ones skip and no pod has host ports: the verdict is
        NodeResourcesFit's on the columns, which hold the nominated pods this cycle adds (``set_assumed``)."""
        pod = self.v.current[row]
        node = self.v.node_of.get(pod.nominated_node)
        if node is None:
            return False
        pre = self._pre_filter(row)
        if pre.reject is not None or pre.no_state or (pre.allowed is not None and node.name not in pre.allowed):
            return False
        if self.fit_plugin is not None and row in self.nominated_by_batch:
            reasons = fit_filter(self.fit_plugin, pod, node, self.v.column_usage(node.name))
            status = ("NodeResourcesFit", reasons) if reasons else None
        else:
            self.v.flush(node.name)
            status = filter_with_nominated(self.profile, pod, node, self.v.view(full=False), pre,
                                           self._nominated(bound, row))
        if status is not None:
            # kept for this attempt's PostFilter: whether the pod may preempt again depends on it
            self.nominated_status[row] = status_code(self.profile, pod, node, *status)
            return False
        self._bind(row, node.name)
        self.v.reserve(row, self.v.node_row[node.name])
        bound.add(row)
        outcome.results[row] = PodResult(node.name, None)
        return True

    # -- segments and the queue's walk -----------------------------------------------------------------------------

    def _wanted(self, row: int, bound: set[int]) -> dict[int, int]:
        """The nominated pods the cycle of ``row`` adds to their nodes: equal or higher priority, not itself."""
        priority = self.v.current[row].priority
        if row not in self.nominated_rows and priority in self.wanted_memo:
            return self.wanted_memo[priority]
        wanted = {r: self.v.node_row[self.v.current[r].nominated_node] for r in self.nominated_rows
                  if r not in bound and r != row and self.v.current[r].priority >= priority}
        if row not in self.nominated_rows:
            self.wanted_memo[priority] = wanted
        return wanted

    def _unsafe_specs(self, rows: list[int]) -> set[int]:
        """Signatures (or rows, for pods without one) for which some node holding an added nominated pod
        is feasible: their scores there would differ from upstream's, so they run through the reference."""
        if not self.v.assumed:
            return set()
        held = set(self.v.assumed.values())
        unsafe, seen = set(), set()
        for row in rows:
            key = int(self.v.c.sig[row]) if self.v.c.sig[row] >= 0 else -1 - row
            if key in seen:
                continue
            seen.add(key)
            if not self._may_fit_any(row, held):
                continue
            out = self.v.explain(row)
            if any(out.ex_state[n] in (2, 3) for n in held):
                unsafe.add(key)
        return unsafe

    def _may_fit_any(self, row: int, held: set[int]) -> bool:
        return self.fit_plugin is None or self.v.may_fit_any(row, held)

    def _event(self, kind: str, other: Pod, rejectors: dict[int, set[str]]) -> None:
        """A cluster event: the unschedulable pods it moves back to the queue (their plugins' hints)."""
        if kind == POD_ADD:
            # only pods a plugin registering bindings rejected can move: skip the rest, per binding
            self.add_waiting = {r for r in self.add_waiting if self.waiting.where[r] == "unschedulable"}
            if not self.add_waiting:
                return

        def moves(row: int) -> bool:
            return any(requeues(plugin, self.v.current[row], kind, other, self.args, self.objects)
                       for plugin in self.profile.plugins if plugin.name in rejectors.get(row, set()))
        self.waiting.event(moves)

    def _failed(self, row: int) -> None:
        """The pod waits for an event; the pods whose nomination its preemption cleared are tried again."""
        self.waiting.failed(row)
        if self.rejectors.get(row, set()) & self.add_sensitive:
            self.add_waiting.add(row)
        for r in self.cleared_now:
            if self.waiting.where[r] == "unschedulable":
                self.waiting.requeue(r)
        self.cleared_now = []

    def _show_deletions(self, marks: list) -> None:
        """Victims whose deletion the API shows now: terminating on their node, gone DELETION later (a
        victim another preemptor deleted first is terminating already)."""
        for node_name, victim, by in marks:
            if self.v.mark_terminating(node_name, victim):
                self.waiting.delete_later((node_name, victim, by))

    def _segment(self, first: int, bound: set[int]) -> tuple[list[int], dict[int, int], int | None]:
        """Pods popped from ``first`` on that add the same nominated pods, up to and including the first
        that may preempt or holds a nomination; the nominated pods; the next pod popped, when it starts
        another segment. (Popping ahead is safe here: only a binding could move a pod in between, and in
        the batches this covers bindings move none, see ``_event``; a segment's pods see the same
        nominated pods by construction.)"""
        wanted = self._wanted(first, bound)
        segment = [first]
        while True:
            pod = self.v.current[segment[-1]]
            if pod.nominated_node or self._may_preempt(pod):
                return segment, wanted, None
            row = self.waiting.pop()
            if row is None:
                return segment, wanted, None
            if self._wanted(row, bound) != wanted:
                return segment, wanted, row
            segment.append(row)

    def run(self) -> BatchOutcome:
        queue, pods = self.queue, self.pods
        self.row_of = {pods[row].key: row for row in queue}
        outcome = BatchOutcome({row: PodResult(None, None) for row in queue})
        self.bound: set[int] = set()
        bound = self.bound
        self.waiting = BatchQueue(queue, lambda r: self.v.current[r].priority)
        self.cleared_now: list[int] = []
        rejectors: dict[int, set[str]] = self.rejectors
        ahead: int | None = None
        for _ in range(max_steps(len(queue), len(self.cluster.pods) + len(queue))):
            self._show_deletions(self.waiting.due_marks())
            row, ahead = (ahead, None) if ahead is not None else (self.waiting.pop(), None)
            if row is None and self.waiting.marks_before_deletions():
                self._show_deletions(self.waiting.due_marks(flush=True))
                continue
            if row is None:
                deletion = self.waiting.next_deletion()
                if deletion is None:
                    break
                node_name, victim, by = deletion
                self.v.remove(node_name, victim)
                outcome.evicted.append(Eviction(victim, node_name, by))
                gone = self.row_of.get(victim.key)
                if gone in bound:  # a pod bound earlier in this batch, preempted now
                    bound.discard(gone)
                    outcome.results[gone] = PodResult(None, f"preempted by {by} on node {node_name}")
                self._event(POD_DELETE, victim, rejectors)
                continue
            if row in self.nominated_by_batch:
                again = self.retry.fails_again(row)
                if again is not None:
                    pod = self.v.current[row]
                    self.rejectors[row] = set(again.rejectors)
                    outcome.results[row] = PodResult(None, again.message, pod.nominated_node)
                    self._failed(row)
                    continue
            segment, wanted, ahead = self._segment(row, bound)
            self.v.set_assumed(wanted)
            unsafe = self._unsafe_specs(segment)
            chunk: list[int] = []  # consecutive pods for one compiled call
            for row in segment:
                pod = self.v.current[row]
                key = int(self.v.c.sig[row]) if self.v.c.sig[row] >= 0 else -1 - row
                if not pod.nominated_node and key not in unsafe:
                    chunk.append(row)
                    continue
                if chunk:
                    self._compiled_chunk(chunk, outcome, bound, rejectors)
                    chunk = []
                if pod.nominated_node and self._try_nominated(row, bound, outcome):
                    continue
                if key in unsafe:
                    rejectors[row] = self._reference_cycle(row, outcome, bound)
                else:
                    self._compiled_chunk([row], outcome, bound, rejectors)
            if chunk:
                self._compiled_chunk(chunk, outcome, bound, rejectors)
        else:
            raise BatchDidNotEnd(f"the batch of {len(queue)} pods did not end")
        self.v.set_assumed({})
        return outcome


def schedule_fast(scheduler, cluster: Cluster, pods: list[Pod], queue: list[int], seed: int = 0,
                  ties_first: bool = False) -> BatchOutcome | None:
    """The batch through ``FastBatch``, or None when it is outside what that covers."""
    fast = FastBatch.for_batch(scheduler, cluster, pods, queue, seed, ties_first)
    return None if fast is None else fast.run()


__all__ = ["FastBatch", "covers", "schedule_fast"]
