"""The scheduling queue of a batch with preemption, on a small clock of its own.

Upstream's PriorityQueue (pkg/scheduler/backend/queue/scheduling_queue.go) as a batch meets it: every
pending pod in the active queue at once (PrioritySort: priority, then the queue timestamp, then input
order). A pod that fails waits among the unschedulable pods until a cluster event passes the QueueingHint
of a plugin that rejected it (``hints.py``); it then goes to the backoff queue, or to the active queue if its
backoff (1 s doubling to 10 s from its last failure) is over. With the active queue empty the backoff queue
is popped at once, earliest expiry first (SchedulerPopFromBackoffQ). A scheduling cycle takes ``CYCLE``
seconds; a victim of preemption is gone ``DELETION`` seconds after it was deleted (its kubelet confirming
the stop: the conformance corpus's clusters take 0.3 s; real ones take longer, which changes when, not
what). Deletions come only when no pod is left to try, as a scheduler is far faster than a kubelet.

Preemption is asynchronous (SchedulerAsyncPreemption, on by default since v1.33: preemption.go's
prepareCandidateAsync): the preemptor is nominated at once, but its victims are deleted by a goroutine's
API calls, so they show as terminating ``MARK_DELAY`` later (``mark_later``, ``due_marks``), after the
cycles of the pods already queued; until then DefaultPreemption's PreEnqueue keeps the preemptor out of
the queues (``gated``: IsPodRunningPreemption) and other pods see the victims as running pods.
"""

from __future__ import annotations

import heapq

CYCLE = 1e-6  # seconds per scheduling cycle on the batch's clock
DELETION = 0.3  # seconds from a victim's deletion to its leaving the cluster
MARK_DELAY = 1e-3  # seconds from preemption to its victims showing as terminating (the async API calls)
BACKOFF_INITIAL, BACKOFF_MAX = 1.0, 10.0  # podInitialBackoffSeconds, podMaxBackoffSeconds


def backoff_seconds(attempts: int) -> float:
    # the initial backoff doubled once per earlier attempt, capped (the cap is reached by the 5th)
    return min(BACKOFF_INITIAL * 2 ** min(max(attempts - 1, 0), 16), BACKOFF_MAX)


class BatchQueue:
    """The queue over rows ``queue`` (input order), ``priority_of(row)`` read when a row is queued."""

    def __init__(self, queue: list[int], priority_of):
        self.priority_of = priority_of
        self.rank = {row: i for i, row in enumerate(queue)}
        self.now = 0.0
        self.attempts = {row: 0 for row in queue}
        self.stamp = {row: 0.0 for row in queue}  # queue timestamp: the last failure (creation at first)
        self.popped = {row: 0.0 for row in queue}  # when its last attempt began
        self.expiry = {row: 0.0 for row in queue}
        self.where = {row: "active" for row in queue}  # active, backoff, unschedulable, gone
        self.active = [(-priority_of(row), 0.0, self.rank[row], row) for row in queue]
        heapq.heapify(self.active)
        self.backoff: list[tuple[float, int, int]] = []
        self.unschedulable: list[int] = []
        self.deletions: list[tuple[float, int, object]] = []  # (time, sequence, payload)
        self.marks: list[tuple[float, int, object]] = []  # victims whose deletion the API has not shown yet
        self.gated: dict[int, int] = {}  # preemptor row -> its victims not yet shown terminating
        self.sequence = 0

    def pop(self) -> int | None:
        """The next row to try (its attempt counted, the clock moved a cycle on); None when both queues are
        empty."""
        while self.active or self.backoff:
            if self.active:
                row = heapq.heappop(self.active)[3]
            else:
                row = heapq.heappop(self.backoff)[2]
            if self.where.get(row) in ("active", "backoff"):
                self.where[row] = "in flight"
                self.attempts[row] += 1
                self.now += CYCLE
                self.popped[row] = self.now
                return row
        return None

    def failed(self, row: int) -> None:
        """The row's attempt failed: it waits for an event. (Its failure counts from when its attempt began,
        so a caller may pop the next rows before it records this one.)"""
        self.stamp[row] = self.popped[row]
        self.expiry[row] = self.popped[row] + backoff_seconds(self.attempts[row])
        self.where[row] = "unschedulable"
        self.unschedulable.append(row)

    def done(self, row: int) -> None:
        self.where[row] = "gone"

    def requeue(self, row: int) -> None:
        """To the active queue when its backoff is over, else to the backoff queue."""
        if self.where.get(row) == "unschedulable":
            self.unschedulable.remove(row)
        if self.expiry[row] <= self.now:
            self.where[row] = "active"
            heapq.heappush(self.active, (-self.priority_of(row), self.stamp[row], self.rank[row], row))
        else:
            self.where[row] = "backoff"
            heapq.heappush(self.backoff, (self.expiry[row], self.rank[row], row))

    def event(self, moves) -> None:
        """A cluster event: every unschedulable row for which ``moves(row)`` is true is requeued (a row
        whose preemption is still in flight stays: DefaultPreemption's PreEnqueue gates it)."""
        for row in [r for r in self.unschedulable if moves(r) and not self.gated.get(r)]:
            self.requeue(row)

    def mark_later(self, row: int, payload) -> None:
        """Preemptor ``row`` deleted a victim now: the deletion shows (the victim terminating) after
        MARK_DELAY, as the asynchronous preemption's API calls come back; ``row`` is gated until then."""
        self.sequence += 1
        self.gated[row] = self.gated.get(row, 0) + 1
        heapq.heappush(self.marks, (self.now + MARK_DELAY, self.sequence, (row, payload)))

    def marks_before_deletions(self) -> bool:
        """Whether a victim's deletion is still to show before the next victim leaves."""
        return bool(self.marks) and (not self.deletions or self.marks[0][0] <= self.deletions[0][0])

    def due_marks(self, flush: bool = False) -> list:
        """The victims whose deletion shows by now (``flush``: the next ones, the clock moved to them)."""
        out = []
        if flush and self.marks:
            self.now = max(self.now, self.marks[0][0])
        while self.marks and self.marks[0][0] <= self.now:
            _, _, (row, payload) = heapq.heappop(self.marks)
            self.gated[row] -= 1
            out.append(payload)
        return out

    def delete_later(self, payload) -> None:
        """A victim deleted now: ``payload`` comes back from ``next_deletion`` once it is gone."""
        self.sequence += 1
        heapq.heappush(self.deletions, (self.now + DELETION, self.sequence, payload))

    def next_deletion(self):
        """The next victim to leave (the clock moves to then), or None."""
        if not self.deletions:
            return None
        when, _, payload = heapq.heappop(self.deletions)
        self.now = max(self.now, when)
        return payload


__all__ = ["BatchQueue", "CYCLE", "DELETION", "backoff_seconds"]
