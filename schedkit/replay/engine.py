"""Replay a workload through a scheduler profile on the simulated clock.

Python prepares the columns (cluster state, one PodColumns row per distinct pod spec, the plugins'
prepared state), then calls the compiled driver (``driver.py``) in chunks: between chunks it grows
the record tables, reports progress and lets Ctrl-C through. Afterwards it turns the failure records
into upstream's messages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..cluster import Cluster
from ..errors import InputError, PluginError
from ..framework.loop import HISTOGRAM_WIDTH
from ..framework.scheduler import LoopInputs, Scheduler, _Outputs, failure_message
from ..framework.scratch import new_scratch
from ..state import ClusterState, build_state
from ..traces.workload import Trace
from . import queue
from .driver import build_replay

CHUNK_CYCLES = 20_000  # scheduling cycles per compiled call: progress and Ctrl-C between chunks
FAIL_WIDTH = 16  # (plugin, code) failure pairs kept per pod for its message
SLOT_BUDGET = 4_000_000  # node verdicts kept per (signature, node) for cheap failing retries: ~96 MB
BACKOFF_INITIAL, BACKOFF_MAX = 1.0, 10.0  # podInitialBackoffSeconds, podMaxBackoffSeconds defaults
UNSCHEDULABLE_LEFTOVER = 300.0  # podMaxInUnschedulablePodsDuration (scheduling_queue.go)

# Which plugins requeue a rejected pod on which event (their EventsToRegister and QueueingHints,
# tests/upstream_tables/NOTES-queue.md). A plugin not listed is assumed to care about every event,
# as upstream assumes for plugins without EnqueueExtensions.
REQUEUE_EVENTS = {
    "NodeResourcesFit": ("pod_delete", "node_add"),
    "NodePorts": ("pod_delete", "node_add"),
    "NodeAffinity": ("node_add",),
    "TaintToleration": ("node_add",),
    "NodeUnschedulable": ("node_add",),
    "NodeName": ("node_add",),
    "InterPodAffinity": ("pod_add", "pod_delete", "node_add"),
    "PodTopologySpread": ("pod_add", "pod_delete", "node_add"),
}


@dataclass
class ReplayResult:
    workload: Trace
    state: ClusterState
    arrays: queue.ReplayArrays
    counters: np.ndarray
    messages: list[str | None]  # per pod: why its last attempt failed (None: never failed)
    scheduler_name: str
    wall_seconds: float  # whole replay, preparing included
    compile_seconds: float
    loop_seconds: float  # the compiled driver only
    cycles: int  # scheduling attempts, as upstream would make them
    cycles_run: int  # cycles the driver ran: attempts failed in groups cost one cycle per group
    group_attempts: int  # attempts failed in groups
    end_time: float  # simulated time of the last event
    requests: np.ndarray  # int64 [shapes, resources]: each distinct pod spec's requests

    @property
    def decisions_per_second(self) -> float:
        return self.cycles / self.loop_seconds if self.loop_seconds > 0 else float("inf")

    @property
    def timeline_length(self) -> int:
        return int(self.counters[queue.C_TL_LEN])


def _event_masks(profile) -> np.ndarray:
    masks = np.zeros(3, dtype=np.int64)
    for i, plugin in enumerate(profile.plugins):
        if i >= queue.MASK_SLOTS:
            raise PluginError("a replay supports at most 64 plugins per profile")
        events = REQUEUE_EVENTS.get(plugin.name, tuple(queue.EVENT_NAMES))
        for event in events:
            masks[queue.EVENT_NAMES[event]] |= 1 << i
    return masks


def _grow(array: np.ndarray, rows: int, fill) -> np.ndarray:
    extra = np.full((rows,) + array.shape[1:], fill, dtype=array.dtype)
    return np.concatenate([array, extra])


def replay(scheduler: Scheduler, workload: Trace, seed: int = 0,
           progress: Callable[[int, int, float], None] | None = None, chunk: int = CHUNK_CYCLES,
           groups: bool = True, compiling: Callable[[str | None], None] | None = None) -> ReplayResult:
    """Replay ``workload``; ``progress(arrived, total, now)`` is called between chunks, and
    ``compiling(profile)`` before the compiled driver is built or loaded, ``compiling(None)`` after.
    ``groups=False`` retries every waiting pod one cycle at a time (same result, slower with a backlog:
    for tests)."""
    started = time.perf_counter()
    shapes = workload.shapes
    cluster = Cluster(workload.nodes, list(workload.running), dict(workload.namespace_labels))
    state = build_state(cluster, shapes)
    columns = state.pod_columns(shapes)

    # Route each shape to its profile; gated shapes and unknown schedulerNames never queue.
    held: dict[int, str] = {}
    used: set[str] = set()
    for s, pod in enumerate(shapes):
        message = scheduler.hold_message(pod)
        if message:
            held[s] = message
        else:
            used.add(pod.scheduler_name)
    if len(used) > 1:
        raise InputError(f"the trace's pods use several scheduler profiles ({', '.join(sorted(used))}); "
                         "a replay runs one profile", workload.source or None)
    name = next(iter(used)) if used else next(iter(scheduler.profiles))
    profile = scheduler.profiles[name]
    if profile.queue_sort.name != "PrioritySort":
        raise InputError(f'replay orders its queue like PrioritySort; queueSort plugin "{profile.queue_sort.name}" '
                         "is not supported in a replay", scheduler.config.source or None)

    prepared = scheduler._prepare(state, shapes, columns)
    states = [prepared[id(plugin)] for plugin in profile.plugins]
    sig = scheduler._signatures(profile, shapes)
    outputs = _Outputs(len(shapes), state.num_nodes, 0, explain=False)
    R = _arrays(workload, columns, held, profile, state, int(sig.max()) + 1 if len(sig) else 0)
    C, F = queue.new_counters()
    F[queue.F_BACKOFF_INITIAL] = BACKOFF_INITIAL
    F[queue.F_BACKOFF_MAX] = BACKOFF_MAX
    F[queue.F_LEFTOVER] = UNSCHEDULABLE_LEFTOVER
    C[queue.C_POP_BACKOFF] = 1  # SchedulerPopFromBackoffQ: beta, on by default since v1.33
    C[queue.C_G_FREE] = R.g_free.shape[0]
    C[queue.C_GROUPS_ON] = int(groups)

    scheduler.next_start_node_index[:] = 0
    rng = np.array([seed % 2**64], dtype=np.uint64)
    has_scoring = bool(profile.points["score"])
    empty = np.zeros(0, dtype=np.int64)
    compile_start = time.perf_counter()
    function, _ = build_replay(profile.loop_spec())

    settings = (profile.percentage_of_nodes_to_score, profile.weight_array(), not has_scoring, rng,
                scheduler.next_start_node_index,
                True, False, False, False)
    inputs = LoopInputs(state.nodes, columns, states, [s.key for s in shapes], state.node_names, settings)

    def call(limit: int) -> int:
        scratch = new_scratch(state.num_nodes, len(profile.score_slots))
        return outputs.run(profile, inputs, lambda: function(state.nodes, columns, empty, *settings, *outputs.args(),
                                                             sig, scratch, R, C, F, limit, *states))

    if compiling:
        compiling(name)
    try:
        call(0)  # compiles, or loads the compiled driver from the cache
    finally:
        if compiling:
            compiling(None)
    compile_seconds = time.perf_counter() - compile_start
    loop_seconds = 0.0
    total = workload.num_pods
    while not C[queue.C_DONE]:
        if C[queue.C_FAIL_USED] + queue.FAIL_MARGIN >= R.fail_len.shape[0]:
            R = _grow_failures(R)
        if C[queue.C_TL_LEN] >= R.tl_time.shape[0]:
            R = _grow_timeline(R)
        tick = time.perf_counter()
        call(chunk)
        loop_seconds += time.perf_counter() - tick
        if progress:
            progress(int(C[queue.C_NEXT_ARRIVAL]), total, float(F[queue.F_NOW]))

    queue.settle_groups(R)
    R = _pods_only(R)
    messages = _messages(R, profile, state.num_nodes, held, workload)
    return ReplayResult(workload, state, R, C, messages, name, time.perf_counter() - started, compile_seconds,
                        loop_seconds, int(R.attempts.sum()), int(C[queue.C_CYCLES]),
                        int(C[queue.C_GROUP_ATTEMPTS]),
                        float(F[queue.F_NOW]), columns.requests)


def _arrays(workload: Trace, columns, held: dict[int, str], profile, state: ClusterState,
            signatures: int) -> queue.ReplayArrays:
    P = workload.num_pods
    G = P  # groups are never empty and never share a pod, bar emptied ones waiting to be popped: at most P
    items = P + G
    shape = np.zeros(items, dtype=np.int64)
    shape[:P] = workload.shape_of
    status = np.full(items, queue.FREE, dtype=np.int8)
    status[:P] = queue.NOT_ARRIVED
    if held:
        status[:P][np.isin(shape[:P], np.fromiter(held, dtype=np.int64))] = queue.HELD
    order = np.lexsort((np.arange(P), workload.arrival)).astype(np.int64)
    nan = lambda: np.full(P, np.nan)  # noqa: E731
    neg_priority = np.zeros(items)
    neg_priority[:P] = -columns.priority[shape[:P]]
    fail_rows = min(P, 4096) + queue.FAIL_MARGIN + 1
    timeline_rows = 4096
    width = len(state.resources)
    N = state.num_nodes
    slots = max(1, min(signatures, SLOT_BUDGET // max(N, 1)))
    return queue.ReplayArrays(
        shape=shape,
        neg_priority=neg_priority,
        status=status,
        timestamp=np.zeros(items),
        backoff_until=np.zeros(items),
        unsched_since=np.zeros(items),
        reject_mask=np.zeros(items, dtype=np.int64),
        fail_slot=np.full(items, -1, dtype=np.int64),
        unsched_pos=np.full(items, -1, dtype=np.int64),
        tie=np.arange(items, dtype=np.int64),
        arrival=workload.arrival.astype(np.float64),
        duration=workload.duration.astype(np.float64),
        deadline=workload.deadline.astype(np.float64),
        attempts=np.zeros(P, dtype=np.int64),
        scheduled=nan(),
        node=np.full(P, -1, dtype=np.int64),
        left=nan(),
        finish_key=np.zeros(P),
        arrival_order=order,
        group_of=np.full(P, -1, dtype=np.int64),
        g_next=np.full(P, -1, dtype=np.int64),
        g_prev=np.full(P, -1, dtype=np.int64),
        g_head=np.full(G, -1, dtype=np.int64),
        g_tail=np.full(G, -1, dtype=np.int64),
        g_size=np.zeros(G, dtype=np.int64),
        g_offset=np.zeros(G, dtype=np.int64),
        g_clock=np.zeros(G, dtype=np.int64),
        g_from=np.zeros(G, dtype=np.int8),
        g_free=np.arange(G - 1, -1, -1, dtype=np.int64),
        shape_group=np.full(max(len(columns.priority), 1), -1, dtype=np.int64),
        batch=np.zeros(queue.BATCH_MAX, dtype=np.int64),
        active_heap=np.zeros(items, dtype=np.int64),
        backoff_heap=np.zeros(items, dtype=np.int64),
        finish_heap=np.zeros(P, dtype=np.int64),
        unsched_list=np.zeros(2 * items, dtype=np.int64),
        mask_count=np.zeros(queue.MASK_SLOTS + 1, dtype=np.int64),
        event_mask=_event_masks(profile),
        fail_reject_plugin=np.full(fail_rows, -1, dtype=np.int64),
        fail_reject_code=np.zeros(fail_rows, dtype=np.int64),
        fail_len=np.zeros(fail_rows, dtype=np.int64),
        fail_plugin=np.zeros((fail_rows, FAIL_WIDTH), dtype=np.int64),
        fail_code=np.zeros((fail_rows, FAIL_WIDTH), dtype=np.int64),
        fail_count=np.zeros((fail_rows, FAIL_WIDTH), dtype=np.int64),
        tl_time=np.zeros(timeline_rows),
        tl_alloc=np.zeros((timeline_rows, width), dtype=np.int64),
        tl_running=np.zeros(timeline_rows, dtype=np.int64),
        tl_pending=np.zeros(timeline_rows, dtype=np.int64),
        alloc_total=state.nodes.requested.sum(axis=0).astype(np.int64),
        node_stamp=np.zeros(max(N, 1), dtype=np.int64),
        change_log=np.zeros(4 * P + N + 16, dtype=np.int64),
        sig_slot=np.full(max(signatures, 1), -1, dtype=np.int64),
        slot_gen=np.full(slots, -1, dtype=np.int64),
        slot_logpos=np.zeros(slots, dtype=np.int64),
        slot_feasible=np.zeros(slots, dtype=np.int64),
        slot_hist_len=np.zeros(slots, dtype=np.int64),
        slot_hist_plugin=np.zeros((slots, HISTOGRAM_WIDTH), dtype=np.int64),
        slot_hist_code=np.zeros((slots, HISTOGRAM_WIDTH), dtype=np.int64),
        slot_hist_count=np.zeros((slots, HISTOGRAM_WIDTH), dtype=np.int64),
        slot_code=np.zeros((slots, N), dtype=np.int64),
        slot_plugin=np.zeros((slots, N), dtype=np.int64),
        slot_stamp=np.full((slots, N), -1, dtype=np.int64),
    )


ITEM_FIELDS = ("shape", "neg_priority", "status", "timestamp", "backoff_until", "unsched_since", "reject_mask",
               "fail_slot", "unsched_pos", "tie")


def _pods_only(R: queue.ReplayArrays) -> queue.ReplayArrays:
    """The per-item arrays cut to the pods, the groups' rows dropped (after settle_groups)."""
    P = R.arrival.shape[0]
    return R._replace(**{name: getattr(R, name)[:P] for name in ITEM_FIELDS})


def _grow_failures(R: queue.ReplayArrays) -> queue.ReplayArrays:
    rows = R.fail_len.shape[0]
    return R._replace(
        fail_reject_plugin=_grow(R.fail_reject_plugin, rows, -1), fail_reject_code=_grow(R.fail_reject_code, rows, 0),
        fail_len=_grow(R.fail_len, rows, 0), fail_plugin=_grow(R.fail_plugin, rows, 0),
        fail_code=_grow(R.fail_code, rows, 0), fail_count=_grow(R.fail_count, rows, 0))


def _grow_timeline(R: queue.ReplayArrays) -> queue.ReplayArrays:
    rows = R.tl_time.shape[0]
    return R._replace(tl_time=_grow(R.tl_time, rows, 0.0), tl_alloc=_grow(R.tl_alloc, rows, 0),
                      tl_running=_grow(R.tl_running, rows, 0), tl_pending=_grow(R.tl_pending, rows, 0))


def _messages(R: queue.ReplayArrays, profile, num_nodes: int, held: dict[int, str],
              workload: Trace) -> list[str | None]:
    messages: list[str | None] = [None] * workload.num_pods
    cache: dict[tuple, str] = {}
    for g in np.flatnonzero(R.fail_slot >= 0):
        slot = int(R.fail_slot[g])
        length = int(R.fail_len[slot])
        kept = min(length, FAIL_WIDTH)
        hist = tuple((int(R.fail_plugin[slot, k]), int(R.fail_code[slot, k]), int(R.fail_count[slot, k]))
                     for k in range(kept))
        key = (int(R.fail_reject_plugin[slot]), int(R.fail_reject_code[slot]), hist, length)
        text = cache.get(key)
        if text is None:
            text = failure_message(profile, num_nodes, key[0], key[1], list(hist))
            if length > kept:
                text += f" (and {length - kept} more failure kinds not recorded)"
            cache[key] = text
        messages[g] = text
    if held:
        for g in np.flatnonzero(np.isin(R.shape, list(held))):
            messages[g] = held[int(R.shape[g])]
    return messages
