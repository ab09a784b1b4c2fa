"""The scheduling queue of a replay, on the simulated clock, as compiled helpers over record arrays.

Upstream's PriorityQueue (pkg/scheduler/backend/queue/scheduling_queue.go, active_queue.go,
backoff_queue.go): an active queue ordered by the QueueSort plugin (PrioritySort: priority, then the
queue timestamp), a backoff queue ordered by backoff expiry, and a set of unschedulable pods that
wait for a cluster event one of their rejecting plugins registers for (QueueingHints). Backoff is
``initial * 2^(attempts-1)`` capped at ``max`` (1 s and 10 s by default); pods left unschedulable
for ``podMaxInUnschedulablePodsDuration`` (5 min) are moved back whatever happened.

Everything lives in ``ReplayArrays`` (``tables``: a record per trace pod, per queue item and per group)
and two small counter arrays (``counts``, ``times``), so the compiled driver can stop after a chunk of work and resume where it left off:
Python shows progress, grows the record tables and handles Ctrl-C between chunks. Ties at the same
simulated time are broken by the pod's row in the trace, so a replay is deterministic.

Groups. A backlog of pods waiting for room is retried in full at every departure (NodeResourcesFit
requeues on AssignedPodDelete, and SchedulerPopFromBackoffQ pops the backoff queue at once), so attempts
grow as backlog x departures. Pods of one shape whose backoff is at its cap and whose last attempt
failed on every node at the same moment and cluster state are indistinguishable to the queue except
for their trace rows: they are kept as one *group* item, members linked in row order, with the
attempts they made together counted once for the group (a group's ``offset``). Queue items are pods
(``0..P-1``) and groups (``P..``); heaps break ties by ``tie`` (a pod's row, a group's first member).
A popped group runs one cycle for its shape (``incremental.py``): if no node fits, it joins a *batch*;
when the next pod is popped, every batched group fails at once for its members that come before that
pod in the queue's order (the rest go back to the queue), exactly as one cycle per member would have
failed them: failures change nothing another pod's cycle sees. If some node fits, the group's first
member is released as an ordinary pod and tried alone.

Modules, after upstream's pieces: ``records`` (the tables and their slots), ``heap``, ``active`` (activeQ
and backoffQ placement and popping), ``backoff`` (backoff durations), ``unschedulable`` (the
unschedulable pods), ``events`` (cluster events moving them), ``failures`` (why an attempt failed),
``groups`` (the lockstep groups), ``slots`` (per-signature Filter verdicts), ``lifecycle`` (arrivals,
attempts' outcomes, departures and the clock), ``compiled`` (how they are compiled).
"""

from __future__ import annotations

from .events import cluster_event
from .groups import batch_add, release_head, settle_groups
from .lifecycle import (
    admit_arrivals, delete_pending, departed, flush, next_time, pop_finished, pop_next, record, timeline_row,
)
from . import records
from .records import *  # noqa: F401,F403  (the tables, statuses and slots, as queue.NAME)
from .slots import copy_slot_histogram, log_change, slot_for, slot_hist_add

# The functions the compiled replay driver calls (replay/driver.py).
DRIVER_FUNCTIONS = (
    record, cluster_event, pop_next, next_time, pop_finished, departed, delete_pending, admit_arrivals, flush,
    timeline_row, log_change, slot_hist_add, slot_for, copy_slot_histogram, batch_add, release_head,
)

__all__ = [*records.__all__, "DRIVER_FUNCTIONS", "settle_groups", *(f.__name__ for f in DRIVER_FUNCTIONS)]
