"""The two views of the cluster the fast batch keeps in step (``hybrid.FastBatch``).

- The compiled loop's columns (``build_state``, every pod of the batch a row), which its cycles and
  explain runs read; bindings go in through the loop itself or the Reserve kernels, nominated pods are
  added to their nodes for a segment (``set_assumed``), victims leave at the end of a pass.
- ``schedkit.reference``'s view (nodes in snapshot order, each node's pods) that DefaultPreemption's
  plain-Python parts read; bindings reach it node by node when something reads that node (``flush``).
- The bound pods as arrays for the resource-only dry run (``resource_dry_run.BoundPods``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..cluster import Cluster
from ..framework.loop_io import LoopOutputs
from ..framework.plugin import takes_pod
from ..framework.runtime import assume, new_rng
from ..objects import Pod
from ..reference import Usage, cluster_view, initial_usage, usage_of
from ..state import build_state, snapshot_order
from .batch import mark_terminating
from .resource_dry_run import BoundPods, ResourceNodes


@dataclass
class Compiled:
    """The compiled loop's view of the batch: columns with every pod a row, bound or not."""

    state: object
    columns: object
    prepared: dict
    outputs: LoopOutputs
    explain_outputs: LoopOutputs
    rng: np.ndarray
    sig: np.ndarray
    pod_ids: np.ndarray


class BatchViews:
    """The cluster as the compiled loop and as the reference see it, with the batch's pods as they are
    now (``current``: a row's pod, nominated or bound as the batch left it)."""

    def __init__(self, scheduler, profile, cluster: Cluster, pods: list[Pod], queue: list[int], seed: int):
        self.scheduler, self.profile, self.cluster, self.pods = scheduler, profile, cluster, pods
        self.nodes = snapshot_order(cluster.nodes)
        self.usage = initial_usage(cluster)
        state = build_state(cluster, pods)
        columns = state.pod_columns(pods)
        state.seed = seed
        num_scores = len(profile.points["score"])
        self.c = Compiled(state, columns, scheduler._prepare(state, pods, columns),
                          LoopOutputs(len(pods), state.num_nodes, 0, explain=False),
                          LoopOutputs(len(pods), state.num_nodes, num_scores, explain=True),
                          new_rng(seed, scheduler.ties), scheduler._signatures(profile, pods),
                          np.arange(len(pods), dtype=np.int64))
        self.node_row = {name: i for i, name in enumerate(state.node_names)}
        self.node_of = {node.name: node for node in self.nodes}
        self.current = {row: pods[row] for row in queue}
        self.pod_keys = [pod.key for pod in pods]
        self.assumed: dict[int, int] = {}  # nominated row -> node row its requests are added to
        by_row = [self.node_of[name] for name in state.node_names]
        self.resource_nodes = ResourceNodes(
            np.array([[node.allocatable.get(r, 0) for r in state.resources] for node in by_row],
                     dtype=np.int64).reshape(len(by_row), len(state.resources)),
            np.array([node.allocatable.get("pods", 0) for node in by_row], dtype=np.int64), state.node_names, by_row)
        self.bound_pods = BoundPods(sum(len(u.pods_here) for u in self.usage.values()) + len(queue), state.resources)
        for name in state.node_names:
            for pod in self.usage[name].pods_here:
                self.bound_pods.add(pod, self.node_row[name])
        self.fit_columns = [state.resources.index(r) for r in ("cpu", "memory") if r in state.resources]
        self.status_names: dict[tuple[int, int], str] = {}  # (plugin, Filter code) -> its status code's name
        self.version = 0  # bumped at every change of the columns
        self.explained: tuple[int, int] | None = None  # (row, version) the explain outputs hold
        self.unflushed: dict[str, list[int]] = {}  # node -> rows bound there, not yet in ``usage``
        # One view for the whole batch: ``usage`` is edited in place, node by node.
        self.reference_view = cluster_view(scheduler, cluster, self.nodes, self.usage, profile.scheduler_name)
        # PreFilter of a pod the fast batch covers never depends on the pods: computed on the nodes alone.
        self.empty_view = cluster_view(scheduler, cluster, self.nodes, {node.name: Usage() for node in self.nodes},
                                       profile.scheduler_name)

    # -- the reference's view ------------------------------------------------------------------------------

    def view(self, full: bool = True):
        """The reference's view of the cluster; ``full``: with every binding in it (else the caller
        flushes the nodes it reads)."""
        if full:
            for name in list(self.unflushed):
                self.flush(name)
        return self.reference_view

    def flush(self, node: str) -> None:
        """The pods bound to ``node`` since the reference's view last saw it, added to it (NodeInfo.AddPod),
        only when something reads it: most bindings of a big batch are never looked at in Python."""
        for row in self.unflushed.pop(node, ()):
            placed = copy.copy(self.current[row])  # (dataclasses.replace costs ten times more)
            placed.node_name, placed.nominated_node, placed.start_time = node, "", None
            self.usage[node].add(placed)
            self.current[row] = placed

    # -- changes -------------------------------------------------------------------------------------------

    def bind(self, row: int, node: str) -> None:
        """Pod ``row`` bound to ``node``: in the reference's view when flushed, in the arrays now (the
        columns already hold it when the compiled loop bound it; else ``reserve``)."""
        self.unflushed.setdefault(node, []).append(row)
        self.bound_pods.add(self.current[row], self.node_row[node])  # (node_name is set when flushed)

    def bind_all(self, rows: list[int], chosen: list[int]) -> None:
        """``bind`` for each of ``rows`` on node rows ``chosen`` (bound by the compiled loop: the columns hold
        them), the arrays filled at once from the columns."""
        names = self.c.state.node_names
        for row, n in zip(rows, chosen):
            self.unflushed.setdefault(names[n], []).append(row)
        self.bound_pods.add_all([self.current[row] for row in rows], chosen,
                                self.c.columns.requests[np.asarray(rows, dtype=np.int64)])

    def reserve(self, row: int, n: int) -> None:
        """Pod ``row`` on node row ``n`` in the columns: the framework's accounting and the Reserve kernels."""
        c = self.c
        self.version += 1
        assume(c.state.nodes, c.columns, row, n, 1)
        for i in self.profile.reserve_order:
            plugin = self.profile.plugins[i]
            extra = (c.pod_ids[row],) if takes_pod(plugin.kernels.reserve) else ()
            plugin.kernels.reserve(c.state.nodes, c.columns, row, n, c.prepared[id(plugin)], *extra)

    def set_assumed(self, wanted: dict[int, int]) -> None:
        """Nominated pods' requests on their nodes, as addGENominatedPods adds them (NodeInfo.AddPod)."""
        if wanted == self.assumed:
            return
        nodes, columns = self.c.state.nodes, self.c.columns
        self.version += 1
        for row, n in list(self.assumed.items()):
            if wanted.get(row) != n:
                assume(nodes, columns, row, n, -1)
                del self.assumed[row]
        for row, n in wanted.items():
            if row not in self.assumed:
                assume(nodes, columns, row, n, 1)
                self.assumed[row] = n

    def mark_terminating(self, node: str, victim: Pod) -> bool:
        """A victim whose deletion shows: terminating (deletionTimestamp, DisruptionTarget) on its node.
        False when it was terminating already (another preemptor deleted it first)."""
        self.flush(node)
        marked = mark_terminating(self.usage[node], victim)
        if marked is None:
            return False
        self.bound_pods.replace(marked)
        return True

    def remove(self, node: str, victim: Pod) -> None:
        """A victim's deletion completes: it leaves both views (the columns as NodeInfo.RemovePod)."""
        self.flush(node)
        self.version += 1
        self.usage[node] = usage_of([p for p in self.usage[node].pods_here if p.key != victim.key])
        self.bound_pods.remove(victim.key)
        nodes, n = self.c.state.nodes, self.node_row[node]
        for r, resource in enumerate(self.c.state.resources):
            nodes.requested[n, r] -= victim.requests.get(resource, 0)
        nodes.nonzero_requested[n, 0] -= victim.nonzero_cpu
        nodes.nonzero_requested[n, 1] -= victim.nonzero_memory
        nodes.pod_count[n] -= 1

    def column_usage(self, node: str) -> Usage:
        """What NodeResourcesFit reads of ``node`` (requested resources, pod count), from the columns: the
        pods bound there and the nominated pods added for the segment."""
        n, nodes = self.node_row[node], self.c.state.nodes
        usage = Usage()
        usage.requested = {r: int(nodes.requested[n, i]) for i, r in enumerate(self.c.state.resources)}
        usage.pods = int(nodes.pod_count[n])
        return usage

    # -- what the columns say ------------------------------------------------------------------------------

    def explain(self, row: int) -> LoopOutputs:
        """Every node's Filter verdict for pod ``row`` now (nothing reserved, no draw from the stream); the
        last answer again while nothing changed (the columns' ``version``)."""
        c = self.c
        if self.explained == (row, self.version):
            return c.explain_outputs
        self.explained = (row, self.version)
        self.scheduler._run(self.profile, c.state, c.columns, np.array([row], dtype=np.int64), c.prepared,
                            c.explain_outputs, c.rng.copy(), c.sig, explain=True, pod_ids=c.pod_ids,
                            pod_keys=self.pod_keys)
        return c.explain_outputs

    def codes(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Pod ``row``'s failed nodes (rows, in node order) and their Filter status codes now
        (Unschedulable, UnschedulableAndUnresolvable, Error)."""
        out = self.explain(row)
        failed = np.flatnonzero((out.ex_state == 1) & (out.ex_fail_plugin >= 0))
        plugin_of, code_of = out.ex_fail_plugin[failed], out.ex_fail_code[failed]
        codes = np.empty(len(failed), dtype=object)
        for plugin in np.unique(plugin_of).tolist():
            here = plugin_of == plugin
            kinds, which = np.unique(code_of[here], return_inverse=True)
            names = np.array([self.status_name(plugin, code) for code in kinds.tolist()], dtype=object)
            codes[here] = names[np.ravel(which)]
        return failed, codes

    def status_name(self, plugin: int, code: int) -> str:
        key = (plugin, code)
        name = self.status_names.get(key)
        if name is None:
            name = self.status_names[key] = self.profile.plugins[plugin].status(code).name
        return name

    def may_fit_any(self, row: int, held: set[int]) -> bool:
        """False when pod ``row`` fails NodeResourcesFit's cpu, memory or pod count check on every node in
        ``held`` as the columns are now (so Filter fails there whatever else it checks, when
        NodeResourcesFit filters); True otherwise."""
        nodes, requests = self.c.state.nodes, self.c.columns.requests[row]
        at = np.fromiter(held, dtype=np.int64, count=len(held))
        short = nodes.pod_count[at] + 1 > nodes.allowed_pods[at]
        for r in self.fit_columns:
            if requests[r] > 0:
                short |= requests[r] > nodes.allocatable[at, r] - nodes.requested[at, r]
        return not bool(short.all())


__all__ = ["BatchViews", "Compiled"]
