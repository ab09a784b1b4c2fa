"""A plain-Python replay: the queue rules of ``queue.py`` written the obvious way, for differential tests.

Each scheduling attempt runs the profile's batch loop on one pod (the same decisions ``schedkit
schedule`` makes, themselves checked against ``schedkit.reference``); everything around it (which pod
goes when, backoff, requeueing on events, departures and deadlines) is independent of the compiled
driver and its incremental shortcuts. Slow: for small workloads only.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from ..cluster import Cluster
from ..framework.plugin import requeued_on, takes_pod
from ..framework.runtime import assume
from ..framework.loop_io import LoopOutputs
from ..framework.runtime import new_rng
from ..framework.scheduler import Scheduler, failure_message
from ..state import build_state
from ..traces.workload import Trace
from .engine import BACKOFF_INITIAL, BACKOFF_MAX, UNSCHEDULABLE_LEFTOVER


def _backoff(count: int) -> float:
    duration = BACKOFF_INITIAL
    for _ in range(1, count):
        duration = min(duration * 2, BACKOFF_MAX)
    return min(duration, BACKOFF_MAX)


def reference_replay(scheduler: Scheduler, workload: Trace, seed: int = 0) -> dict[str, np.ndarray]:
    """Per pod: node row (-1 none), scheduled time, left time, attempts, and the message of its last
    failed attempt (None: never failed)."""
    shapes = workload.shapes
    state = build_state(Cluster(workload.nodes, list(workload.running), dict(workload.namespace_labels)), shapes)
    columns = state.pod_columns(shapes)
    profile = next(iter(scheduler.profiles.values()))
    state.pod_ids = workload.num_pods  # as the compiled replay: Reserve/Unreserve's ``pod`` is the trace row
    prepared = scheduler._prepare(state, shapes, columns)
    pod_ids = np.zeros(len(shapes), dtype=np.int64)  # the cycle's spec row -> the pod being scheduled
    outputs = LoopOutputs(len(shapes), state.num_nodes, 0, explain=False)
    rng = new_rng(seed, scheduler.ties)
    sig = scheduler._signatures(profile, shapes)
    scheduler.next_start_node_index[:] = 0
    requeue_on = {event: {i for i, p in enumerate(profile.plugins) if event in requeued_on(p)}
                  for event in ("pod_delete", "pod_add")}

    P = workload.num_pods
    node = np.full(P, -1)
    scheduled = np.full(P, np.nan)
    left = np.full(P, np.nan)
    attempts = np.zeros(P, dtype=np.int64)
    status = ["waiting"] * P
    timestamp = np.zeros(P)
    backoff_until = np.zeros(P)
    since = np.zeros(P)
    rejected_by: list[set[int]] = [set() for _ in range(P)]
    messages: list[str | None] = [None] * P
    priority = columns.priority[workload.shape_of]

    arrivals = sorted(range(P), key=lambda g: (workload.arrival[g], g))
    next_arrival = 0
    finish: list[tuple[float, int]] = []  # (time, pod)
    active: list[tuple[int, float, int]] = []  # (-priority, timestamp, pod)
    backoff: list[tuple[float, int]] = []  # (backoff_until, pod)
    unschedulable: list[int] = []  # FIFO

    def to_active(g: int) -> None:
        status[g] = "active"
        heapq.heappush(active, (-int(priority[g]), float(timestamp[g]), g))

    def requeue(g: int, now: float) -> None:
        if backoff_until[g] > now:
            status[g] = "backoff"
            heapq.heappush(backoff, (float(backoff_until[g]), g))
        else:
            to_active(g)

    def event(name: str, now: float) -> None:
        keep = []
        for g in unschedulable:
            if not rejected_by[g] or rejected_by[g] & requeue_on[name]:
                requeue(g, now)
            else:
                keep.append(g)
        unschedulable[:] = keep

    def run_cycle(g: int, now: float) -> None:
        s = int(workload.shape_of[g])
        pod_ids[s] = g
        scheduler._run(profile, state, columns, np.array([s]), prepared, outputs, rng, sig, pod_ids=pod_ids)
        chosen = int(outputs.node[s])
        if chosen >= 0:
            status[g], node[g], scheduled[g] = "running", chosen, now
            if not math.isnan(workload.duration[g]):
                heapq.heappush(finish, (now + float(workload.duration[g]), g))
            event("pod_add", now)
            return
        plugins: set[int] = set()
        if outputs.reject_plugin[s] >= 0:
            plugins.add(int(outputs.reject_plugin[s]))
        elif outputs.reject_plugin[s] == -2:
            plugins |= {i for i in range(len(profile.plugins)) if (int(outputs.reject_code[s]) >> i) & 1}
        plugins |= {int(outputs.hist_plugin[s, k]) for k in range(int(outputs.hist_len[s]))}
        rejected_by[g] = plugins
        hist = [(int(outputs.hist_plugin[s, k]), int(outputs.hist_code[s, k]), int(outputs.hist_count[s, k]))
                for k in range(int(outputs.hist_len[s]))]
        messages[g] = failure_message(profile, state.num_nodes, int(outputs.reject_plugin[s]),
                                      int(outputs.reject_code[s]), hist)
        status[g] = "unschedulable"
        timestamp[g] = since[g] = now
        backoff_until[g] = now + _backoff(int(attempts[g]))
        unschedulable.append(g)

    def future() -> bool:
        return next_arrival < P or bool(finish)

    now = -math.inf
    while True:
        # Schedule everything queued at this instant.
        while True:
            if active:
                _, _, g = heapq.heappop(active)
            elif backoff:
                _, g = heapq.heappop(backoff)
            else:
                break
            if status[g] not in ("active", "backoff"):
                continue
            attempts[g] += 1
            run_cycle(g, now)
        candidates = []
        if next_arrival < P:
            candidates.append(workload.arrival[arrivals[next_arrival]])
        if finish:
            candidates.append(finish[0][0])
        if future() and unschedulable:
            candidates.append(since[unschedulable[0]] + UNSCHEDULABLE_LEFTOVER)
        if not candidates:
            break
        now = float(min(candidates))
        while finish and finish[0][0] <= now:
            _, g = heapq.heappop(finish)
            if status[g] == "running":
                n, s = int(node[g]), int(workload.shape_of[g])
                for i in reversed(profile.reserve_order):
                    plugin = profile.plugins[i]
                    extra = (g,) if takes_pod(plugin.kernels.unreserve) else ()
                    plugin.kernels.unreserve(state.nodes, columns, s, n, prepared[id(plugin)], *extra)
                assume(state.nodes, columns, s, n, -1)
                status[g], left[g] = "done", now
                event("pod_delete", now)
            else:
                if g in unschedulable:
                    unschedulable.remove(g)
                status[g], left[g] = "deleted", now
        while next_arrival < P and workload.arrival[arrivals[next_arrival]] <= now:
            g = arrivals[next_arrival]
            next_arrival += 1
            timestamp[g] = workload.arrival[g]
            if not math.isnan(workload.deadline[g]):
                heapq.heappush(finish, (float(workload.deadline[g]), g))
            to_active(g)
        while backoff and backoff[0][0] <= now:
            _, g = heapq.heappop(backoff)
            if status[g] == "backoff":
                to_active(g)
        while unschedulable and since[unschedulable[0]] + UNSCHEDULABLE_LEFTOVER <= now:
            requeue(unschedulable.pop(0), now)
    return {"node": node, "scheduled": scheduled, "left": left, "attempts": attempts, "messages": messages}
