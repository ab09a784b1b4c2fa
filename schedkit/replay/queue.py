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

from ..framework.plugin import compiled_for_loops


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

# Cluster events a rejected pod may wait for (bit per event in a plugin's mask)
EV_POD_DELETE, EV_POD_ADD, EV_NODE_ADD = 0, 1, 2
EVENT_NAMES = {"pod_delete": EV_POD_DELETE, "pod_add": EV_POD_ADD, "node_add": EV_NODE_ADD}

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

# Per queue item: pods 0..P-1, then groups P..P+G-1.
ITEM = np.dtype([
    ("spec", np.int64),  # the pod's row in PodColumns (pods with the same spec share a row)
    ("neg_priority", np.float64),  # -priority (active queue key)
    ("status", np.int64),
    ("timestamp", np.float64),  # queue timestamp (arrival, refreshed at each failure)
    ("backoff_until", np.float64),
    ("unsched_since", np.float64),
    ("reject_mask", np.int64),  # bit per plugin that rejected the last attempt
    ("fail_slot", np.int64),  # row in the failure tables, -1 never failed
    ("unsched_pos", np.int64),  # position in the unschedulable list, -1 not in it
    ("tie", np.int64),  # heap tie-break: a pod's row; a group's first member when it was pushed
], align=True)
# Per trace pod.
POD = np.dtype([
    ("arrival", np.float64),
    ("duration", np.float64),  # runtime once scheduled; NaN runs to the end
    ("deadline", np.float64),  # absolute deletion time; NaN none
    ("attempts", np.int64),  # (a group member's: plus its group's offset)
    ("scheduled", np.float64),  # time bound, NaN never
    ("node", np.int64),  # node row, -1 none
    ("left", np.float64),  # time the pod left (finished or deleted), NaN still there
    ("finish_key", np.float64),  # key in the finish heap (departure or deadline)
    ("group_of", np.int64),  # the group item a GROUPED pod belongs to, -1 none
    ("g_next", np.int64),  # next member (higher row) of the pod's group, -1 last
    ("g_prev", np.int64),
], align=True)
# Per group (index: item - P).
GROUP = np.dtype([
    ("head", np.int64),  # first member (lowest row), -1 empty
    ("tail", np.int64),
    ("size", np.int64),
    ("offset", np.int64),  # attempts the members made as a group
    ("clock", np.int64),  # cluster-state clock of the group's last failure
    ("origin", np.int64),  # the queue (ACTIVE or BACKOFF) a popped group came from
], align=True)
# Per failure record (grown by Python when full); its histogram is in fail_plugin/code/count.
FAILURE = np.dtype([("reject_plugin", np.int64), ("reject_code", np.int64), ("length", np.int64)], align=True)
# Per timeline row (grown by Python when full); allocation in tl_alloc.
TIMELINE = np.dtype([("time", np.float64), ("running", np.int64), ("pending", np.int64)], align=True)
# Per signature slot (incremental.py).
SLOT = np.dtype([
    ("gen", np.int64),  # log generation of the last sync
    ("logpos", np.int64),  # log position of the last sync
    ("feasible", np.int64),
    ("hist_len", np.int64),
], align=True)

# Records rather than one array per field: every compiled helper receives this tuple, and numba passes
# each array in it as seven machine words and compiles the plumbing at every call; a record array is one.
_ReplayArrays = namedtuple(
    "ReplayArrays",
    [
        "items",  # ITEM [P+G]
        "pods",  # POD [P]
        "arrival_order",  # int64 [P]: pod rows by (arrival, row)
        "groups",  # GROUP [G]
        "g_free",  # int64 [G]: stack of unused group indices (C_G_FREE of them)
        "shape_group",  # int64 [shapes]: the group pods of a shape last failed into, -1 none
        "batch",  # int64 [BATCH_MAX]: groups that failed their cycle and wait for the next pod
        # queues
        "active_heap",  # int64 [P+G]
        "backoff_heap",  # int64 [P+G]
        "finish_heap",  # int64 [P]
        "unsched_list",  # int64 [2(P+G)]: FIFO by unsched_since, compacted on scans
        "mask_count",  # int64 [MASK_SLOTS + 1]: unschedulable pods per rejecting plugin; last: empty masks
        "event_mask",  # int64 [3]: per event, the plugins that requeue on it
        # failure records
        "fail",  # FAILURE [F]
        "fail_plugin",  # int64 [F, W]
        "fail_code",  # int64 [F, W]
        "fail_count",  # int64 [F, W]
        # timeline
        "tl",  # TIMELINE [T]
        "tl_alloc",  # int64 [T, R]
        "alloc_total",  # int64 [R]: requests of running pods, cluster-wide
        # per-signature Filter verdicts (incremental.py)
        "node_stamp",  # int64 [N]: bumped at every change of a node (kept across driver calls)
        "change_log",  # int64 [L]: nodes in the order they changed
        "sig_slot",  # int64 [signatures]: slot, -1 none yet, -2 disabled
        "slots",  # SLOT [S]
        "slot_hist_plugin",  # int64 [S, H]
        "slot_hist_code",  # int64 [S, H]
        "slot_hist_count",  # int64 [S, H]
        "slot_code",  # int64 [S, N]
        "slot_plugin",  # int64 [S, N]
        "slot_stamp",  # int64 [S, N]
    ],
)


class ReplayArrays(_ReplayArrays):
    """The replay's state. In Python, the per-pod columns read as arrays: ``arrays.node`` and so on."""

    __slots__ = ()

    @property
    def node(self) -> np.ndarray:
        return self.pods["node"]

    @property
    def scheduled(self) -> np.ndarray:
        return self.pods["scheduled"]

    @property
    def left(self) -> np.ndarray:
        return self.pods["left"]

    @property
    def attempts(self) -> np.ndarray:
        return self.pods["attempts"]

    @property
    def arrival(self) -> np.ndarray:
        return self.pods["arrival"]

    @property
    def status(self) -> np.ndarray:
        return self.items["status"]

    @property
    def spec(self) -> np.ndarray:
        """Each item's row in PodColumns."""
        return self.items["spec"]


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
    P = R.pods.shape[0]
    if item >= P:
        R.items[item].tie = R.groups[item - P].head
    R.items[item].status = status
    if status == ACTIVE:
        heap_push(R.active_heap, C, C_ACTIVE, R.items.neg_priority, R.items.timestamp, R.items.tie, item)
    else:
        heap_push(R.backoff_heap, C, C_BACKOFF, R.items.backoff_until, R.items.backoff_until, R.items.tie, item)


@small_helper
def _to_active(R, C, g):
    _push(R, C, g, ACTIVE)


@small_helper
def _requeue(R, C, F, g, now):
    """movePodsToActiveOrBackoffQueue for one item: backoffQ while its backoff lasts, else activeQ."""
    if R.items[g].backoff_until > now:
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
    R.items[g].status = UNSCHEDULABLE
    if C[C_U_TAIL] >= R.unsched_list.shape[0]:
        _compact(R, C)
    R.unsched_list[C[C_U_TAIL]] = g
    R.items[g].unsched_pos = C[C_U_TAIL]
    C[C_U_TAIL] += 1
    C[C_UNSCHED] += 1
    _count_mask(R, R.items[g].reject_mask, 1)


@small_helper
def _leave_unschedulable(R, C, g):
    _count_mask(R, R.items[g].reject_mask, -1)
    R.items[g].unsched_pos = -1
    C[C_UNSCHED] -= 1


@helper
def _compact(R, C):
    """Drop stale entries from the unschedulable list, keeping FIFO order."""
    w = 0
    for i in range(C[C_U_HEAD], C[C_U_TAIL]):
        g = R.unsched_list[i]
        if R.items[g].status == UNSCHEDULABLE and R.items[g].unsched_pos == i:
            R.unsched_list[w] = g
            R.items[g].unsched_pos = w
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
        if R.items[g].status != UNSCHEDULABLE or R.items[g].unsched_pos != i:
            continue
        mask = R.items[g].reject_mask
        if mask == 0 or (mask & requeue) != 0:
            _leave_unschedulable(R, C, g)
            _requeue(R, C, F, g, now)
        else:
            R.unsched_list[w] = g
            R.items[g].unsched_pos = w
            w += 1
    C[C_U_TAIL] = w


@small_helper
def _stale_top(R, C, heap, slot, status):
    """True when the top of a heap is no longer live there (moved on, or an emptied group, which is
    freed)."""
    item = heap[0]
    if R.items[item].status != status:
        return True
    P = R.pods.shape[0]
    if item >= P and R.groups[item - P].size == 0:
        _free_group(R, C, item)
        return True
    return False


@helper
def flush(R, C, F, now):
    """Backoff expiry (flushBackoffQCompleted) and the unschedulable leftovers older than
    podMaxInUnschedulablePodsDuration (flushUnschedulablePodsLeftover)."""
    while C[C_BACKOFF] > 0:
        if _stale_top(R, C, R.backoff_heap, C_BACKOFF, BACKOFF):
            heap_pop(R.backoff_heap, C, C_BACKOFF, R.items.backoff_until, R.items.backoff_until, R.items.tie)
            continue
        g = R.backoff_heap[0]
        if R.items[g].backoff_until > now:
            break
        heap_pop(R.backoff_heap, C, C_BACKOFF, R.items.backoff_until, R.items.backoff_until, R.items.tie)
        _to_active(R, C, g)
    while C[C_U_HEAD] < C[C_U_TAIL]:
        i = C[C_U_HEAD]
        g = R.unsched_list[i]
        if R.items[g].status != UNSCHEDULABLE or R.items[g].unsched_pos != i:
            C[C_U_HEAD] += 1
            continue
        if R.items[g].unsched_since + F[F_LEFTOVER] > now:
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
        t = R.pods[R.arrival_order[C[C_NEXT_ARRIVAL]]].arrival
    if C[C_FINISH] > 0:
        t = min(t, R.pods[R.finish_heap[0]].finish_key)
    while C[C_BACKOFF] > 0 and _stale_top(R, C, R.backoff_heap, C_BACKOFF, BACKOFF):
        heap_pop(R.backoff_heap, C, C_BACKOFF, R.items.backoff_until, R.items.backoff_until, R.items.tie)
    if C[C_BACKOFF] > 0:
        t = min(t, R.items[R.backoff_heap[0]].backoff_until)
    # Leftover flushes only matter while the cluster can still change: once no pod will arrive or
    # leave, retrying a pod that every node rejected gives the same answer forever.
    if _future_events(R, C):
        while C[C_U_HEAD] < C[C_U_TAIL]:
            i = C[C_U_HEAD]
            g = R.unsched_list[i]
            if R.items[g].status == UNSCHEDULABLE and R.items[g].unsched_pos == i:
                t = min(t, R.items[g].unsched_since + F[F_LEFTOVER])
                break
            C[C_U_HEAD] += 1
    return t


@helper
def pop_finished(R, C, now):
    """The next pod (by time, then row) whose departure or deadline is due; -1 none."""
    if C[C_FINISH] == 0:
        return -1
    g = R.finish_heap[0]
    if R.pods[g].finish_key > now:
        return -1
    heap_pop(R.finish_heap, C, C_FINISH, R.pods.finish_key, R.pods.finish_key, R.items.tie)
    return g


@helper
def departed(R, C, pods, g, now):
    """A running pod finished: its requests leave the cluster totals (the caller unreserves the node)."""
    R.items[g].status = DONE
    R.pods[g].left = now
    C[C_RUNNING] -= 1
    s = R.items[g].spec
    for r in range(R.alloc_total.shape[0]):
        R.alloc_total[r] -= pods.requests[s, r]


@helper
def delete_pending(R, C, g, now):
    """A pod deleted before it ran (its deadline came first): it leaves whichever queue holds it."""
    if R.items[g].status == UNSCHEDULABLE:
        _leave_unschedulable(R, C, g)
    elif R.items[g].status == GROUPED:
        item = R.pods[g].group_of
        _leave_group(R, g)
        # An emptied group waiting in the unschedulable list goes now; one in a heap when it is popped.
        if R.groups[item - R.pods.shape[0]].size == 0 and R.items[item].status == UNSCHEDULABLE:
            _leave_unschedulable(R, C, item)
            _free_group(R, C, item)
    R.items[g].status = DELETED
    R.pods[g].left = now
    C[C_PENDING] -= 1


@helper
def admit_arrivals(R, C, now):
    """Pods whose arrival time has come enter the active queue (or stay held: gated or no profile)."""
    order = R.arrival_order
    while C[C_NEXT_ARRIVAL] < order.shape[0]:
        g = order[C[C_NEXT_ARRIVAL]]
        if R.pods[g].arrival > now:
            break
        C[C_NEXT_ARRIVAL] += 1
        C[C_PENDING] += 1
        R.items[g].timestamp = R.pods[g].arrival
        if not np.isnan(R.pods[g].deadline):
            R.pods[g].finish_key = R.pods[g].deadline
            heap_push(R.finish_heap, C, C_FINISH, R.pods.finish_key, R.pods.finish_key, R.items.tie, g)
        if R.items[g].status == HELD:
            continue
        _to_active(R, C, g)


# -- popping, with groups -----------------------------------------------------------------------------


@helper
def _pop_item(R, C):
    """The next live item and the queue it came from: activeQ first; with activeQ empty and
    SchedulerPopFromBackoffQ, backoffQ. (-1, 0) when both are empty."""
    P = R.pods.shape[0]
    while C[C_ACTIVE] > 0 or (C[C_POP_BACKOFF] and C[C_BACKOFF] > 0):
        if C[C_ACTIVE] > 0:
            heap, slot, source = R.active_heap, C_ACTIVE, ACTIVE
        else:
            heap, slot, source = R.backoff_heap, C_BACKOFF, BACKOFF
        if _stale_top(R, C, heap, slot, source):
            if source == ACTIVE:
                heap_pop(heap, C, slot, R.items.neg_priority, R.items.timestamp, R.items.tie)
            else:
                heap_pop(heap, C, slot, R.items.backoff_until, R.items.backoff_until, R.items.tie)
            continue
        if source == ACTIVE:
            g = heap_pop(heap, C, slot, R.items.neg_priority, R.items.timestamp, R.items.tie)
        else:
            g = heap_pop(heap, C, slot, R.items.backoff_until, R.items.backoff_until, R.items.tie)
        if g >= P and R.items[g].tie != R.groups[g - P].head:
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
    is_group = g >= R.pods.shape[0]
    if C[C_BATCH] > 0 and (not is_group or C[C_BATCH] >= BATCH_MAX):
        # One call site: finish_batch is large, and every call of it is compiled into the driver.
        finish_batch(R, C, F, now, clock, g, source, reject_plugin, reject_code, hist_plugin, hist_code,
                     hist_count, hist_len)
    if g < 0:
        return -1
    R.items[g].status = IN_FLIGHT
    if is_group:
        R.groups[g - R.pods.shape[0]].origin = source
    else:
        R.pods[g].attempts += 1  # upstream counts the attempt at pop
    return g


# -- failure records ----------------------------------------------------------------------------------


@helper
def _write_failure(R, C, item, s, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    """Store why shape ``s``'s cycle failed as ``item``'s record; returns the rejecting plugins' mask."""
    slot = R.items[item].fail_slot
    if slot < 0:
        slot = C[C_FAIL_USED]
        C[C_FAIL_USED] += 1
        R.items[item].fail_slot = slot
    mask = 0
    R.fail[slot].reject_plugin = reject_plugin
    R.fail[slot].reject_code = reject_code
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
    R.fail[slot].length = hist_len[s]
    return mask


@helper
def _copy_failure(R, source, target):
    a = R.items[source].fail_slot
    b = R.items[target].fail_slot
    R.fail[b].reject_plugin = R.fail[a].reject_plugin
    R.fail[b].reject_code = R.fail[a].reject_code
    R.fail[b].length = R.fail[a].length
    for k in range(R.fail_plugin.shape[1]):
        R.fail_plugin[b, k] = R.fail_plugin[a, k]
        R.fail_code[b, k] = R.fail_code[a, k]
        R.fail_count[b, k] = R.fail_count[a, k]


@small_helper
def _failed_at(R, F, item, now, mask):
    R.items[item].reject_mask = mask
    R.items[item].timestamp = now
    R.items[item].unsched_since = now


@helper
def record(R, C, F, pods, g, now, clock, fast, node, reject_plugin, reject_code, hist_plugin, hist_code,
           hist_count, hist_len):
    """The outcome of pod ``g``'s attempt (its shape's row in the loop outputs). Returns True when it
    was bound. ``fast``: the attempt failed on every node by the per-signature verdicts."""
    s = R.items[g].spec
    if node >= 0:
        R.items[g].status = RUNNING
        R.pods[g].node = node
        R.pods[g].scheduled = now
        C[C_RUNNING] += 1
        C[C_PENDING] -= 1
        for r in range(R.alloc_total.shape[0]):
            R.alloc_total[r] += pods.requests[s, r]
        if not np.isnan(R.pods[g].duration):
            R.pods[g].finish_key = now + R.pods[g].duration
            heap_push(R.finish_heap, C, C_FINISH, R.pods.finish_key, R.pods.finish_key, R.items.tie, g)
        return True
    # Unschedulable: remember why (the message is built later) and which plugins said no.
    mask = _write_failure(R, C, g, s, reject_plugin, reject_code, hist_plugin, hist_code, hist_count,
                          hist_len)
    _failed_at(R, F, g, now, mask)
    backoff = backoff_duration(F, R.pods[g].attempts)
    R.items[g].backoff_until = now + backoff
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
                R.items[item].backoff_until = now + backoff
                R.groups[item - R.pods.shape[0]].clock = clock
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
    if item < 0 or R.items[item].status != UNSCHEDULABLE or R.items[item].spec != s:
        return False
    return R.items[item].timestamp == now and R.groups[item - R.pods.shape[0]].clock == clock


@helper
def _new_group(R, C, s, like):
    """An empty group for shape ``s`` (priority and record taken from pod ``like``); -1 none free."""
    if C[C_G_FREE] == 0 or C[C_FAIL_USED] >= R.fail.shape[0]:
        return -1
    C[C_G_FREE] -= 1
    gi = R.g_free[C[C_G_FREE]]
    item = R.pods.shape[0] + gi
    R.items[item].spec = s
    R.items[item].neg_priority = R.items[like].neg_priority
    R.groups[gi].head = -1
    R.groups[gi].tail = -1
    R.groups[gi].size = 0
    R.groups[gi].offset = 0
    R.items[item].unsched_pos = -1
    if R.items[item].fail_slot < 0:
        R.items[item].fail_slot = C[C_FAIL_USED]
        C[C_FAIL_USED] += 1
    return item


@small_helper
def _free_group(R, C, item):
    R.items[item].status = FREE
    R.g_free[C[C_G_FREE]] = item - R.pods.shape[0]
    C[C_G_FREE] += 1


@small_helper
def _link_after(R, gi, x, g):
    """Link pod ``g`` into group ``gi``'s member list after member ``x`` (-1: first)."""
    nxt = R.groups[gi].head if x < 0 else R.pods[x].g_next
    R.pods[g].g_prev = x
    R.pods[g].g_next = nxt
    if x < 0:
        R.groups[gi].head = g
    else:
        R.pods[x].g_next = g
    if nxt < 0:
        R.groups[gi].tail = g
    else:
        R.pods[nxt].g_prev = g
    R.groups[gi].size += 1


@small_helper
def _unlink(R, gi, g):
    """Take pod ``g`` out of group ``gi``'s member list (the inverse of _link_after)."""
    prv, nxt = R.pods[g].g_prev, R.pods[g].g_next
    if prv < 0:
        R.groups[gi].head = nxt
    else:
        R.pods[prv].g_next = nxt
    if nxt < 0:
        R.groups[gi].tail = prv
    else:
        R.pods[nxt].g_prev = prv
    R.groups[gi].size -= 1


@helper
def _join(R, item, g):
    """Pod ``g`` (attempts counted on itself) becomes a member of group ``item``, in row order. Walks
    back from the last member: pods usually join in arrival order."""
    gi = item - R.pods.shape[0]
    x = R.groups[gi].tail
    while x >= 0 and x > g:
        x = R.pods[x].g_prev
    _link_after(R, gi, x, g)
    R.pods[g].group_of = item
    R.items[g].status = GROUPED
    R.pods[g].attempts -= R.groups[gi].offset


@helper
def _leave_group(R, g):
    """Pod ``g`` leaves its group with the group's attempts and record made its own."""
    item = R.pods[g].group_of
    gi = item - R.pods.shape[0]
    _unlink(R, gi, g)
    R.pods[g].group_of = -1
    R.pods[g].attempts += R.groups[gi].offset
    _copy_failure(R, item, g)
    R.items[g].reject_mask = R.items[item].reject_mask
    R.items[g].timestamp = R.items[item].timestamp
    R.items[g].unsched_since = R.items[item].unsched_since
    R.items[g].backoff_until = R.items[item].backoff_until


@helper
def _absorb(R, C, into, other):
    """Move every member of group ``other`` into group ``into`` (same shape, keys and record), merging
    the two row-ordered lists from their ends; frees ``other``."""
    P = R.pods.shape[0]
    ii, oi = into - P, other - P
    shift = R.groups[oi].offset - R.groups[ii].offset
    cursor = R.groups[ii].tail
    x = R.groups[oi].tail
    while x >= 0:
        prv = R.pods[x].g_prev
        while cursor >= 0 and cursor > x:
            cursor = R.pods[cursor].g_prev
        _link_after(R, ii, cursor, x)
        R.pods[x].group_of = into
        R.pods[x].attempts += shift
        x = prv
    R.groups[oi].head = -1
    R.groups[oi].tail = -1
    R.groups[oi].size = 0
    _free_group(R, C, other)


@helper
def _settle_failed(R, C, item, s, clock):
    """Group ``item`` has just failed (keys and record set): into the unschedulable list, merged with the
    group the shape's pods failed into at this moment and state, if there is one."""
    P = R.pods.shape[0]
    R.groups[item - P].clock = clock
    other = R.shape_group[s]
    if other != item and _joinable(R, other, s, R.items[item].timestamp, clock):
        if R.groups[other - P].size >= R.groups[item - P].size:
            _absorb(R, C, other, item)
            return
        _leave_unschedulable(R, C, other)
        _absorb(R, C, item, other)
    _enter_unschedulable(R, C, item)
    R.shape_group[s] = item


@helper
def batch_add(R, C, item):
    """Group ``item``'s cycle found no node: its members fail, up to the next pod (finish_batch)."""
    R.items[item].status = IN_BATCH
    R.batch[C[C_BATCH]] = item
    C[C_BATCH] += 1


@helper
def finish_batch(R, C, F, now, clock, barrier, source, reject_plugin, reject_code, hist_plugin, hist_code,
                 hist_count, hist_len):
    """Fail the batched groups' members that the queue orders before ``barrier`` (popped from ``source``;
    -1: all of them). Nothing changed the cluster since their cycles, so each shape's outputs still hold
    the verdict every member would have got."""
    P = R.pods.shape[0]
    cap = F[F_BACKOFF_MAX]
    for j in range(C[C_BATCH]):
        item = R.batch[j]
        gi = item - P
        s = R.items[item].spec
        origin = R.groups[gi].origin
        cutoff = -1  # members with a row below it fail; -1: all
        if barrier >= 0 and source == origin:
            if origin == ACTIVE:
                same = (R.items[item].neg_priority == R.items[barrier].neg_priority
                        and R.items[item].timestamp == R.items[barrier].timestamp)
            else:
                same = R.items[item].backoff_until == R.items[barrier].backoff_until
            if same:
                cutoff = R.items[barrier].tie
        whole = cutoff < 0 or R.groups[gi].tail < cutoff
        if whole:
            failing = item
            R.groups[gi].offset += 1
            C[C_GROUP_ATTEMPTS] += R.groups[gi].size
        else:
            # The barrier falls among the members: those before it fail (into a group of their own), the
            # rest wait in the queue for their turn after it.
            failing = _new_group(R, C, s, item)
            while R.groups[gi].head >= 0 and R.groups[gi].head < cutoff:
                x = R.groups[gi].head
                _leave_group(R, x)
                R.pods[x].attempts += 1
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
            R.items[failing].backoff_until = now + cap
            _settle_failed(R, C, failing, s, clock)
    C[C_BATCH] = 0


@helper
def _fail_alone(R, C, F, g, now, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    mask = _write_failure(R, C, g, R.items[g].spec, reject_plugin, reject_code, hist_plugin, hist_code, hist_count,
                          hist_len)
    _failed_at(R, F, g, now, mask)
    R.items[g].backoff_until = now + backoff_duration(F, R.pods[g].attempts)
    _enter_unschedulable(R, C, g)


@helper
def release_head(R, C, F, item):
    """Group ``item``'s cycle did not fail on every node: its first member goes back to the queue it
    came from as a pod of its own, to be tried alone; the rest wait behind it."""
    P = R.pods.shape[0]
    gi = item - P
    origin = R.groups[gi].origin
    head = R.groups[gi].head
    _leave_group(R, head)
    _push(R, C, head, origin)
    if R.groups[gi].size > 0:
        _push(R, C, item, origin)
    else:
        _free_group(R, C, item)


@njit(cache=True, nogil=True, _nrt=False)  # called from Python, once per replay: with numba's CPython wrapper
def settle_groups(R):
    """After the replay: every member's attempts and record made its own, its state its group's."""
    for g in range(R.pods.shape[0]):
        if R.items[g].status == GROUPED:
            item = R.pods[g].group_of
            status = R.items[item].status
            _leave_group(R, g)
            R.items[g].status = status


@helper
def timeline_row(R, C, now):
    t = C[C_TL_LEN]
    R.tl[t].time = now
    for r in range(R.alloc_total.shape[0]):
        R.tl_alloc[t, r] = R.alloc_total[r]
    R.tl[t].running = C[C_RUNNING]
    R.tl[t].pending = C[C_PENDING]
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
    length = R.slots[slot].hist_len
    for k in range(length):
        if R.slot_hist_plugin[slot, k] == plugin and R.slot_hist_code[slot, k] == code:
            R.slot_hist_count[slot, k] += delta
            return True
    if length >= R.slot_hist_plugin.shape[1]:
        return False
    R.slot_hist_plugin[slot, length] = plugin
    R.slot_hist_code[slot, length] = code
    R.slot_hist_count[slot, length] = delta
    R.slots[slot].hist_len = length + 1
    return True


@helper
def slot_for(R, C, signature):
    """The slot of a signature, assigned on first use; -1 when there is none to give or it is disabled."""
    slot = R.sig_slot[signature]
    if slot == -1 and C[C_SLOTS] < R.slots.shape[0]:
        slot = C[C_SLOTS]
        C[C_SLOTS] += 1
        R.sig_slot[signature] = slot
        R.slots[slot].gen = -1
    return slot


@helper
def copy_slot_histogram(R, slot, p, hist_plugin, hist_code, hist_count, hist_len):
    kept = 0
    for k in range(R.slots[slot].hist_len):
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
