"""A plain-Python replay: the queue rules of ``queue/`` written the obvious way.

It serves two purposes. With ``CompiledCycles`` (each attempt is the profile's batch loop on one pod,
the decisions ``schedkit schedule`` makes) it is the reference the compiled driver is checked against:
everything around the attempts (which pod goes when, backoff, requeueing on events, departures and
deadlines) is independent of the compiled driver and its incremental shortcuts and groups. With
``PythonCycles`` (``schedkit.reference``'s cycle and DefaultPreemption) it is the replay with
preemption: a failed attempt may nominate a node and delete victims, which keep their node for their
termination grace period on the simulated clock, then leave (a ``pod_delete`` event); a victim whose
owner recreates it comes back as a new pod at once. Slow: small workloads only.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from ..cluster import Cluster
from ..framework.plugin import requeued_on
from ..framework.scheduler import Scheduler
from ..state import build_state
from ..traces.workload import Trace
from . import queue
from .cycles import CompiledCycles, PythonCycles
from .hybrid_cycles import HybridCycles
from .hybrid_cycles import covers as hybrid_covers
from .engine import BACKOFF_INITIAL, BACKOFF_MAX, UNSCHEDULABLE_LEFTOVER

GRACE_POD, GRACE_ZERO = "pod", "0"  # victims terminate for their terminationGracePeriodSeconds, or at once
GRACE_CHOICES = (GRACE_POD, GRACE_ZERO)
RECREATED = "-recreated-"  # a replacement's name: <victim>-recreated-<n>


def _backoff(count: int) -> float:
    """The initial backoff doubled once per earlier attempt, capped (attempts run into the thousands)."""
    return min(BACKOFF_INITIAL * 2.0 ** min(max(count - 1, 0), 64), BACKOFF_MAX)


@dataclass
class ReplayRecord:
    """What the plain-Python replay saw, per pod (trace rows, then replacements of preempted pods)."""

    workload: Trace  # the trace with the replacements appended
    node_names: list[str]
    node: np.ndarray  # int64: node row, -1 none
    scheduled: np.ndarray  # float64: time bound, NaN never
    left: np.ndarray  # float64: time it left, NaN still there
    attempts: np.ndarray  # int64
    status: np.ndarray  # int64: queue.* status at the end (queue.PREEMPTED for victims)
    messages: list[str | None]  # the last failed attempt's message (None: never failed)
    preempted_by: list[str | None]  # the preemptor ("namespace/name") of a victim
    nominated: list[str | None]  # the nominated node of a pod still pending
    timeline: list[tuple[float, int, int, np.ndarray]]  # (time, running, pending, allocated per resource)
    alloc_end: np.ndarray  # allocated per resource at the end
    preempted_at_start: list[str] = field(default_factory=list)  # pods bound before the replay, preempted
    cycles: int = 0
    hybrid: bool = False  # attempts through HybridCycles (compiled where exact), not PythonCycles alone

    def as_dict(self) -> dict:
        return {"node": self.node, "scheduled": self.scheduled, "left": self.left, "attempts": self.attempts,
                "messages": self.messages}


def reference_replay(scheduler: Scheduler, workload: Trace, seed: int = 0, python: bool = False,
                     grace: str = GRACE_POD) -> dict:
    """Per pod: node row (-1 none), scheduled time, left time, attempts, and the message of its last
    failed attempt (None: never failed). ``python``: attempts through ``schedkit.reference`` with
    DefaultPreemption instead of the compiled loop."""
    return plain_replay(scheduler, workload, seed, python, grace).as_dict()


def pick_profile(scheduler: Scheduler, workload: Trace):
    """The profile the trace's queued pods name (the replay runs one), and each held shape's message."""
    held: dict[int, str] = {}
    used: list[str] = []
    for s, pod in enumerate(workload.shapes):
        message = scheduler.hold_message(pod)
        if message:
            held[s] = message
        elif pod.scheduler_name not in used:
            used.append(pod.scheduler_name)
    name = used[0] if used else next(iter(scheduler.profiles))
    return scheduler.profiles[name], held


def plain_replay(scheduler: Scheduler, workload: Trace, seed: int = 0, python: bool = False,
                 grace: str = GRACE_POD, hybrid: bool = True) -> ReplayRecord:
    """The replay loop. ``python``: with DefaultPreemption, through ``HybridCycles`` where it covers the
    trace and ``hybrid`` is set, else ``PythonCycles``; otherwise ``CompiledCycles`` (no preemption)."""
    workload = dataclasses.replace(workload)  # replacements are appended to its columns
    profile, held = pick_profile(scheduler, workload)
    hybrid = python and hybrid and hybrid_covers(scheduler, profile, workload)
    kind = HybridCycles if hybrid else PythonCycles if python else CompiledCycles
    cycles = kind(scheduler, profile, workload, seed)
    state = build_state(Cluster(workload.nodes, list(workload.running), dict(workload.namespace_labels)),
                        workload.shapes)
    requests = state.pod_columns(workload.shapes).requests
    alloc = state.nodes.requested.sum(axis=0).astype(np.int64)
    requeue_on = {event: {i for i, p in enumerate(profile.plugins) if event in requeued_on(p)}
                  for event in ("pod_delete", "pod_add")}

    P = workload.num_pods
    node = [-1] * P
    scheduled = [math.nan] * P
    left = [math.nan] * P
    attempts = [0] * P
    status = [queue.NOT_ARRIVED] * P
    timestamp = [0.0] * P
    backoff_until = [0.0] * P
    since = [0.0] * P
    rejected_by: list[set[int]] = [set() for _ in range(P)]
    messages: list[str | None] = [None] * P
    preempted_by: list[str | None] = [None] * P
    recreate = list(workload.recreate) if workload.recreate is not None else [False] * P
    priority = [workload.shapes[s].priority for s in workload.shape_of.tolist()]
    preempted_at_start: list[str] = []
    timeline: list[tuple[float, int, int, np.ndarray]] = []
    counts = {"running": 0, "pending": 0, "cycles": 0}

    arrivals = sorted(range(P), key=lambda g: (workload.arrival[g], g))
    next_arrival = 0
    late: list[tuple[float, int]] = []  # replacements of preempted pods: (arrival, row)
    finish: list[tuple[float, int]] = []  # (time, pod): departures and deadlines
    deletions: list[tuple[float, int, str]] = []  # (time, tie, victim key): preemption victims leaving
    active: list[tuple[int, float, int]] = []  # (-priority, timestamp, pod)
    backoff: list[tuple[float, int]] = []  # (backoff_until, pod)
    unschedulable: list[int] = []  # FIFO

    def to_active(g: int) -> None:
        status[g] = queue.ACTIVE
        heapq.heappush(active, (-int(priority[g]), float(timestamp[g]), g))

    def requeue(g: int, now: float) -> None:
        if backoff_until[g] > now:
            status[g] = queue.BACKOFF
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

    def add_replacement(shape: int, name: str, namespace: str, duration: float, now: float) -> None:
        """The victim's owner creates a new pod like it (a ReplicaSet or Job counts a terminating pod as
        gone), entering the queue now."""
        g = workload.num_pods
        base = name.split(RECREATED)[0]
        taken = sum(1 for other in workload.names.tolist() if str(other).startswith(base + RECREATED))
        workload.shape_of = np.append(workload.shape_of, shape)
        workload.names = np.append(workload.names, np.array([f"{base}{RECREATED}{taken + 1}"], dtype=object))
        workload.namespaces = np.append(workload.namespaces, np.array([namespace], dtype=object))
        workload.arrival = np.append(workload.arrival, now)
        workload.duration = np.append(workload.duration, duration)
        workload.deadline = np.append(workload.deadline, math.nan)
        for column, value in ((node, -1), (scheduled, math.nan), (left, math.nan), (attempts, 0),
                              (status, queue.NOT_ARRIVED), (timestamp, 0.0), (backoff_until, 0.0), (since, 0.0),
                              (messages, None), (preempted_by, None), (recreate, True),
                              (priority, workload.shapes[shape].priority)):
            column.append(value)
        rejected_by.append(set())
        heapq.heappush(late, (now, g))

    def running_shape(key: str) -> int:
        """A pod bound before the replay as a new shape of the trace (what a replacement is made from)."""
        nonlocal requests
        pod = next(p for p in workload.running if p.key == key)
        spec = dataclasses.replace(pod, node_name="", nominated_node="", start_time=None, deletion_timestamp=None,
                                   preempted_by_scheduler=False)
        workload.shapes = [*workload.shapes, spec]
        requests = np.vstack([requests, _initial_requests(state, key, workload)[None, :]])
        return len(workload.shapes) - 1

    def bind(g: int, n: int, now: float) -> None:
        status[g], node[g], scheduled[g] = queue.RUNNING, n, now
        counts["running"] += 1
        counts["pending"] -= 1
        alloc[:] += requests[int(workload.shape_of[g])]
        if not math.isnan(workload.duration[g]):
            heapq.heappush(finish, (now + float(workload.duration[g]), g))

    def leaves(g: int, now: float) -> None:
        """A bound pod leaves its node: it finished, its deletion time came, or preemption deleted it."""
        cycles.leave(g, node[g])
        counts["running"] -= 1
        alloc[:] -= requests[int(workload.shape_of[g])]
        left[g] = now
        status[g] = queue.PREEMPTED if preempted_by[g] else queue.DONE

    def run_cycle(g: int, now: float) -> None:
        counts["cycles"] += 1
        attempt = cycles.attempt(g, now)
        if attempt.node >= 0:
            bind(g, attempt.node, now)
            event("pod_add", now)
            return
        rejected_by[g] = attempt.rejectors
        messages[g] = attempt.message
        status[g] = queue.UNSCHEDULABLE
        timestamp[g] = since[g] = now
        backoff_until[g] = now + _backoff(int(attempts[g]))
        unschedulable.append(g)
        preemptor = f"{workload.namespaces[g]}/{workload.names[g]}"
        for key in attempt.victims:
            wait = 0.0 if grace == GRACE_ZERO else cycles.grace_seconds(key)
            victim = cycles.row_of.get(key)
            heapq.heappush(deletions, (now + wait, victim if victim is not None else -1, key))
            if victim is None:  # bound before the replay; its owner may recreate it too
                if key in workload.running_recreate:
                    add_replacement(running_shape(key), *key.split("/", 1)[::-1], math.nan, now)
                continue
            preempted_by[victim] = preemptor
            if recreate[victim]:
                add_replacement(int(workload.shape_of[victim]), str(workload.names[victim]),
                                str(workload.namespaces[victim]), float(workload.duration[victim]), now)
        for r in attempt.cleared:  # a lower-priority pod lost its nomination: it is tried again
            if status[r] == queue.UNSCHEDULABLE:
                unschedulable.remove(r)
                requeue(r, now)

    def future() -> bool:
        return next_arrival < len(arrivals) or bool(finish) or bool(late) or bool(deletions)

    def next_arrival_time() -> float:
        t = workload.arrival[arrivals[next_arrival]] if next_arrival < len(arrivals) else math.inf
        return min(t, late[0][0]) if late else t

    def arrive(g: int, replacement: bool = False) -> None:
        counts["pending"] += 1
        timestamp[g] = workload.arrival[g]
        cycles.arrive(g, replacement)
        if not math.isnan(workload.deadline[g]):
            heapq.heappush(finish, (float(workload.deadline[g]), g))
        if int(workload.shape_of[g]) in held:
            status[g] = queue.HELD
            messages[g] = held[int(workload.shape_of[g])]
        else:
            to_active(g)

    now = -math.inf
    step_open = False
    while True:
        # Schedule everything queued at this instant.
        while True:
            if active:
                _, _, g = heapq.heappop(active)
            elif backoff:
                _, g = heapq.heappop(backoff)
            else:
                break
            if status[g] not in (queue.ACTIVE, queue.BACKOFF):
                continue
            attempts[g] += 1
            run_cycle(g, now)
        if step_open:
            if timeline and timeline[-1][0] == now:  # a second step at the same moment (a zero grace period)
                timeline.pop()
            timeline.append((now, counts["running"], counts["pending"], alloc.copy()))
            step_open = False
        # A preempted pod's own departure is stale once it left: no event then.
        while finish and status[finish[0][1]] in (queue.DONE, queue.PREEMPTED, queue.DELETED):
            heapq.heappop(finish)
        candidates = [next_arrival_time()]
        if finish:
            candidates.append(finish[0][0])
        if deletions:
            candidates.append(deletions[0][0])
        if future() and unschedulable:
            candidates.append(since[unschedulable[0]] + UNSCHEDULABLE_LEFTOVER)
        now = float(min(candidates))
        if now == math.inf:
            break
        step_open = True
        while (finish and finish[0][0] <= now) or (deletions and deletions[0][0] <= now):
            if deletions and (not finish or deletions[0][:2] < finish[0]):
                _, g, key = heapq.heappop(deletions)
                if g < 0:  # a pod bound before the replay started
                    cycles.remove(key)
                    preempted_at_start.append(key)
                    alloc[:] -= _initial_requests(state, key, workload)
                    event("pod_delete", now)
                elif status[g] == queue.RUNNING:
                    leaves(g, now)
                    event("pod_delete", now)
                continue
            _, g = heapq.heappop(finish)
            if status[g] == queue.RUNNING:
                leaves(g, now)
                event("pod_delete", now)
            elif status[g] not in (queue.DONE, queue.PREEMPTED, queue.DELETED):
                if g in unschedulable:
                    unschedulable.remove(g)
                cycles.forget(g)
                counts["pending"] -= 1
                status[g], left[g] = queue.DELETED, now
        while next_arrival < len(arrivals) and workload.arrival[arrivals[next_arrival]] <= now:
            arrive(arrivals[next_arrival])
            next_arrival += 1
        while late and late[0][0] <= now:
            arrive(heapq.heappop(late)[1], replacement=True)
        while backoff and backoff[0][0] <= now:
            _, g = heapq.heappop(backoff)
            if status[g] == queue.BACKOFF:
                to_active(g)
        while unschedulable and since[unschedulable[0]] + UNSCHEDULABLE_LEFTOVER <= now:
            requeue(unschedulable.pop(0), now)

    nominated = [cycles.nominated_node(g) or None if status[g] in (queue.ACTIVE, queue.BACKOFF, queue.UNSCHEDULABLE)
                 else None for g in range(workload.num_pods)] if python else [None] * workload.num_pods
    return ReplayRecord(workload, list(cycles.node_names), np.array(node, dtype=np.int64),
                        np.array(scheduled, dtype=np.float64), np.array(left, dtype=np.float64),
                        np.array(attempts, dtype=np.int64), np.array(status, dtype=np.int64), messages, preempted_by,
                        nominated, timeline, alloc, preempted_at_start, counts["cycles"], hybrid)


def _initial_requests(state, key: str, workload: Trace) -> np.ndarray:
    """A pod bound before the replay, as a row of requests over the state's resources."""
    pod = next(p for p in workload.running if p.key == key)
    return np.array([pod.requests.get(resource, 0) for resource in state.resources], dtype=np.int64)
