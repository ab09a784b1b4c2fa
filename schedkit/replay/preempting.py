"""A replay in which pods may preempt: when it is needed, and its record as a ``ReplayResult``.

The compiled driver has no PostFilter: it runs only when no pod of the trace can preempt another (the
same rule as ``schedkit schedule``'s fast path: DefaultPreemption is enabled, and some queued pod that
may preempt outranks a pod that runs or may run). Otherwise the replay is the plain-Python one
(``reference.py`` with ``PythonCycles``): exact, and slow on large clusters. Its lockstep groups
question does not arise: it tries every pod on its own.
"""

from __future__ import annotations

import time

import numpy as np

from ..cluster import Cluster
from ..framework.scheduler import Scheduler
from ..objects import PREEMPT_NEVER
from ..preemption.postfilter import preemption_plugin, reference_covers
from ..state import build_state
from ..traces.workload import Trace
from . import queue
from .engine import ReplayResult
from .reference import GRACE_POD, pick_profile, plain_replay


def needs_python_replay(scheduler: Scheduler, workload: Trace) -> bool:
    """Whether some pod of ``workload`` may preempt another (or arrives nominated to a node), under a
    profile whose Filter plugins all have a plain-Python version (others are never dry-run)."""
    profile, held = pick_profile(scheduler, workload)
    if preemption_plugin(profile) is None or not reference_covers(profile):
        return False
    queued = [workload.shapes[s] for s in np.unique(workload.shape_of).tolist() if s not in held]
    if any(pod.nominated_node for pod in queued):
        return True
    priorities = [pod.priority for pod in queued] + [pod.priority for pod in workload.running]
    if not priorities:
        return False
    lowest = min(priorities)
    return any(pod.preemption_policy != PREEMPT_NEVER and pod.priority > lowest for pod in queued)


def python_replay(scheduler: Scheduler, workload: Trace, seed: int = 0, grace: str = GRACE_POD,
                  hybrid: bool = True) -> ReplayResult:
    """The replay with preemption (``reference.plain_replay``), in the compiled replay's result form.
    ``hybrid``: compiled attempts where they are exact (``hybrid_cycles``); False: plain Python only."""
    started = time.perf_counter()
    record = plain_replay(scheduler, workload, seed, python=True, grace=grace, hybrid=hybrid)
    loop_seconds = time.perf_counter() - started
    w = record.workload
    state = build_state(Cluster(w.nodes, list(w.running), dict(w.namespace_labels)), w.shapes)
    columns = state.pod_columns(w.shapes)
    P, R = w.num_pods, len(state.resources)
    tables = queue.new_tables(P, shapes=len(w.shapes), timeline_rows=max(len(record.timeline), 1), resources=R,
                              nodes=state.num_nodes)
    tables = tables._replace(items=tables.items[:P])
    pods = tables.pods
    pods.arrival[:] = w.arrival
    pods.duration[:] = w.duration
    pods.deadline[:] = w.deadline
    pods.attempts[:] = record.attempts
    pods.scheduled[:] = record.scheduled
    pods.node[:] = record.node
    pods.left[:] = record.left
    tables.items.spec[:] = w.shape_of
    tables.items.status[:] = record.status
    for t, (when, running, pending, alloc) in enumerate(record.timeline):
        tables.tl[t].time = when
        tables.tl[t].running = running
        tables.tl[t].pending = pending
        tables.tl_alloc[t] = alloc
    tables.alloc_total[:] = record.alloc_end
    counts, times = queue.new_counters()
    counts[queue.C_TL_LEN] = len(record.timeline)
    counts[queue.C_DONE] = 1
    counts[queue.C_CYCLES] = record.cycles
    end = record.timeline[-1][0] if record.timeline else 0.0
    name = next(n for n, p in scheduler.profiles.items() if p is pick_profile(scheduler, w)[0])
    return ReplayResult(w, state, tables, counts, record.messages, name, time.perf_counter() - started, 0.0,
                        loop_seconds, int(record.attempts.sum()), record.cycles, 0, float(end), columns.requests,
                        {}, preempted_by=record.preempted_by, nominated=record.nominated,
                        preempted_at_start=record.preempted_at_start, python=True, hybrid=record.hybrid,
                        recreated=w.num_pods - workload.num_pods)


__all__ = ["needs_python_replay", "python_replay"]
