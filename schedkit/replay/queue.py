"""The scheduling queue of a replay, on the simulated clock, as compiled helpers over arrays.

Upstream's PriorityQueue (pkg/scheduler/backend/queue/scheduling_queue.go, active_queue.go,
backoff_queue.go): an active queue ordered by the QueueSort plugin (PrioritySort: priority, then the
queue timestamp), a backoff queue ordered by backoff expiry, and a set of unschedulable pods that
wait for a cluster event one of their rejecting plugins registers for (QueueingHints). Backoff is
``initial * 2^(attempts-1)`` capped at ``max`` (1 s and 10 s by default); pods left unschedulable
for ``podMaxInUnschedulablePodsDuration`` (5 min) are moved back whatever happened.

Everything lives in ``ReplayArrays`` (one row per trace pod) and two small counter arrays, so the
compiled driver can stop after a chunk of work and resume where it left off: Python shows progress,
grows the record tables and handles Ctrl-C between chunks. Ties at the same simulated time are broken
by the pod's row in the trace, so a replay is deterministic.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

# Pod status
NOT_ARRIVED, ACTIVE, BACKOFF, UNSCHEDULABLE, RUNNING, DONE, DELETED, IN_FLIGHT, HELD = range(9)

# Cluster events a rejected pod may wait for (bit per event in a plugin's mask)
EV_POD_DELETE, EV_POD_ADD, EV_NODE_ADD = 0, 1, 2
EVENT_NAMES = {"pod_delete": EV_POD_DELETE, "pod_add": EV_POD_ADD, "node_add": EV_NODE_ADD}

# Counter slots (int64 array C)
(C_ACTIVE, C_BACKOFF, C_FINISH, C_U_HEAD, C_U_TAIL, C_NEXT_ARRIVAL, C_FAIL_USED, C_TL_LEN, C_RUNNING,
 C_PENDING, C_DONE, C_STEP_OPEN, C_UNSCHED, C_POP_BACKOFF, C_LOG_LEN, C_LOG_GEN, C_SLOTS, C_CLOCK) = range(18)
NUM_COUNTERS = 18
# Float slots (float64 array F)
F_NOW, F_BACKOFF_INITIAL, F_BACKOFF_MAX, F_LEFTOVER = range(4)
NUM_FLOATS = 4

MASK_SLOTS = 64  # plugins per profile that can be named in a rejection mask (bit per plugin)

ReplayArrays = namedtuple(
    "ReplayArrays",
    [
        # per trace pod
        "shape",  # int64: the pod's row in PodColumns (pods with the same spec share a row)
        "arrival",  # float64
        "duration",  # float64: runtime once scheduled; NaN runs to the end
        "deadline",  # float64: absolute deletion time; NaN none
        "neg_priority",  # float64: -priority (active queue key)
        "status",  # int8
        "attempts",  # int64
        "scheduled",  # float64: time bound, NaN never
        "node",  # int64: node row, -1 none
        "left",  # float64: time the pod left (finished or deleted), NaN still there
        "timestamp",  # float64: queue timestamp (arrival, refreshed at each failure)
        "backoff_until",  # float64
        "unsched_since",  # float64
        "reject_mask",  # int64: bit per plugin that rejected the last attempt
        "fail_slot",  # int64: row in the failure tables, -1 never failed
        "unsched_pos",  # int64: position in the unschedulable list, -1 not in it
        "finish_key",  # float64: key in the finish heap (departure or deadline)
        "arrival_order",  # int64: pod rows by (arrival, row)
        # queues
        "active_heap",  # int64 [P]
        "backoff_heap",  # int64 [P]
        "finish_heap",  # int64 [P]
        "unsched_list",  # int64 [2P]: FIFO by unsched_since, compacted on scans
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


@njit(cache=True, nogil=True)
def _before(k1, k2, a, b):
    if k1[a] != k1[b]:
        return k1[a] < k1[b]
    if k2[a] != k2[b]:
        return k2[a] < k2[b]
    return a < b


@njit(cache=True, nogil=True)
def heap_push(heap, C, slot, k1, k2, item):
    i = C[slot]
    C[slot] = i + 1
    heap[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if _before(k1, k2, heap[i], heap[parent]):
            heap[i], heap[parent] = heap[parent], heap[i]
            i = parent
        else:
            break


@njit(cache=True, nogil=True)
def heap_pop(heap, C, slot, k1, k2):
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
            if left + 1 < size and _before(k1, k2, heap[left + 1], heap[left]):
                child = left + 1
            if _before(k1, k2, heap[child], heap[i]):
                heap[i], heap[child] = heap[child], heap[i]
                i = child
            else:
                break
    return top


@njit(cache=True, nogil=True)
def backoff_duration(F, attempts):
    """Upstream's calculateBackoffDuration: the initial backoff doubled per attempt after the first,
    capped at the maximum."""
    duration = F[F_BACKOFF_INITIAL]
    for _ in range(1, attempts):
        if duration > F[F_BACKOFF_MAX] - duration:
            return F[F_BACKOFF_MAX]
        duration += duration
    return min(duration, F[F_BACKOFF_MAX])


@njit(cache=True, nogil=True)
def _to_active(R, C, g):
    R.status[g] = ACTIVE
    heap_push(R.active_heap, C, C_ACTIVE, R.neg_priority, R.timestamp, g)


@njit(cache=True, nogil=True)
def _requeue(R, C, F, g, now):
    """movePodsToActiveOrBackoffQueue for one pod: backoffQ while its backoff lasts, else activeQ."""
    if R.backoff_until[g] > now:
        R.status[g] = BACKOFF
        heap_push(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until, g)
    else:
        _to_active(R, C, g)


@njit(cache=True, nogil=True)
def _count_mask(R, mask, sign):
    if mask == 0:
        R.mask_count[MASK_SLOTS] += sign
        return
    for i in range(MASK_SLOTS):
        if (mask >> i) & 1:
            R.mask_count[i] += sign


@njit(cache=True, nogil=True)
def _leave_unschedulable(R, C, g):
    _count_mask(R, R.reject_mask[g], -1)
    R.unsched_pos[g] = -1
    C[C_UNSCHED] -= 1


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def cluster_event(R, C, F, event, now):
    """A cluster event: move the unschedulable pods whose rejecting plugins register for it."""
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


@njit(cache=True, nogil=True)
def flush(R, C, F, now):
    """Backoff expiry (flushBackoffQCompleted) and the unschedulable leftovers older than
    podMaxInUnschedulablePodsDuration (flushUnschedulablePodsLeftover)."""
    while C[C_BACKOFF] > 0:
        g = R.backoff_heap[0]
        if R.status[g] != BACKOFF:
            heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until)
            continue
        if R.backoff_until[g] > now:
            break
        heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until)
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


@njit(cache=True, nogil=True)
def _future_events(R, C):
    return C[C_NEXT_ARRIVAL] < R.arrival_order.shape[0] or C[C_FINISH] > 0


@njit(cache=True, nogil=True)
def next_time(R, C, F):
    """The next simulated time something happens; inf when nothing will."""
    t = np.inf
    if C[C_NEXT_ARRIVAL] < R.arrival_order.shape[0]:
        t = R.arrival[R.arrival_order[C[C_NEXT_ARRIVAL]]]
    if C[C_FINISH] > 0:
        t = min(t, R.finish_key[R.finish_heap[0]])
    while C[C_BACKOFF] > 0 and R.status[R.backoff_heap[0]] != BACKOFF:
        heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until)
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


@njit(cache=True, nogil=True)
def pop_finished(R, C, now):
    """The next pod (by time, then row) whose departure or deadline is due; -1 none."""
    if C[C_FINISH] == 0:
        return -1
    g = R.finish_heap[0]
    if R.finish_key[g] > now:
        return -1
    heap_pop(R.finish_heap, C, C_FINISH, R.finish_key, R.finish_key)
    return g


@njit(cache=True, nogil=True)
def departed(R, C, pods, g, now):
    """A running pod finished: its requests leave the cluster totals (the caller unreserves the node)."""
    R.status[g] = DONE
    R.left[g] = now
    C[C_RUNNING] -= 1
    s = R.shape[g]
    for r in range(R.alloc_total.shape[0]):
        R.alloc_total[r] -= pods.requests[s, r]


@njit(cache=True, nogil=True)
def delete_pending(R, C, g, now):
    """A pod deleted before it ran (its deadline came first): it leaves whichever queue holds it."""
    if R.status[g] == UNSCHEDULABLE:
        _leave_unschedulable(R, C, g)
    R.status[g] = DELETED
    R.left[g] = now
    C[C_PENDING] -= 1


@njit(cache=True, nogil=True)
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
            heap_push(R.finish_heap, C, C_FINISH, R.finish_key, R.finish_key, g)
        if R.status[g] == HELD:
            continue
        _to_active(R, C, g)


@njit(cache=True, nogil=True)
def pop_next(R, C):
    """The next pod to schedule: the head of activeQ; with activeQ empty and SchedulerPopFromBackoffQ,
    the head of backoffQ; -1 when both are empty."""
    while C[C_ACTIVE] > 0:
        g = heap_pop(R.active_heap, C, C_ACTIVE, R.neg_priority, R.timestamp)
        if R.status[g] == ACTIVE:
            return _in_flight(R, g)
    if C[C_POP_BACKOFF]:
        while C[C_BACKOFF] > 0:
            g = heap_pop(R.backoff_heap, C, C_BACKOFF, R.backoff_until, R.backoff_until)
            if R.status[g] == BACKOFF:
                return _in_flight(R, g)
    return -1


@njit(cache=True, nogil=True)
def _in_flight(R, g):
    """Pop: the pod leaves its queue for a scheduling cycle (upstream counts the attempt here)."""
    R.status[g] = IN_FLIGHT
    R.attempts[g] += 1
    return g


@njit(cache=True, nogil=True)
def record(R, C, F, pods, g, now, node, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    """The outcome of pod ``g``'s attempt (its shape's row in the loop outputs). Returns True when it
    was bound."""
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
            heap_push(R.finish_heap, C, C_FINISH, R.finish_key, R.finish_key, g)
        return True
    # Unschedulable: remember why (the message is built later) and which plugins said no.
    slot = R.fail_slot[g]
    if slot < 0:
        slot = C[C_FAIL_USED]
        C[C_FAIL_USED] += 1
        R.fail_slot[g] = slot
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
    R.reject_mask[g] = mask
    R.status[g] = UNSCHEDULABLE
    R.timestamp[g] = now
    R.unsched_since[g] = now
    R.backoff_until[g] = now + backoff_duration(F, R.attempts[g])
    if C[C_U_TAIL] >= R.unsched_list.shape[0]:
        _compact(R, C)
    R.unsched_list[C[C_U_TAIL]] = g
    R.unsched_pos[g] = C[C_U_TAIL]
    C[C_U_TAIL] += 1
    C[C_UNSCHED] += 1
    _count_mask(R, mask, 1)
    return False


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def log_change(R, C, n):
    """Record that node ``n`` changed (a pod bound to it or gone from it)."""
    if C[C_LOG_LEN] >= R.change_log.shape[0]:
        # Log full: start a new generation; every slot resyncs from scratch on its next use.
        C[C_LOG_GEN] += 1
        C[C_LOG_LEN] = 0
    R.change_log[C[C_LOG_LEN]] = n
    C[C_LOG_LEN] += 1


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def slot_for(R, C, signature):
    """The slot of a signature, assigned on first use; -1 when there is none to give or it is disabled."""
    slot = R.sig_slot[signature]
    if slot == -1 and C[C_SLOTS] < R.slot_gen.shape[0]:
        slot = C[C_SLOTS]
        C[C_SLOTS] += 1
        R.sig_slot[signature] = slot
        R.slot_gen[slot] = -1
    return slot


@njit(cache=True, nogil=True)
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
