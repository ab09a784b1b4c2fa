"""Replay a workload through a scheduler profile on the simulated clock.

Python prepares the columns (cluster state, one PodColumns row per distinct pod spec, the plugins'
prepared state), then calls the compiled driver (``driver.py``) in chunks: between chunks it grows
the record tables, reports progress and lets Ctrl-C through. Afterwards it turns the failure records
into upstream's messages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..cluster import Cluster
from ..errors import InputError, PluginError
from ..framework.loop import HISTOGRAM_WIDTH
from ..framework.plugin import requeued_on
from ..framework.loop_io import LoopInputs, LoopOutputs
from ..framework.runtime import new_rng
from ..framework.scheduler import Scheduler, fast_path_message
from ..state import ClusterState, build_state
from ..traces.workload import Trace
from . import queue
from .driver import build_replay

CHUNK_CYCLES = 20_000  # scheduling cycles per compiled call: progress and Ctrl-C between chunks
FAIL_WIDTH = 16  # (plugin, code) failure pairs kept per pod for its message
SLOT_BUDGET = 4_000_000  # node verdicts kept per (signature, node) for cheap failing retries: ~96 MB
BACKOFF_INITIAL, BACKOFF_MAX = 1.0, 10.0  # podInitialBackoffSeconds, podMaxBackoffSeconds defaults
UNSCHEDULABLE_LEFTOVER = 300.0  # podMaxInUnschedulablePodsDuration (scheduling_queue.go)

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
    # Per-pod columns the profile's plugins report (Plugin.placement_columns), one value per trace pod.
    plugin_columns: dict[str, list] = field(default_factory=dict)
    # Preemption (the plain-Python replay, preempting.py): per pod the preemptor of a victim and the
    # nominated node of a pod still pending; pods bound before the replay that were preempted.
    preempted_by: list[str | None] | None = None
    nominated: list[str | None] | None = None
    preempted_at_start: list[str] = field(default_factory=list)
    python: bool = False  # run by reference.plain_replay because some pod may preempt
    hybrid: bool = False  # ... with compiled attempts where they are exact (hybrid_cycles.HybridCycles)
    recreated: int = 0  # replacements of preempted pods their owners created (rows after the trace's)

    @property
    def decisions_per_second(self) -> float:
        return self.cycles / self.loop_seconds if self.loop_seconds > 0 else float("inf")

    @property
    def timeline_length(self) -> int:
        return int(self.counters[queue.C_TL_LEN])


def _event_masks(profile) -> np.ndarray:
    """Per cluster event, a bit per plugin of the profile that requeues the pods it rejected on that
    event: its ``requeue_events`` (every event when it declares none)."""
    masks = np.zeros(len(queue.EVENT_NAMES), dtype=np.int64)
    for i, plugin in enumerate(profile.plugins):
        if i >= queue.MASK_SLOTS:
            raise PluginError("a replay supports at most 64 plugins per profile")
        for event in requeued_on(plugin):
            masks[queue.EVENT_NAMES[event]] |= 1 << i
    return masks


def _grow(array: np.ndarray, rows: int, fill) -> np.ndarray:
    extra = np.full((rows,) + array.shape[1:], fill, dtype=array.dtype)
    grown = np.concatenate([array, extra])
    return grown.view(np.recarray) if isinstance(array, np.recarray) else grown


def replay(scheduler: Scheduler, workload: Trace, seed: int = 0,
           progress: Callable[[int, int, float], None] | None = None, chunk: int = CHUNK_CYCLES,
           groups: bool = True, compiling: Callable[[str | None], None] | None = None,
           grace: str = "pod") -> ReplayResult:
    """Replay ``workload``; ``progress(arrived, total, now)`` is called between chunks, and
    ``compiling(profile)`` before the compiled driver is built or loaded, ``compiling(None)`` after.
    ``groups=False`` retries every waiting pod one cycle at a time (same result, slower with a backlog:
    for tests). When some pod may preempt another, the replay is the plain-Python one with
    DefaultPreemption (``preempting.py``); ``grace``: ``"pod"`` (victims terminate for their
    terminationGracePeriodSeconds) or ``"0"`` (at once)."""
    from .preempting import needs_python_replay, python_replay

    _check_profiles(scheduler, workload)
    if needs_python_replay(scheduler, workload):
        return python_replay(scheduler, workload, seed, grace)
    started = time.perf_counter()
    shapes = workload.shapes
    cluster = Cluster(workload.nodes, list(workload.running), dict(workload.namespace_labels))
    state = build_state(cluster, shapes)
    columns = state.pod_columns(shapes)

    held, name = _check_profiles(scheduler, workload)
    profile = scheduler.profiles[name]

    state.pod_ids = workload.num_pods  # Reserve/Unreserve's ``pod``: the pod's row in the trace
    state.seed = seed
    state.pod_counts = workload.recorded_counts()
    prepared = scheduler._prepare(state, shapes, columns)
    states = [prepared[id(plugin)] for plugin in profile.plugins]
    sig = scheduler._signatures(profile, shapes)
    outputs = LoopOutputs(len(shapes), state.num_nodes, 0, explain=False)
    tables = _arrays(workload, columns, held, profile, state, int(sig.max()) + 1 if len(sig) else 0)
    counts, times = queue.new_counters()
    times[queue.F_BACKOFF_INITIAL] = BACKOFF_INITIAL
    times[queue.F_BACKOFF_MAX] = BACKOFF_MAX
    times[queue.F_LEFTOVER] = UNSCHEDULABLE_LEFTOVER
    counts[queue.C_POP_BACKOFF] = 1  # SchedulerPopFromBackoffQ: beta, on by default since v1.33
    counts[queue.C_G_FREE] = tables.g_free.shape[0]
    counts[queue.C_GROUPS_ON] = int(groups)

    scheduler.next_start_node_index[:] = 0
    rng = new_rng(seed, scheduler.ties)
    has_scoring = bool(profile.points["score"])
    empty = np.zeros(0, dtype=np.int64)
    compile_start = time.perf_counter()
    function, _ = build_replay(profile.loop_spec())

    settings = (profile.percentage_of_nodes_to_score, profile.weight_array(), not has_scoring, rng,
                scheduler.next_start_node_index, False)
    inputs = LoopInputs(state.nodes, columns, states, [s.key for s in shapes], state.node_names, settings)

    def call(limit: int) -> int:
        return outputs.run(profile, inputs, lambda: function(state.nodes, columns, empty, *settings, *outputs.args(),
                                                             sig, empty, tables, counts, times, limit,
                                                             *states))

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
    while not counts[queue.C_DONE]:
        if counts[queue.C_FAIL_USED] + queue.FAIL_MARGIN >= tables.fail.shape[0]:
            tables = _grow_failures(tables)
        if counts[queue.C_TL_LEN] >= tables.tl.shape[0]:
            tables = _grow_timeline(tables)
        tick = time.perf_counter()
        call(chunk)
        loop_seconds += time.perf_counter() - tick
        if progress:
            progress(int(counts[queue.C_NEXT_ARRIVAL]), total, float(times[queue.F_NOW]))

    queue.settle_groups(tables)
    tables = _pods_only(tables)
    messages = _messages(tables, profile, state.num_nodes, held, workload)
    return ReplayResult(workload, state, tables, counts, messages, name, time.perf_counter() - started, compile_seconds,
                        loop_seconds, int(tables.attempts.sum()), int(counts[queue.C_CYCLES]),
                        int(counts[queue.C_GROUP_ATTEMPTS]),
                        float(times[queue.F_NOW]), columns.requests,
                        plugin_columns(profile, states, workload.num_pods))


def _check_profiles(scheduler: Scheduler, workload: Trace) -> tuple[dict[int, str], str]:
    """Each held shape's message (gated, or no profile for its schedulerName: it never queues) and the
    one profile the others name; refused when they name several or it does not sort like PrioritySort."""
    held: dict[int, str] = {}
    used: set[str] = set()
    for s, pod in enumerate(workload.shapes):
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
    return held, name


def plugin_columns(profile, states: list, pods: int) -> dict[str, list]:
    """The profile's plugins' per-pod report columns, each checked to hold one value per pod."""
    out: dict[str, list] = {}
    for plugin, plugin_state in zip(profile.plugins, states):
        for column, values in plugin.placement_columns(plugin_state).items():
            values = list(values)
            if len(values) != pods:
                raise PluginError(f'plugin "{plugin.name}": placement_columns gave {len(values)} values for column '
                                  f'{column!r}, one per pod ({pods}) expected')
            if column in out:
                raise PluginError(f'plugin "{plugin.name}": placement column {column!r} is reported by two plugins')
            out[column] = values
    return out


def _arrays(workload: Trace, columns, held: dict[int, str], profile, state: ClusterState,
            signatures: int) -> queue.ReplayArrays:
    """The replay's tables for ``workload``: every pod not arrived yet (or held: gated, no profile)."""
    P = workload.num_pods
    N = state.num_nodes
    tables = queue.new_tables(
        P, shapes=len(columns.priority), fail_rows=min(P, 4096) + queue.FAIL_MARGIN + 1,
        fail_width=FAIL_WIDTH, timeline_rows=4096, resources=len(state.resources), nodes=N,
        signatures=signatures, slots=max(1, min(signatures, SLOT_BUDGET // max(N, 1))),
        hist_width=HISTOGRAM_WIDTH)
    shape = np.asarray(workload.shape_of, dtype=np.int64)
    items, pods = tables.items, tables.pods
    items.spec[:P] = shape
    items.status[:P] = queue.NOT_ARRIVED
    if held:
        items.status[:P][np.isin(shape, np.fromiter(held, dtype=np.int64))] = queue.HELD
    items.neg_priority[:P] = -columns.priority[shape]
    pods.arrival[:] = workload.arrival
    pods.duration[:] = workload.duration
    pods.deadline[:] = workload.deadline
    tables.arrival_order[:] = np.lexsort((np.arange(P), workload.arrival))
    tables.event_mask[:] = _event_masks(profile)
    tables.alloc_total[:] = state.nodes.requested.sum(axis=0)
    return tables


def _pods_only(tables: queue.ReplayArrays) -> queue.ReplayArrays:
    """The per-item records cut to the pods, the groups' rows dropped (after settle_groups)."""
    return tables._replace(items=tables.items[:tables.pods.shape[0]])


def _grow_failures(tables: queue.ReplayArrays) -> queue.ReplayArrays:
    rows = tables.fail.shape[0]
    fail = _grow(tables.fail, rows, 0)
    fail["reject_plugin"][rows:] = -1
    return tables._replace(fail=fail, fail_plugin=_grow(tables.fail_plugin, rows, 0), fail_code=_grow(tables.fail_code, rows, 0),
                      fail_count=_grow(tables.fail_count, rows, 0))


def _grow_timeline(tables: queue.ReplayArrays) -> queue.ReplayArrays:
    rows = tables.tl.shape[0]
    return tables._replace(tl=_grow(tables.tl, rows, 0), tl_alloc=_grow(tables.tl_alloc, rows, 0))


def _messages(tables: queue.ReplayArrays, profile, num_nodes: int, held: dict[int, str],
              workload: Trace) -> list[str | None]:
    messages: list[str | None] = [None] * workload.num_pods
    cache: dict[tuple, str] = {}
    for g in np.flatnonzero(tables.items["fail_slot"] >= 0):
        slot = int(tables.items["fail_slot"][g])
        length = int(tables.fail["length"][slot])
        kept = min(length, FAIL_WIDTH)
        hist = tuple((int(tables.fail_plugin[slot, k]), int(tables.fail_code[slot, k]), int(tables.fail_count[slot, k]))
                     for k in range(kept))
        pod = workload.shapes[int(tables.spec[g])]
        key = (int(tables.fail["reject_plugin"][slot]), int(tables.fail["reject_code"][slot]), hist, length,
               pod.preemption_policy)
        text = cache.get(key)
        if text is None:
            # The PostFilter part as the fast path has it: a replay runs compiled only when no pod can
            # preempt another (preempting.needs_python_replay).
            text = fast_path_message(profile, num_nodes, key[0], key[1], list(hist), pod, "(unnamed)")
            if length > kept:
                text += f" (and {length - kept} more failure kinds not recorded)"
            cache[key] = text
        messages[g] = text
    if held:
        for g in np.flatnonzero(np.isin(tables.spec, list(held))):
            messages[g] = held[int(tables.spec[g])]
    return messages
