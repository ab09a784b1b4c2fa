"""The replay's tables: statuses, counter slots, the record dtypes and ``ReplayArrays``."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...framework.plugin import CLUSTER_EVENTS
from .compiled import small_helper

# Pod status
NOT_ARRIVED, ACTIVE, BACKOFF, UNSCHEDULABLE, RUNNING, DONE, DELETED, IN_FLIGHT, HELD = range(9)
GROUPED = 9  # a pod whose queue state is its group's
IN_BATCH = 10  # a group whose members are about to fail together
FREE = 11  # an unused group item
PREEMPTED = 12  # a pod preemption deleted (the plain-Python replay with preemption, replay/reference.py)

# Cluster events a rejected pod may wait for (bit per event in a plugin's mask), numbered in the order
# of the names plugins declare them by (``Plugin.requeue_events``)
EVENT_NAMES = {name: bit for bit, name in enumerate(CLUSTER_EVENTS)}
EV_POD_DELETE, EV_POD_ADD, EV_NODE_ADD = (EVENT_NAMES["pod_delete"], EVENT_NAMES["pod_add"],
                                         EVENT_NAMES["node_add"])

# Counter slots (the int64 array ``counts``)
(C_ACTIVE, C_BACKOFF, C_FINISH, C_U_HEAD, C_U_TAIL, C_NEXT_ARRIVAL, C_FAIL_USED, C_TL_LEN, C_RUNNING,
 C_PENDING, C_DONE, C_STEP_OPEN, C_UNSCHED, C_POP_BACKOFF, C_LOG_LEN, C_LOG_GEN, C_SLOTS, C_CLOCK,
 C_G_FREE, C_BATCH, C_GROUPS_ON, C_GROUP_ATTEMPTS, C_CYCLES) = range(23)
NUM_COUNTERS = 23
# Time slots (the float64 array ``times``)
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
    ("members", np.int64),  # (not "size": a numpy record's size attribute would hide it in Python)
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


@small_helper
def free_group(tables, counts, item):
    tables.items[item].status = FREE
    tables.g_free[counts[C_G_FREE]] = item - tables.pods.shape[0]
    counts[C_G_FREE] += 1


def record_array(rows: int, dtype: np.dtype) -> np.recarray:
    """A zeroed table of ``rows`` records: a recarray, so that ``table[i].field`` reads and writes in
    plain Python (NUMBA_DISABLE_JIT, unit tests) as it does compiled."""
    return np.zeros(rows, dtype=dtype).view(np.recarray)


def new_tables(pods: int, *, shapes: int = 1, fail_rows: int = FAIL_MARGIN + 1, fail_width: int = 16,
               timeline_rows: int = 16, resources: int = 1, nodes: int = 1, signatures: int = 1, slots: int = 1,
               hist_width: int = 64) -> ReplayArrays:
    """Empty tables for ``pods`` trace pods (and as many group items): every item FREE, every pod with
    no arrival, node or group yet; the caller fills in the trace (replay.engine) or a test's case.
    Sizes: ``shapes`` distinct pod specs, failure records of ``fail_width`` kinds, ``resources``
    tracked resources, ``nodes`` nodes, per-signature ``slots`` of ``hist_width`` failure kinds."""
    P, G = pods, pods  # groups never share a pod, so there are at most as many as pods
    items = record_array(P + G, ITEM)
    items.status[:] = FREE
    items.fail_slot[:] = -1
    items.unsched_pos[:] = -1
    items.tie[:] = np.arange(P + G)
    pod_table = record_array(P, POD)
    for name in ("scheduled", "left"):
        pod_table[name] = np.nan
    for name in ("node", "group_of", "g_next", "g_prev"):
        pod_table[name] = -1
    groups = record_array(G, GROUP)
    groups.head[:] = -1
    groups.tail[:] = -1
    fail = record_array(fail_rows, FAILURE)
    fail.reject_plugin[:] = -1
    slot_table = record_array(slots, SLOT)
    slot_table.gen[:] = -1

    def ints(shape, fill=0):
        return np.full(shape, fill, dtype=np.int64)

    return ReplayArrays(
        items=items, pods=pod_table, arrival_order=np.arange(P, dtype=np.int64), groups=groups,
        g_free=np.arange(G - 1, -1, -1, dtype=np.int64), shape_group=ints(max(shapes, 1), -1),
        batch=ints(BATCH_MAX), active_heap=ints(P + G), backoff_heap=ints(P + G), finish_heap=ints(P),
        unsched_list=ints(2 * (P + G)), mask_count=ints(MASK_SLOTS + 1), event_mask=ints(3),
        fail=fail, fail_plugin=ints((fail_rows, fail_width)), fail_code=ints((fail_rows, fail_width)),
        fail_count=ints((fail_rows, fail_width)),
        tl=record_array(timeline_rows, TIMELINE), tl_alloc=ints((timeline_rows, resources)), alloc_total=ints(resources),
        node_stamp=ints(max(nodes, 1)), change_log=ints(4 * P + nodes + 16), sig_slot=ints(max(signatures, 1), -1),
        slots=slot_table, slot_hist_plugin=ints((slots, hist_width)), slot_hist_code=ints((slots, hist_width)),
        slot_hist_count=ints((slots, hist_width)), slot_code=ints((slots, nodes)), slot_plugin=ints((slots, nodes)),
        slot_stamp=ints((slots, nodes), -1),
    )


def new_counters() -> tuple[np.ndarray, np.ndarray]:
    """(counts, times): the int64 counter slots (C_*) and the float64 time slots (F_*)."""
    counts = np.zeros(NUM_COUNTERS, dtype=np.int64)
    times = np.zeros(NUM_FLOATS, dtype=np.float64)
    times[F_NOW] = -np.inf
    return counts, times


# What ``schedkit.replay.queue`` re-exports: the statuses, slots, dtypes and the tables.
__all__ = [name for name in dir() if name.isupper()] + [
    "ReplayArrays", "new_counters", "new_tables", "free_group", "record_array"]
