"""The scheduling queue of a replay, on the simulated clock, as compiled helpers over arrays.

Upstream's PriorityQueue (pkg/scheduler/backend/queue/scheduling_queue.go, active_queue.go,
backoff_queue.go): an active queue ordered by the QueueSort plugin (PrioritySort: priority, then the
queue timestamp), a backoff queue ordered by backoff expiry, and a set of unschedulable pods that
wait for a cluster event one of their rejecting plugins registers for (QueueingHints). Backoff is
``initial * 2^(attempts-1)`` capped at ``max`` (1 s and 10 s by default); pods left unschedulable
for ``podMaxInUnschedulablePodsDuration`` (5 min) are moved back whatever happened.

Everything lives in ``ReplayArrays`` (a row per trace pod, per queue item and per group) and two small
counter arrays, so the compiled driver can stop after a chunk of work and resume where it left off:
Python shows progress, grows the record tables and handles Ctrl-C between chunks. Ties at the same
simulated time are broken by the pod's row in the trace, so a replay is deterministic.

Groups. A backlog of pods waiting for room is retried in full at every departure (NodeResourcesFit
requeues on AssignedPodDelete, and SchedulerPopFromBackoffQ pops the backoff queue at once), so attempts
grow as backlog x departures. Pods of one shape whose backoff is at its cap and whose last attempt
failed on every node at the same moment and cluster state are indistinguishable to the queue except
for their trace rows: they are kept as one *group* item, members linked in row order, with the
attempts they made together counted once for the group (``g_offset``). Queue items are pods
(``0..P-1``) and groups (``P..``); heaps break ties by ``tie`` (a pod's row, a group's first member).
A popped group runs one cycle for its shape (``incremental.py``): if no node fits, it joins a *batch*;
when the next pod is popped, every batched group fails at once for its members that come before that
pod in the queue's order (the rest go back to the queue), exactly as one cycle per member would have
failed them: failures change nothing another pod's cycle sees. If some node fits, the group's first
member is released as an ordinary pod and tried alone.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from ..framework.plugin import CLUSTER_EVENTS, compiled_for_loops


def helper(function):
    """Compile a queue helper like a plugin kernel (``schedkit.framework.plugin.kernel``): for calls from
    the compiled driver, without numba's reference counting. The helpers never create an array, and
    every one takes ``R``, a tuple of some sixty arrays: counting references to each of them on every
    call made replays of a backlog twice as slow, and the driver slower to build."""
    return compiled_for_loops(function, cache=True, nogil=True, _nrt=False)


def small_helper(function):
    """A few lines used in several places: inlined by numba where it is called, instead of compiled as a
    function of its own (each function taking ``R`` costs a third of a second to compile)."""
    return compiled_for_loops(function, cache=True, nogil=True, _nrt=False, inline="always")


# Pod status
NOT_ARRIVED, ACTIVE, BACKOFF, UNSCHEDULABLE, RUNNING, DONE, DELETED, IN_FLIGHT, HELD = range(9)
GROUPED = 9  # a pod whose queue state is its group's
IN_BATCH = 10  # a group whose members are about to fail together
FREE = 11  # an unused group item

# Cluster events a rejected pod may wait for (bit per event in a plugin's mask), numbered in the order
# of the names plugins declare them by (``Plugin.requeue_events``)
EVENT_NAMES = {name: bit for bit, name in enumerate(CLUSTER_EVENTS)}
EV_POD_DELETE, EV_POD_ADD, EV_NODE_ADD = (EVENT_NAMES["pod_delete"], EVENT_NAMES["pod_add"],
                                         EVENT_NAMES["node_add"])

# Counter slots (int64 array C)
(C_ACTIVE, C_BACKOFF, C_FINISH, C_U_HEAD, C_U_TAIL, C_NEXT_ARRIVAL, C_FAIL_USED, C_TL_LEN, C_RUNNING,
 C_PENDING, C_DONE, C_STEP_OPEN, C_UNSCHED, C_POP_BACKOFF, C_LOG_LEN, C_LOG_GEN, C_SLOTS, C_CLOCK,
 C_G_FREE, C_BATCH, C_GROUPS_ON, C_GROUP_ATTEMPTS, C_CYCLES) = range(23)
NUM_COUNTERS = 23
# Float slots (float64 array F)
F_NOW, F_BACKOFF_INITIAL, F_BACKOFF_MAX, F_LEFTOVER = range(4)
NUM_FLOATS = 4

MASK_SLOTS = 64  # plugins per profile that can be named in a rejection mask (bit per plugin)
BATCH_MAX = 256  # groups failed together at most: each can need a new failure record
FAIL_MARGIN = BATCH_MAX + 4  # free failure records the driver keeps before a cycle

ReplayArrays = namedtuple(
    "ReplayArrays",
    [
        # per queue item: pods 0..P-1, then groups P..P+G-1
        "shape",  # int64: the pod's row in PodColumns (pods with the same spec share a row)
        "neg_priority",  # float64: -priority (active queue key)
        "status",  # int8
        "timestamp",  # float64: queue timestamp (arrival, refreshed at each failure)
        "backoff_until",  # float64
        "unsched_since",  # float64
        "reject_mask",  # int64: bit per plugin that rejected the last attempt
        "fail_slot",  # int64: row in the failure tables, -1 never failed
        "unsched_pos",  # int64: position in the unschedulable list, -1 not in it
        "tie",  # int64: heap tie-break: a pod's row; a group's first member when it was pushed
        # per trace pod
        "arrival",  # float64
        "duration",  # float64: runtime once scheduled; NaN runs to the end
        "deadline",  # float64: absolute deletion time; NaN none
        "attempts",  # int64 (a group member's: plus its group's g_offset)
        "scheduled",  # float64: time bound, NaN never
        "node",  # int64: node row, -1 none
        "left",  # float64: time the pod left (finished or deleted), NaN still there
        "finish_key",  # float64: key in the finish heap (departure or deadline)
        "arrival_order",  # int64: pod rows by (arrival, row)
        "group_of",  # int64: the group item a GROUPED pod belongs to, -1 none
        "g_next",  # int64: next member (higher row) of the pod's group, -1 last
        "g_prev",  # int64
        # per group (index: item - P)
        "g_head",  # int64: first member (lowest row), -1 empty
        "g_tail",  # int64
        "g_size",  # int64
        "g_offset",  # int64: attempts the members made as a group
        "g_clock",  # int64: cluster-state clock of the group's last failure
        "g_from",  # int8: the queue (ACTIVE or BACKOFF) a popped group came from
        "g_free",  # int64: stack of unused group indices (C_G_FREE of them)
        "shape_group",  # int64 [shapes]: the group pods of a shape last failed into, -1 none
        "batch",  # int64 [BATCH_MAX]: groups that failed their cycle and wait for the next pod
        # queues
        "active_heap",  # int64 [P+G]
        "backoff_heap",  # int64 [P+G]
        "finish_heap",  # int64 [P]
        "unsched_list",  # int64 [2(P+G)]: FIFO by unsched_since, compacted on scans
        "mask_count",  # int64 [MASK_SLOTS + 1]: unschedulable pods per rejecting plugin; last: empty masks
        "event_mask",  # int64 [3]: per event, the plugins that requeue on it
        # failure records (grown by Python when full)
        "fail_reject_plugin",  # int64 [F]
        "fail_reject_code",  # int64 [F]
        "fail_len",  # int64 [F]
        "fail_plugin",  # int64 [F, W]
        "fail_code",  # int64 [F, W]
        "fail_count",  # int64 [F, W]
        # timeline (grown by Python when full)
        "tl_time",  # float64 [T]
        "tl_alloc",  # int64 [T, R]
        "tl_running",  # int64 [T]
        "tl_pending",  # int64 [T]
        "alloc_total",  # int64 [R]: requests of running pods, cluster-wide
        # per-signature Filter verdicts (incremental.py)
        "node_stamp",  # int64 [N]: bumped at every change of a node (kept across driver calls)
        "change_log",  # int64 [L]: nodes in the order they changed
        "sig_slot",  # int64 [signatures]: slot, -1 none yet, -2 disabled
        "slot_gen",  # int64 [S]: log generation of the last sync
        "slot_logpos",  # int64 [S]: log position of the last sync
        "slot_feasible",  # int64 [S]
        "slot_hist_len",  # int64 [S]
        "slot_hist_plugin",  # int64 [S, H]
        "slot_hist_code",  # int64 [S, H]
        "slot_hist_count",  # int64 [S, H]
        "slot_code",  # int64 [S, N]
        "slot_plugin",  # int64 [S, N]
        "slot_stamp",  # int64 [S, N]
    ],
)


@helper
def _before(k1, k2, tie, a, b):
    if k1[a] != k1[b]:
        return k1[a] < k1[b]
    if k2[a] != k2[b]:
        return k2[a] < k2[b]
    return tie[a] < tie[b]


@helper
def heap_push(heap, C, slot, k1, k2, tie, item):
    i = C[slot]
    C[slot] = i + 1
    heap[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if _before(k1, k2, tie, heap[i], heap[parent]):
            heap[i], heap[parent] = heap[parent], heap[i]
            i = parent
        else:
            break


@helper
def heap_pop(heap, C, slot, k1, k2, tie):
    size = C[slot]
    top = heap[0]
    size -= 1
    C[slot] = size
    if size > 0:
        heap[0] = heap[size]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= size:
                break
            child = left
            if left + 1 < size and _before(k1, k2, tie, heap[left + 1], heap[left]):
                child = left + 1
            if _before(k1, k2, tie, heap[child], heap[i]):
                heap[i], heap[child] = heap[child], heap[i]
                i = child
            else:
                break
    return top


@helper
def backoff_duration(F, attempts):
    """Upstream's calculateBackoffDuration: the initial backoff doubled per attempt after the first,
    capped at the maximum."""
    duration = F[F_BACKOFF_INITIAL]
    for _ in range(1, attempts):
        if duration > F[F_BACKOFF_MAX] - duration:
            return F[F_BACKOFF_MAX]
        duration += duration
    return min(duration, F[F_BACKOFF_MAX])


@helper
def _push(R, C, item, status):
    """Put an item in the active (ACTIVE) or backoff (BACKOFF) heap. A group is ordered by its first
    member, which can only move later while it waits (a member deleted): pop_next re-pushes it then."""
    P = R.arrival.shape[0]
    if item >= P:
        R.tie[item] = R.g_head[item - P]
    R.status[item] = status
    if status == ACTIVE:
        heap_push(R.active_heap, C, C_ACTIVE, R.neg_priority, R.timestamp, R.tie, item)
    else:
        heap_push(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until, R.tie, item)


@small_helper
def _to_active(R, C, g):
    _push(R, C, g, ACTIVE)


@small_helper
def _requeue(R, C, F, g, now):
    """movePodsToActiveOrBackoffQueue for one item: backoffQ while its backoff lasts, else activeQ."""
    if R.backoff_until[g] > now:
        _push(R, C, g, BACKOFF)
    else:
        _push(R, C, g, ACTIVE)


@small_helper
def _count_mask(R, mask, sign):
    if mask == 0:
        R.mask_count[MASK_SLOTS] += sign
        return
    for i in range(MASK_SLOTS):
        if (mask >> i) & 1:
            R.mask_count[i] += sign


@helper
def _enter_unschedulable(R, C, g):
    R.status[g] = UNSCHEDULABLE
    if C[C_U_TAIL] >= R.unsched_list.shape[0]:
        _compact(R, C)
    R.unsched_list[C[C_U_TAIL]] = g
    R.unsched_pos[g] = C[C_U_TAIL]
    C[C_U_TAIL] += 1
    C[C_UNSCHED] += 1
    _count_mask(R, R.reject_mask[g], 1)


@small_helper
def _leave_unschedulable(R, C, g):
    _count_mask(R, R.reject_mask[g], -1)
    R.unsched_pos[g] = -1
    C[C_UNSCHED] -= 1


@helper
def _compact(R, C):
    """Drop stale entries from the unschedulable list, keeping FIFO order."""
    w = 0
    for i in range(C[C_U_HEAD], C[C_U_TAIL]):
        g = R.unsched_list[i]
        if R.status[g] == UNSCHEDULABLE and R.unsched_pos[g] == i:
            R.unsched_list[w] = g
            R.unsched_pos[g] = w
            w += 1
    C[C_U_HEAD] = 0
    C[C_U_TAIL] = w


@helper
def cluster_event(R, C, F, event, now):
    """A cluster event: move the unschedulable items whose rejecting plugins register for it."""
    requeue = R.event_mask[event]
    interested = R.mask_count[MASK_SLOTS]
    for i in range(MASK_SLOTS):
        if (requeue >> i) & 1:
            interested += R.mask_count[i]
    if interested == 0:
        return
    w = C[C_U_HEAD]
    for i in range(C[C_U_HEAD], C[C_U_TAIL]):
        g = R.unsched_list[i]
        if R.status[g] != UNSCHEDULABLE or R.unsched_pos[g] != i:
            continue
        mask = R.reject_mask[g]
        if mask == 0 or (mask & requeue) != 0:
            _leave_unschedulable(R, C, g)
            _requeue(R, C, F, g, now)
        else:
            R.unsched_list[w] = g
            R.unsched_pos[g] = w
            w += 1
    C[C_U_TAIL] = w


@small_helper
def _stale_top(R, C, heap, slot, status):
    """True when the top of a heap is no longer live there (moved on, or an emptied group, which is
    freed)."""
    item = heap[0]
    if R.status[item] != status:
        return True
    P = R.arrival.shape[0]
    if item >= P and R.g_size[item - P] == 0:
        _free_group(R, C, item)
        return True
    return False


@helper
def flush(R, C, F, now):
    """Backoff expiry (flushBackoffQCompleted) and the unschedulable leftovers older than
    podMaxInUnschedulablePodsDuration (flushUnschedulablePodsLeftover)."""
    while C[C_BACKOFF] > 0:
        if _stale_top(R, C, R.backoff_heap, C_BACKOFF, BACKOFF):
            heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until, R.tie)
            continue
        g = R.backoff_heap[0]
        if R.backoff_until[g] > now:
            break
        heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until, R.tie)
        _to_active(R, C, g)
    while C[C_U_HEAD] < C[C_U_TAIL]:
        i = C[C_U_HEAD]
        g = R.unsched_list[i]
        if R.status[g] != UNSCHEDULABLE or R.unsched_pos[g] != i:
            C[C_U_HEAD] += 1
            continue
        if R.unsched_since[g] + F[F_LEFTOVER] > now:
            break
        C[C_U_HEAD] += 1
        _leave_unschedulable(R, C, g)
        _requeue(R, C, F, g, now)


@small_helper
def _future_events(R, C):
    return C[C_NEXT_ARRIVAL] < R.arrival_order.shape[0] or C[C_FINISH] > 0


@helper
def next_time(R, C, F):
    """The next simulated time something happens; inf when nothing will."""
    t = np.inf
    if C[C_NEXT_ARRIVAL] < R.arrival_order.shape[0]:
        t = R.arrival[R.arrival_order[C[C_NEXT_ARRIVAL]]]
    if C[C_FINISH] > 0:
        t = min(t, R.finish_key[R.finish_heap[0]])
    while C[C_BACKOFF] > 0 and _stale_top(R, C, R.backoff_heap, C_BACKOFF, BACKOFF):
        heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until, R.tie)
    if C[C_BACKOFF] > 0:
        t = min(t, R.backoff_until[R.backoff_heap[0]])
    # Leftover flushes only matter while the cluster can still change: once no pod will arrive or
    # leave, retrying a pod that every node rejected gives the same answer forever.
    if _future_events(R, C):
        while C[C_U_HEAD] < C[C_U_TAIL]:
            i = C[C_U_HEAD]
            g = R.unsched_list[i]
            if R.status[g] == UNSCHEDULABLE and R.unsched_pos[g] == i:
                t = min(t, R.unsched_since[g] + F[F_LEFTOVER])
                break
            C[C_U_HEAD] += 1
    return t


@helper
def pop_finished(R, C, now):
    """The next pod (by time, then row) whose departure or deadline is due; -1 none."""
    if C[C_FINISH] == 0:
        return -1
    g = R.finish_heap[0]
    if R.finish_key[g] > now:
        return -1
    heap_pop(R.finish_heap, C, C_FINISH, R.finish_key, R.finish_key, R.tie)
    return g


@helper
def departed(R, C, pods, g, now):
    """A running pod finished: its requests leave the cluster totals (the caller unreserves the node)."""
    R.status[g] = DONE
    R.left[g] = now
    C[C_RUNNING] -= 1
    s = R.shape[g]
    for r in range(R.alloc_total.shape[0]):
        R.alloc_total[r] -= pods.requests[s, r]


@helper
def delete_pending(R, C, g, now):
    """A pod deleted before it ran (its deadline came first): it leaves whichever queue holds it."""
    if R.status[g] == UNSCHEDULABLE:
        _leave_unschedulable(R, C, g)
    elif R.status[g] == GROUPED:
        item = R.group_of[g]
        _leave_group(R, g)
        # An emptied group waiting in the unschedulable list goes now; one in a heap when it is popped.
        if R.g_size[item - R.arrival.shape[0]] == 0 and R.status[item] == UNSCHEDULABLE:
            _leave_unschedulable(R, C, item)
            _free_group(R, C, item)
    R.status[g] = DELETED
    R.left[g] = now
    C[C_PENDING] -= 1


@helper
def admit_arrivals(R, C, now):
    """Pods whose arrival time has come enter the active queue (or stay held: gated or no profile)."""
    order = R.arrival_order
    while C[C_NEXT_ARRIVAL] < order.shape[0]:
        g = order[C[C_NEXT_ARRIVAL]]
        if R.arrival[g] > now:
            break
        C[C_NEXT_ARRIVAL] += 1
        C[C_PENDING] += 1
        R.timestamp[g] = R.arrival[g]
        if not np.isnan(R.deadline[g]):
            R.finish_key[g] = R.deadline[g]
            heap_push(R.finish_heap, C, C_FINISH, R.finish_key, R.finish_key, R.tie, g)
        if R.status[g] == HELD:
            continue
        _to_active(R, C, g)


# -- popping, with groups -----------------------------------------------------------------------------


@helper
def _pop_item(R, C):
    """The next live item and the queue it came from: activeQ first; with activeQ empty and
    SchedulerPopFromBackoffQ, backoffQ. (-1, 0) when both are empty."""
    P = R.arrival.shape[0]
    while C[C_ACTIVE] > 0 or (C[C_POP_BACKOFF] and C[C_BACKOFF] > 0):
        if C[C_ACTIVE] > 0:
            heap, slot, source = R.active_heap, C_ACTIVE, ACTIVE
        else:
            heap, slot, source = R.backoff_heap, C_BACKOFF, BACKOFF
        if _stale_top(R, C, heap, slot, source):
            if source == ACTIVE:
                heap_pop(heap, C, slot, R.neg_priority, R.timestamp, R.tie)
            else:
                heap_pop(heap, C, slot, R.backoff_until, R.backoff_until, R.tie)
            continue
        if source == ACTIVE:
            g = heap_pop(heap, C, slot, R.neg_priority, R.timestamp, R.tie)
        else:
            g = heap_pop(heap, C, slot, R.backoff_until, R.backoff_until, R.tie)
        if g >= P and R.tie[g] != R.g_head[g - P]:
            _push(R, C, g, source)  # its first member was deleted while it waited: its place moved
            continue
        return g, source
    return -1, 0


@helper
def pop_next(R, C, F, now, clock, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    """The next item to schedule, ``IN_FLIGHT``: a pod (its attempt counted) or a group (its cycle decides
    whether the members fail together); -1 when the queues are empty. Before a pod's cycle, or when the
    queues are empty, the batched groups fail up to that pod."""
    g, source = _pop_item(R, C)
    is_group = g >= R.arrival.shape[0]
    if C[C_BATCH] > 0 and (not is_group or C[C_BATCH] >= BATCH_MAX):
        # One call site: finish_batch is large, and every call of it is compiled into the driver.
        finish_batch(R, C, F, now, clock, g, source, reject_plugin, reject_code, hist_plugin, hist_code,
                     hist_count, hist_len)
    if g < 0:
        return -1
    R.status[g] = IN_FLIGHT
    if is_group:
        R.g_from[g - R.arrival.shape[0]] = source
    else:
        R.attempts[g] += 1  # upstream counts the attempt at pop
    return g


# -- failure records ----------------------------------------------------------------------------------


@helper
def _write_failure(R, C, item, s, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    """Store why shape ``s``'s cycle failed as ``item``'s record; returns the rejecting plugins' mask."""
    slot = R.fail_slot[item]
    if slot < 0:
        slot = C[C_FAIL_USED]
        C[C_FAIL_USED] += 1
        R.fail_slot[item] = slot
    mask = 0
    R.fail_reject_plugin[slot] = reject_plugin
    R.fail_reject_code[slot] = reject_code
    if reject_plugin >= 0:
        mask |= 1 << reject_plugin
    elif reject_plugin == -2:
        mask |= reject_code  # PreFilterResults left no node: the narrowing plugins
    width = R.fail_plugin.shape[1]
    kept = 0
    for k in range(hist_len[s]):
        mask |= 1 << hist_plugin[s, k]
        if kept < width:
            R.fail_plugin[slot, kept] = hist_plugin[s, k]
            R.fail_code[slot, kept] = hist_code[s, k]
            R.fail_count[slot, kept] = hist_count[s, k]
            kept += 1
    R.fail_len[slot] = hist_len[s]
    return mask


@helper
def _copy_failure(R, source, target):
    a = R.fail_slot[source]
    b = R.fail_slot[target]
    R.fail_reject_plugin[b] = R.fail_reject_plugin[a]
    R.fail_reject_code[b] = R.fail_reject_code[a]
    R.fail_len[b] = R.fail_len[a]
    for k in range(R.fail_plugin.shape[1]):
        R.fail_plugin[b, k] = R.fail_plugin[a, k]
        R.fail_code[b, k] = R.fail_code[a, k]
        R.fail_count[b, k] = R.fail_count[a, k]


@small_helper
def _failed_at(R, F, item, now, mask):
    R.reject_mask[item] = mask
    R.timestamp[item] = now
    R.unsched_since[item] = now


@helper
def record(R, C, F, pods, g, now, clock, fast, node, reject_plugin, reject_code, hist_plugin, hist_code,
           hist_count, hist_len):
    """The outcome of pod ``g``'s attempt (its shape's row in the loop outputs). Returns True when it
    was bound. ``fast``: the attempt failed on every node by the per-signature verdicts."""
    s = R.shape[g]
    if node >= 0:
        R.status[g] = RUNNING
        R.node[g] = node
        R.scheduled[g] = now
        C[C_RUNNING] += 1
        C[C_PENDING] -= 1
        for r in range(R.alloc_total.shape[0]):
            R.alloc_total[r] += pods.requests[s, r]
        if not np.isnan(R.duration[g]):
            R.finish_key[g] = now + R.duration[g]
            heap_push(R.finish_heap, C, C_FINISH, R.finish_key, R.finish_key, R.tie, g)
        return True
    # Unschedulable: remember why (the message is built later) and which plugins said no.
    mask = _write_failure(R, C, g, s, reject_plugin, reject_code, hist_plugin, hist_code, hist_count,
                          hist_len)
    _failed_at(R, F, g, now, mask)
    backoff = backoff_duration(F, R.attempts[g])
    R.backoff_until[g] = now + backoff
    item = -1  # the group it joins
    entering = g  # what enters the unschedulable list: the pod, a new group, or nothing
    if fast and backoff >= F[F_BACKOFF_MAX] and C[C_GROUPS_ON]:
        # Its queue state is now that of every pod of its shape that failed at this moment and state.
        item = R.shape_group[s]
        entering = -1
        if not _joinable(R, item, s, now, clock):
            item = _new_group(R, C, s, g)
            entering = g if item < 0 else item
            if item >= 0:
                _copy_failure(R, g, item)
                _failed_at(R, F, item, now, mask)
                R.backoff_until[item] = now + backoff
                R.g_clock[item - R.arrival.shape[0]] = clock
                R.shape_group[s] = item
    if entering >= 0:
        _enter_unschedulable(R, C, entering)
    if item >= 0:
        _join(R, item, g)
    return False


# -- groups ----------------------------------------------------------------------------------------------


@small_helper
def _joinable(R, item, s, now, clock):
    """Is ``item`` the group that shape ``s``'s pods failing now, at this cluster state, belong to?"""
    if item < 0 or R.status[item] != UNSCHEDULABLE or R.shape[item] != s:
        return False
    return R.timestamp[item] == now and R.g_clock[item - R.arrival.shape[0]] == clock


@helper
def _new_group(R, C, s, like):
    """An empty group for shape ``s`` (priority and record taken from pod ``like``); -1 none free."""
    if C[C_G_FREE] == 0 or C[C_FAIL_USED] >= R.fail_len.shape[0]:
        return -1
    C[C_G_FREE] -= 1
    gi = R.g_free[C[C_G_FREE]]
    item = R.arrival.shape[0] + gi
    R.shape[item] = s
    R.neg_priority[item] = R.neg_priority[like]
    R.g_head[gi] = -1
    R.g_tail[gi] = -1
    R.g_size[gi] = 0
    R.g_offset[gi] = 0
    R.unsched_pos[item] = -1
    if R.fail_slot[item] < 0:
        R.fail_slot[item] = C[C_FAIL_USED]
        C[C_FAIL_USED] += 1
    return item


@small_helper
def _free_group(R, C, item):
    R.status[item] = FREE
    R.g_free[C[C_G_FREE]] = item - R.arrival.shape[0]
    C[C_G_FREE] += 1


@small_helper
def _link_after(R, gi, x, g):
    """Link pod ``g`` into group ``gi``'s member list after member ``x`` (-1: first)."""
    nxt = R.g_head[gi] if x < 0 else R.g_next[x]
    R.g_prev[g] = x
    R.g_next[g] = nxt
    if x < 0:
        R.g_head[gi] = g
    else:
        R.g_next[x] = g
    if nxt < 0:
        R.g_tail[gi] = g
    else:
        R.g_prev[nxt] = g
    R.g_size[gi] += 1


@small_helper
def _unlink(R, gi, g):
    """Take pod ``g`` out of group ``gi``'s member list (the inverse of _link_after)."""
    prv, nxt = R.g_prev[g], R.g_next[g]
    if prv < 0:
        R.g_head[gi] = nxt
    else:
        R.g_next[prv] = nxt
    if nxt < 0:
        R.g_tail[gi] = prv
    else:
        R.g_prev[nxt] = prv
    R.g_size[gi] -= 1


@helper
def _join(R, item, g):
    """Pod ``g`` (attempts counted on itself) becomes a member of group ``item``, in row order. Walks
    back from the last member: pods usually join in arrival order."""
    gi = item - R.arrival.shape[0]
    x = R.g_tail[gi]
    while x >= 0 and x > g:
        x = R.g_prev[x]
    _link_after(R, gi, x, g)
    R.group_of[g] = item
    R.status[g] = GROUPED
    R.attempts[g] -= R.g_offset[gi]


@helper
def _leave_group(R, g):
    """Pod ``g`` leaves its group with the group's attempts and record made its own."""
    item = R.group_of[g]
    gi = item - R.arrival.shape[0]
    _unlink(R, gi, g)
    R.group_of[g] = -1
    R.attempts[g] += R.g_offset[gi]
    _copy_failure(R, item, g)
    R.reject_mask[g] = R.reject_mask[item]
    R.timestamp[g] = R.timestamp[item]
    R.unsched_since[g] = R.unsched_since[item]
    R.backoff_until[g] = R.backoff_until[item]


@helper
def _absorb(R, C, into, other):
    """Move every member of group ``other`` into group ``into`` (same shape, keys and record), merging
    the two row-ordered lists from their ends; frees ``other``."""
    P = R.arrival.shape[0]
    ii, oi = into - P, other - P
    shift = R.g_offset[oi] - R.g_offset[ii]
    cursor = R.g_tail[ii]
    x = R.g_tail[oi]
    while x >= 0:
        prv = R.g_prev[x]
        while cursor >= 0 and cursor > x:
            cursor = R.g_prev[cursor]
        _link_after(R, ii, cursor, x)
        R.group_of[x] = into
        R.attempts[x] += shift
        x = prv
    R.g_head[oi] = -1
    R.g_tail[oi] = -1
    R.g_size[oi] = 0
    _free_group(R, C, other)


@helper
def _settle_failed(R, C, item, s, clock):
    """Group ``item`` has just failed (keys and record set): into the unschedulable list, merged with the
    group the shape's pods failed into at this moment and state, if there is one."""
    P = R.arrival.shape[0]
    R.g_clock[item - P] = clock
    other = R.shape_group[s]
    if other != item and _joinable(R, other, s, R.timestamp[item], clock):
        if R.g_size[other - P] >= R.g_size[item - P]:
            _absorb(R, C, other, item)
            return
        _leave_unschedulable(R, C, other)
        _absorb(R, C, item, other)
    _enter_unschedulable(R, C, item)
    R.shape_group[s] = item


@helper
def batch_add(R, C, item):
    """Group ``item``'s cycle found no node: its members fail, up to the next pod (finish_batch)."""
    R.status[item] = IN_BATCH
    R.batch[C[C_BATCH]] = item
    C[C_BATCH] += 1


@helper
def finish_batch(R, C, F, now, clock, barrier, source, reject_plugin, reject_code, hist_plugin, hist_code,
                 hist_count, hist_len):
    """Fail the batched groups' members that the queue orders before ``barrier`` (popped from ``source``;
    -1: all of them). Nothing changed the cluster since their cycles, so each shape's outputs still hold
    the verdict every member would have got."""
    P = R.arrival.shape[0]
    cap = F[F_BACKOFF_MAX]
    for j in range(C[C_BATCH]):
        item = R.batch[j]
        gi = item - P
        s = R.shape[item]
        origin = R.g_from[gi]
        cutoff = -1  # members with a row below it fail; -1: all
        if barrier >= 0 and source == origin:
            if origin == ACTIVE:
                same = (R.neg_priority[item] == R.neg_priority[barrier]
                        and R.timestamp[item] == R.timestamp[barrier])
            else:
                same = R.backoff_until[item] == R.backoff_until[barrier]
            if same:
                cutoff = R.tie[barrier]
        whole = cutoff < 0 or R.g_tail[gi] < cutoff
        if whole:
            failing = item
            R.g_offset[gi] += 1
            C[C_GROUP_ATTEMPTS] += R.g_size[gi]
        else:
            # The barrier falls among the members: those before it fail (into a group of their own), the
            # rest wait in the queue for their turn after it.
            failing = _new_group(R, C, s, item)
            while R.g_head[gi] >= 0 and R.g_head[gi] < cutoff:
                x = R.g_head[gi]
                _leave_group(R, x)
                R.attempts[x] += 1
                C[C_GROUP_ATTEMPTS] += 1
                if failing >= 0:
                    _join(R, failing, x)
                else:  # no group to spare (the driver keeps enough): the member fails on its own
                    _fail_alone(R, C, F, x, now, reject_plugin[s], reject_code[s], hist_plugin, hist_code,
                                hist_count, hist_len)
            _push(R, C, item, origin)
        if failing >= 0:
            mask = _write_failure(R, C, failing, s, reject_plugin[s], reject_code[s], hist_plugin, hist_code,
                                  hist_count, hist_len)
            _failed_at(R, F, failing, now, mask)
            R.backoff_until[failing] = now + cap
            _settle_failed(R, C, failing, s, clock)
    C[C_BATCH] = 0


@helper
def _fail_alone(R, C, F, g, now, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    mask = _write_failure(R, C, g, R.shape[g], reject_plugin, reject_code, hist_plugin, hist_code, hist_count,
                          hist_len)
    _failed_at(R, F, g, now, mask)
    R.backoff_until[g] = now + backoff_duration(F, R.attempts[g])
    _enter_unschedulable(R, C, g)


@helper
def release_head(R, C, F, item):
    """Group ``item``'s cycle did not fail on every node: its first member goes back to the queue it
    came from as a pod of its own, to be tried alone; the rest wait behind it."""
    P = R.arrival.shape[0]
    gi = item - P
    origin = R.g_from[gi]
    head = R.g_head[gi]
    _leave_group(R, head)
    _push(R, C, head, origin)
    if R.g_size[gi] > 0:
        _push(R, C, item, origin)
    else:
        _free_group(R, C, item)


@njit(cache=True, nogil=True, _nrt=False)  # called from Python, once per replay: with numba's CPython wrapper
def settle_groups(R):
    """After the replay: every member's attempts and record made its own, its state its group's."""
    for g in range(R.arrival.shape[0]):
        if R.status[g] == GROUPED:
            item = R.group_of[g]
            status = R.status[item]
            _leave_group(R, g)
            R.status[g] = status


@helper
def timeline_row(R, C, now):
    t = C[C_TL_LEN]
    R.tl_time[t] = now
    for r in range(R.alloc_total.shape[0]):
        R.tl_alloc[t, r] = R.alloc_total[r]
    R.tl_running[t] = C[C_RUNNING]
    R.tl_pending[t] = C[C_PENDING]
    C[C_TL_LEN] = t + 1


# -- per-signature Filter verdicts (incremental.py generates the code that uses them) ---------------------
# These live here, beside the counter slots they index: numba's cache keys a function on its own file
# only, so a compiled function must not read constants from another module.


@helper
def log_change(R, C, n):
    """Record that node ``n`` changed (a pod bound to it or gone from it)."""
    if C[C_LOG_LEN] >= R.change_log.shape[0]:
        # Log full: start a new generation; every slot resyncs from scratch on its next use.
        C[C_LOG_GEN] += 1
        C[C_LOG_LEN] = 0
    R.change_log[C[C_LOG_LEN]] = n
    C[C_LOG_LEN] += 1


@helper
def slot_hist_add(R, slot, plugin, code, delta):
    """Add ``delta`` nodes to a slot's (plugin, code) count; False when its histogram is full."""
    length = R.slot_hist_len[slot]
    for k in range(length):
        if R.slot_hist_plugin[slot, k] == plugin and R.slot_hist_code[slot, k] == code:
            R.slot_hist_count[slot, k] += delta
            return True
    if length >= R.slot_hist_plugin.shape[1]:
        return False
    R.slot_hist_plugin[slot, length] = plugin
    R.slot_hist_code[slot, length] = code
    R.slot_hist_count[slot, length] = delta
    R.slot_hist_len[slot] = length + 1
    return True


@helper
def slot_for(R, C, signature):
    """The slot of a signature, assigned on first use; -1 when there is none to give or it is disabled."""
    slot = R.sig_slot[signature]
    if slot == -1 and C[C_SLOTS] < R.slot_gen.shape[0]:
        slot = C[C_SLOTS]
        C[C_SLOTS] += 1
        R.sig_slot[signature] = slot
        R.slot_gen[slot] = -1
    return slot


@helper
def copy_slot_histogram(R, slot, p, hist_plugin, hist_code, hist_count, hist_len):
    kept = 0
    for k in range(R.slot_hist_len[slot]):
        if R.slot_hist_count[slot, k] > 0:
            hist_plugin[p, kept] = R.slot_hist_plugin[slot, k]
            hist_code[p, kept] = R.slot_hist_code[slot, k]
            hist_count[p, kept] = R.slot_hist_count[slot, k]
            kept += 1
    hist_len[p] = kept


def new_counters() -> tuple[np.ndarray, np.ndarray]:
    C = np.zeros(NUM_COUNTERS, dtype=np.int64)
    F = np.zeros(NUM_FLOATS, dtype=np.float64)
    F[F_NOW] = -np.inf
    return C, F
