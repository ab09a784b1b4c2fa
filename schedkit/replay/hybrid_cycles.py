"""Attempts for the replay with preemption: compiled where that is exact, plain Python where it is needed.

``PythonCycles`` decides every attempt of a replay in which some pod may preempt, at milliseconds an
attempt on a few hundred nodes. Most attempts need none of what only it has:
- with no pending pod holding a nominated node, Filter adds no nominated pods
  (RunFilterPluginsWithNominatedPods adds nothing), so the compiled loop's cycle is upstream's;
- a cycle that binds runs no PostFilter;
- a pod that fails and cannot preempt (policy Never, or no pod on any node of lower priority) gets
  DefaultPreemption's answer without a dry run: no victims anywhere, which the compiled path's message
  already says (``fast_path_message``); the dry run's offset is drawn all the same (``draws_offset``).
``HybridCycles`` runs those attempts through ``CompiledCycles`` and every other one (some pod nominated,
or a failure that may preempt) through ``PythonCycles``, with selectHost's stream and the start index
handed over, both views of the cluster kept in step.

Covered (``covers``): DefaultPreemption's dry run can run (``reference_covers``), no Permit plugin, no host
ports and no inter-pod (anti-)affinity on any pod, no topology spread on any trace pod. There, a pod on
a node matters to the compiled plugins through the node's resource columns only, so a victim that ran
before the replay leaves the columns as its requests. Otherwise ``PythonCycles`` runs alone.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from ..cluster import Cluster
from ..framework.plugin import takes_pod
from ..framework.runtime import assume, python_rand_intn
from ..framework.scheduler import Scheduler
from ..objects import PREEMPT_NEVER, Pod
from ..preemption.coverage import has_pod_affinity
from ..preemption.postfilter import draws_offset, reference_covers
from ..reference import cluster_view, spread_constraints
from ..traces.workload import Trace
from .cycles import Attempt, CompiledCycles, PythonCycles, nanoseconds


def covers(scheduler: Scheduler, profile, workload: Trace) -> bool:
    """Whether ``HybridCycles`` decides ``workload`` as ``PythonCycles`` would (see the module's notes)."""
    if not reference_covers(profile) or profile.points.get("permit"):
        return False
    shapes = list(workload.shapes)
    if any(pod.host_ports or has_pod_affinity(pod) for pod in shapes + list(workload.running)):
        return False
    name = next(name for name, p in scheduler.profiles.items() if p is profile)
    view = cluster_view(scheduler, Cluster(workload.nodes, [], dict(workload.namespace_labels)), [], {}, name)
    args, objects = view.args.get("PodTopologySpread"), view.objects
    return not any(spread_constraints(pod, args, objects, kind)
                   for pod in shapes for kind in ("DoNotSchedule", "ScheduleAnyway"))


class HybridCycles:
    """``CompiledCycles`` and ``PythonCycles`` over one replay, each attempt through the one it needs."""

    def __init__(self, scheduler: Scheduler, profile, workload: Trace, seed: int):
        self.scheduler, self.profile, self.workload = scheduler, profile, workload
        self.c = CompiledCycles(scheduler, profile, workload, seed)
        self.py = PythonCycles(scheduler, profile, workload, seed)
        if list(self.c.node_names) != list(self.py.node_names):  # both are in snapshot order
            raise AssertionError("the compiled and plain-Python views order the nodes differently")
        self.node_row = {name: n for n, name in enumerate(self.py.node_names)}
        # priorities of the pods on nodes (terminating victims too): who may preempt
        self.on_nodes = Counter(pod.priority for pod in workload.running)
        self.compiled_attempts = 0
        self.python_attempts = 0

    @property
    def node_names(self) -> list[str]:
        return self.py.node_names

    @property
    def row_of(self) -> dict[str, int]:
        return self.py.row_of

    def arrive(self, g: int, replacement: bool = False) -> None:
        self.py.arrive(g, replacement)
        self.c.arrive(g, replacement)

    def _may_preempt(self, pod: Pod) -> bool:
        return pod.preemption_policy != PREEMPT_NEVER and any(
            priority < pod.priority for priority, count in self.on_nodes.items() if count > 0)

    def _in_columns(self, g: int) -> bool:
        """Whether pod ``g``'s spec is a row of the compiled columns (a replacement of a pod that ran before
        the replay is a spec added during it: the plain-Python cycle decides it)."""
        return int(self.workload.shape_of[g]) < self.c.columns.requests.shape[0]

    def _columns_add(self, pod: Pod, n: int, sign: int) -> None:
        """A pod with no row in the columns comes to (1) or leaves (-1) node row ``n``: its requests, as
        NodeInfo.AddPod/RemovePod count them (what ``covers`` leaves the compiled plugins to read)."""
        nodes = self.c.state.nodes
        for r, resource in enumerate(self.c.state.resources):
            nodes.requested[n, r] += sign * pod.requests.get(resource, 0)
        nodes.nonzero_requested[n, 0] += sign * pod.nonzero_cpu
        nodes.nonzero_requested[n, 1] += sign * pod.nonzero_memory
        nodes.pod_count[n] += sign
        self.on_nodes[pod.priority] += sign

    def attempt(self, g: int, now: float) -> Attempt:
        pod = self.py.pods[g]
        if not self.py.nominated and self._in_columns(g):
            rng, start = int(self.c.rng[0]), int(self.scheduler.next_start_node_index[0])
            attempt = self.c.attempt(g, now)
            if attempt.node >= 0:
                self.compiled_attempts += 1
                self._bound_in_python(g, attempt.node, now)
                return attempt
            if not self._may_preempt(pod):
                self.compiled_attempts += 1
                if draws_offset(pod, attempt.unschedulable_nodes):
                    python_rand_intn(self.py.offsets, attempt.unschedulable_nodes)
                return attempt
            # PostFilter may preempt: the attempt again in Python, from the streams as they were before
            self.c.rng[0], self.scheduler.next_start_node_index[0] = np.uint64(rng), start
        self.python_attempts += 1
        py = self.py
        py.batch.rng[0], py.batch.next_start = int(self.c.rng[0]), int(self.scheduler.next_start_node_index[0])
        attempt = py.attempt(g, now)
        self.c.rng[0], self.scheduler.next_start_node_index[0] = np.uint64(py.batch.rng[0]), py.batch.next_start
        if attempt.node >= 0:
            self._bound_in_columns(g, attempt.node)
        return attempt

    def _bound_in_python(self, g: int, n: int, now: float) -> None:
        """The compiled cycle bound pod ``g`` to node row ``n``: the plain-Python view learns it."""
        py = self.py
        name = py.node_names[n]
        placed = dataclasses.replace(py.pods[g], node_name=name, nominated_node="", start_time=nanoseconds(now))
        py.bound(g, placed)
        py.nominated.pop(g, None)
        self.on_nodes[placed.priority] += 1

    def _bound_in_columns(self, g: int, n: int) -> None:
        """The plain-Python cycle bound pod ``g`` to node row ``n``: the columns and the Reserve kernels."""
        if not self._in_columns(g):
            self._columns_add(self.py.pods[g], n, 1)
            return
        c = self.c
        s = int(self.workload.shape_of[g])
        c.pod_ids[s] = g
        assume(c.state.nodes, c.columns, s, n, 1)
        for i in self.profile.reserve_order:
            plugin = self.profile.plugins[i]
            extra = (g,) if takes_pod(plugin.kernels.reserve) else ()
            plugin.kernels.reserve(c.state.nodes, c.columns, s, n, c.prepared[id(plugin)], *extra)
        self.on_nodes[self.py.pods[g].priority] += 1

    def leave(self, g: int, n: int) -> None:
        if self._in_columns(g):
            self.c.leave(g, n)
            self.on_nodes[self.py.pods[g].priority] -= 1
        else:
            self._columns_add(self.py.pods[g], n, -1)
        self.py.leave(g, n)

    def remove(self, key: str) -> int | None:
        """A victim that ran before the replay leaves: its requests leave the node's columns."""
        found = self.py.on_node(key)
        if found is not None:
            self._columns_add(found[1], self.node_row[found[0]], -1)
        return self.py.remove(key)

    def forget(self, g: int) -> None:
        self.py.forget(g)
        self.c.forget(g)

    def nominated_node(self, g: int) -> str:
        return self.py.nominated_node(g)

    def grace_seconds(self, key: str) -> float:
        return self.py.grace_seconds(key)


__all__ = ["HybridCycles", "covers"]
