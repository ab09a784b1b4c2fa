"""Scheduling attempts for the plain-Python replay (``reference.py``), two ways.

``CompiledCycles`` runs the profile's compiled batch loop on one pod: the decisions ``schedkit
schedule`` makes, without preemption. ``PythonCycles`` runs ``schedkit.reference``'s cycle and, when it
fails, DefaultPreemption's PostFilter (``schedkit.preemption``): the victims, the nominated node, the
nominations it clears. Both keep the cluster's state between attempts; the replay loop tells them
which pods arrive, bind and leave.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..cluster import Cluster
from ..framework.loop_io import LoopOutputs
from ..framework.plugin import takes_pod
from ..framework.runtime import TIES_RANDOM, assume, new_rng
from ..framework.scheduler import Scheduler, fast_path_message, unschedulable_nodes
from ..objects import Pod
from ..preemption.batch import mark_terminating, offset_rng
from ..preemption.evaluator import CycleContext
from ..preemption.postfilter import full_message, post_filter_message, run_preemption
from ..reference import BatchState, cluster_view, initial_usage, run_cycle, usage_of
from ..state import build_state, snapshot_order
from ..traces.workload import Trace


@dataclass
class Attempt:
    """One scheduling attempt's outcome: the node row bound to (-1: none), else the plugins that
    rejected the pod (indices in the profile) and the message; with preemption, the nominated node and
    the victims (pod keys) whose deletion the attempt started."""

    node: int
    rejectors: set[int] = field(default_factory=set)
    message: str | None = None
    nominated: str | None = None
    victims: list[str] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)  # pods (rows) whose nomination the preemption cleared
    unschedulable_nodes: int | None = None  # compiled: nodes left Unschedulable (None: no PostFilter runs)


def nanoseconds(seconds: float) -> int:
    """A time on the replay clock as status.startTime's nanoseconds (victims are ordered by it)."""
    return int(round(seconds * 1e9))


class CompiledCycles:
    """Attempts through the compiled batch loop, one pod at a time (no preemption)."""

    def __init__(self, scheduler: Scheduler, profile, workload: Trace, seed: int):
        shapes = workload.shapes
        self.scheduler, self.profile, self.workload = scheduler, profile, workload
        self.state = build_state(Cluster(workload.nodes, list(workload.running), dict(workload.namespace_labels)),
                                 shapes)
        self.columns = self.state.pod_columns(shapes)
        self.state.pod_ids = workload.num_pods  # as the compiled replay: Reserve/Unreserve's ``pod`` is the row
        self.prepared = scheduler._prepare(self.state, shapes, self.columns)
        self.pod_ids = np.zeros(len(shapes), dtype=np.int64)  # the cycle's spec row -> the pod being scheduled
        self.outputs = LoopOutputs(len(shapes), self.state.num_nodes, 0, explain=False)
        self.rng = new_rng(seed, scheduler.ties)
        self.sig = scheduler._signatures(profile, shapes)
        self.pod_keys = [f"row {s}" for s in range(len(shapes))]  # names in a kernel's error (built once)
        scheduler.next_start_node_index[:] = 0

    @property
    def node_names(self) -> list[str]:
        return self.state.node_names

    def arrive(self, g: int, replacement: bool = False) -> None:
        pass

    def attempt(self, g: int, now: float) -> Attempt:
        s = int(self.workload.shape_of[g])
        out = self.outputs
        self.pod_ids[s] = g
        self.scheduler._run(self.profile, self.state, self.columns, np.array([s]), self.prepared, out, self.rng,
                            self.sig, pod_ids=self.pod_ids, pod_keys=self.pod_keys)
        chosen = int(out.node[s])
        if chosen >= 0:
            return Attempt(chosen)
        rejectors: set[int] = set()
        if out.reject_plugin[s] >= 0:
            rejectors.add(int(out.reject_plugin[s]))
        elif out.reject_plugin[s] == -2:
            rejectors |= {i for i in range(len(self.profile.plugins)) if (int(out.reject_code[s]) >> i) & 1}
        hist = [(int(out.hist_plugin[s, k]), int(out.hist_code[s, k]), int(out.hist_count[s, k]))
                for k in range(int(out.hist_len[s]))]
        rejectors |= {plugin for plugin, _, _ in hist}
        message = fast_path_message(self.profile, self.state.num_nodes, int(out.reject_plugin[s]),
                                    int(out.reject_code[s]), hist, self.workload.shapes[s], "(unnamed)")
        unschedulable = unschedulable_nodes(self.profile, self.state.num_nodes, int(out.reject_plugin[s]),
                                            int(out.reject_code[s]), hist)
        return Attempt(-1, rejectors, message, unschedulable_nodes=unschedulable)

    def leave(self, g: int, n: int) -> None:
        """A bound pod leaves its node: Unreserve, then the framework's columns."""
        s = int(self.workload.shape_of[g])
        for i in reversed(self.profile.reserve_order):
            plugin = self.profile.plugins[i]
            extra = (g,) if takes_pod(plugin.kernels.unreserve) else ()
            plugin.kernels.unreserve(self.state.nodes, self.columns, s, n, self.prepared[id(plugin)], *extra)
        assume(self.state.nodes, self.columns, s, n, -1)

    def forget(self, g: int) -> None:
        pass


class PythonCycles:
    """Attempts through ``schedkit.reference`` with DefaultPreemption (plain Python: small clusters)."""

    def __init__(self, scheduler: Scheduler, profile, workload: Trace, seed: int):
        self.scheduler, self.profile, self.workload = scheduler, profile, workload
        self.name = next(name for name, p in scheduler.profiles.items() if p is profile)
        self.cluster = Cluster(workload.nodes, list(workload.running), dict(workload.namespace_labels))
        self.cluster.disruption_budgets = list(workload.disruption_budgets)
        self.nodes = snapshot_order(self.cluster.nodes)
        self.usage = initial_usage(self.cluster)
        self.batch = BatchState(0, [seed], scheduler.ties != TIES_RANDOM)
        self.offsets = offset_rng(seed)
        self.pods: dict[int, Pod] = {}  # trace row -> the pod as the scheduler sees it now
        self.row_of: dict[str, int] = {}  # pod key -> trace row
        self.nominated: dict[int, Pod] = {}  # pending pods holding a nominated node
        self.names = [node.name for node in self.nodes]  # build_state's node rows are in snapshot order too
        self.node_of_key = {pod.key: name for name, usage in self.usage.items() for pod in usage.pods_here}

    @property
    def node_names(self) -> list[str]:
        return self.names

    def arrive(self, g: int, replacement: bool = False) -> None:
        """Pod ``g`` enters the queue (``replacement``: an owner recreated a victim, with no nomination)."""
        w = self.workload
        shape = w.shapes[int(w.shape_of[g])]
        pod = dataclasses.replace(shape, name=str(w.names[g]), namespace=str(w.namespaces[g]), uid=f"trace-row-{g}",
                                  start_time=None)
        self.pods[g] = pod
        self.row_of[pod.key] = g
        if replacement:
            self.pods[g] = pod = dataclasses.replace(pod, nominated_node="")
        if pod.nominated_node:  # status.nominatedNodeName in the input: it holds its room from now on
            self.nominated[g] = pod

    def attempt(self, g: int, now: float) -> Attempt:
        pod = self.pods[g]
        nominated = [p for r, p in self.nominated.items() if r != g]
        view = cluster_view(self.scheduler, self.cluster, self.nodes, self.usage, self.name)
        result = run_cycle(self.profile, self.nodes, self.usage, pod, self.batch, view, nominated)
        if result.node is not None:
            placed = dataclasses.replace(pod, node_name=result.node, nominated_node="", start_time=nanoseconds(now))
            self.bound(g, placed)
            self.nominated.pop(g, None)
            return Attempt(self.names.index(result.node))
        index = {plugin.name: i for i, plugin in enumerate(self.profile.plugins)}
        rejectors = {index[status[0]] for status in result.status.values() if status is not None}
        if result.reject is not None:
            rejectors.add(index[result.reject[0]])
        preemption = None
        if self.nodes and result.pre_filter is not None:
            ctx = CycleContext(self.profile, self.nodes, view, result.pre_filter, nominated,
                               self.cluster.disruption_budgets, nanoseconds(now))
            preemption = run_preemption(self.profile, ctx, pod, result, self.offsets)
        post = post_filter_message(self.profile, preemption) if self.nodes and not result.error else None
        attempt = Attempt(-1, rejectors, full_message(result.message, post))
        if preemption is not None and preemption.nominated_node is not None:
            node = preemption.nominated_node
            self._nominate(g, node)
            attempt.nominated = node
            for victim in preemption.victims:
                if victim.deletion_timestamp is None:  # one already terminating needs no second delete
                    mark_terminating(self.usage[node], victim)
                    attempt.victims.append(victim.key)
            for other in preemption.cleared_nominations:
                r = self.row_of.get(other.key)
                if r is not None and r in self.nominated:
                    self._nominate(r, "")
                    attempt.cleared.append(r)
        elif preemption is not None and preemption.eligible:
            self._nominate(g, "")  # preemption cannot help: its nomination, if any, is cleared
        return attempt

    def bound(self, g: int, placed: Pod) -> None:
        """Pod ``g`` is on node ``placed.node_name`` now."""
        self.usage[placed.node_name].add(placed)
        self.pods[g] = placed
        self.node_of_key[placed.key] = placed.node_name

    def _nominate(self, g: int, node: str) -> None:
        self.pods[g] = dataclasses.replace(self.pods[g], nominated_node=node)
        if node:
            self.nominated[g] = self.pods[g]
        else:
            self.nominated.pop(g, None)

    def nominated_node(self, g: int) -> str:
        return self.pods[g].nominated_node if g in self.pods else ""

    def on_node(self, key: str) -> tuple[str, Pod] | None:
        """The node and the pod ``key`` as the view holds it, or None when it is on no node."""
        name = self.node_of_key.get(key)
        if name is None:
            return None
        return name, next(pod for pod in self.usage[name].pods_here if pod.key == key)

    def grace_seconds(self, key: str) -> float:
        """The victim's terminationGracePeriodSeconds."""
        found = self.on_node(key)
        if found is None:
            raise KeyError(key)
        return float(found[1].termination_grace_seconds)

    def remove(self, key: str) -> int | None:
        """A victim's deletion completes: it leaves its node. Returns its trace row (None: a pod running
        since the start)."""
        name = self.node_of_key.pop(key, None)
        if name is not None:
            self.usage[name] = usage_of([pod for pod in self.usage[name].pods_here if pod.key != key])
        return self.row_of.get(key)

    def leave(self, g: int, n: int) -> None:
        """A bound pod finishes (or its deletion time comes) and leaves its node."""
        self.remove(self.pods[g].key)

    def forget(self, g: int) -> None:
        """A pending pod is deleted before it ran: its nomination goes with it."""
        self.nominated.pop(g, None)


__all__ = ["Attempt", "CompiledCycles", "PythonCycles", "nanoseconds"]
