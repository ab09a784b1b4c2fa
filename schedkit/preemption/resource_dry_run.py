"""DryRunPreemption over arrays, for clusters where only NodeResourcesFit can change its mind.

When no pod has host ports or inter-pod (anti-)affinity, the queued pods have no topology spread and no
PodDisruptionBudget exists (what ``coverage.covers`` and ``hybrid.FastBatch`` check), SelectVictimsOnNode
on a node where preemption might help comes down to NodeResourcesFit's arithmetic: the node-level
plugins passed there already and do not look at pods, and the cross-node ones skip. So every potential
node is decided at once here, with ``evaluator.dry_run``'s rules:

- no pod of lower priority on the node: ``No preemption victims found for incoming pod``;
- with every lower-priority pod removed (the nominated pods of equal or higher priority added, as
  RunFilterPluginsWithNominatedPods adds them) the pod does not fit: NodeResourcesFit's status;
- else the lower-priority pods are put back most important first (MoreImportantPod: priority, then
  the earlier start; ties in the node's pod order) while the pod still fits; the rest are victims.

The walk over the nodes from the offset, stopping at ``num_candidates``, is ``dry_run``'s; it is compiled
(``dry_run_kernel``), and the candidates come back as arrays (``Candidates``, with pickOneNodeForPreemption's
rule values). A test checks this against ``evaluator.dry_run`` on random nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..objects import CPU, EPHEMERAL_STORAGE, MEMORY, Pod
from ..resources import is_extended, is_scalar
from .dry_run_kernel import CANDIDATE, DOES_NOT_FIT, NO_LOWER, walk_nodes
from .evaluator import MAX_INT32, NO_VICTIMS, NOT_STARTED, RULES, Candidate


class BoundPods:
    """The pods bound to nodes (running, placed in the batch, terminating victims), as arrays in each
    node's pod order (NodeInfo.Pods), kept in step with the batch."""

    def __init__(self, capacity: int, resources: list[str]):
        self.resources = resources
        self.column = {name: r for r, name in enumerate(resources)}
        self.node = np.zeros(capacity, dtype=np.int64)
        self.priority = np.zeros(capacity, dtype=np.int64)
        self.start = np.zeros(capacity, dtype=np.float64)
        self.requests = np.zeros((capacity, len(resources)), dtype=np.int64)
        self.alive = np.zeros(capacity, dtype=bool)
        self.pods: list[Pod] = []
        self.index: dict[str, int] = {}

    def add(self, pod: Pod, n: int) -> None:
        i = len(self.pods)
        self.pods.append(pod)
        self.index[pod.key] = i
        self.node[i], self.priority[i], self.alive[i] = n, pod.priority, True
        self.start[i] = NOT_STARTED if pod.start_time is None else pod.start_time
        for resource, amount in pod.requests.items():
            if resource in self.column:
                self.requests[i, self.column[resource]] = amount

    def add_all(self, pods: list[Pod], nodes: list[int], requests: np.ndarray) -> None:
        """``add`` for each pod on its node row, ``requests`` its requests over ``resources`` (the columns'
        rows, which hold what ``add`` reads from ``pod.requests``)."""
        i = len(self.pods)
        j = i + len(pods)
        self.pods.extend(pods)
        for k, pod in enumerate(pods):
            self.index[pod.key] = i + k
        self.node[i:j], self.alive[i:j] = nodes, True
        self.priority[i:j] = [pod.priority for pod in pods]
        self.start[i:j] = [NOT_STARTED if pod.start_time is None else pod.start_time for pod in pods]
        self.requests[i:j] = requests

    def replace(self, pod: Pod) -> None:
        """The same pod, changed (a victim marked terminating)."""
        self.pods[self.index[pod.key]] = pod

    def remove(self, key: str) -> None:
        self.alive[self.index.pop(key)] = False


class ResourceNodes:
    """Per node what NodeResourcesFit reads: allocatable of the tracked resources and of pods."""

    def __init__(self, allocatable: np.ndarray, pods: np.ndarray, names: list[str], nodes: list):
        self.allocatable, self.pods, self.names, self.nodes = allocatable, pods, names, nodes


def _wants(plugin, pod: Pod, resources: list[str]) -> tuple[list[tuple[int, str]], bool]:
    """The (column, name) of each resource fit_filter checks for ``pod``, in its order, and whether it
    checks any (a pod requesting none of them is checked for the pod count only)."""
    scalars = sorted(r for r, q in pod.requests.items() if q and is_scalar(r))
    checks_any = any(pod.requests.get(r, 0) for r in (CPU, MEMORY, EPHEMERAL_STORAGE)) or bool(scalars)
    out = []
    for resource in [r for r in (CPU, MEMORY, EPHEMERAL_STORAGE) if pod.requests.get(r, 0) > 0] + scalars:
        if is_extended(resource) and (resource in plugin.ignored_resources
                                      or resource.split("/")[0] in plugin.ignored_groups):
            continue
        out.append((resources.index(resource) if resource in resources else -1, resource))
    return out, checks_any


def dry_run_resources(profile, fit_plugin, pod: Pod, bound: BoundPods, nodes: ResourceNodes,
                      nominated_requests: np.ndarray, nominated_counts: np.ndarray, potential,
                      offset: int, num_candidates: int) -> tuple["Candidates", "Statuses"]:
    """``evaluator.dry_run`` for ``pod`` over the ``potential`` node rows (snapshot order), from ``offset``.
    ``nominated_*``: per node, the requests and number of the nominated pods its Filter adds. The walk
    itself is compiled (``dry_run_kernel.walk_nodes``)."""
    size = len(bound.pods)
    checks, checks_any = _wants(fit_plugin, pod, bound.resources)
    want = np.array([pod.requests.get(name, 0) for _, name in checks], dtype=np.int64)
    cols = np.array([c for c, _ in checks], dtype=np.int64)
    if (cols < 0).any():
        # A resource no node reports (column -1) has allocatable and requested 0 everywhere.
        def columns(table: np.ndarray) -> np.ndarray:
            return np.concatenate([table, np.zeros((table.shape[0], 1), dtype=np.int64)], axis=1)[:, cols]
    else:
        def columns(table: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(table[:, cols])
    allocatable = columns(nodes.allocatable)
    rows = np.asarray(potential, dtype=np.int64)
    walk = np.roll(rows, -offset) if len(rows) else rows
    W, C = len(walk), len(cols)
    kind = np.zeros(W, dtype=np.int8)
    too_many = np.zeros(W, dtype=np.bool_)
    insufficient = np.zeros((W, C), dtype=np.bool_)
    victims = np.zeros(max(size, 1), dtype=np.int64)
    first = np.zeros(W, dtype=np.int64)
    end = np.zeros(W, dtype=np.int64)
    visited = walk_nodes(bound.node[:size], bound.priority[:size], bound.start[:size], columns(bound.requests[:size]),
                         bound.alive[:size], allocatable, nodes.pods, columns(nominated_requests),
                         nominated_counts.astype(np.int64), want, bool(checks_any), int(pod.priority), walk,
                         int(num_candidates), kind, too_many, insufficient, victims, first, end)
    statuses = Statuses()
    statuses.names = nodes.names
    statuses.visited = walk[:visited][kind[:visited] != CANDIDATE]
    for w in np.flatnonzero(kind[:visited] == NO_LOWER).tolist():
        statuses.decided[int(walk[w])] = None
    failing = np.flatnonzero(kind[:visited] == DOES_NOT_FIT)
    if len(failing):
        # NodeResourcesFit's code: UnschedulableAndUnresolvable when a request exceeds the whole allocatable;
        # one reason list per pattern of failed checks.
        unresolvable = (insufficient[failing] & (want > allocatable[walk[failing]])).any(axis=1)
        patterns = np.concatenate([too_many[failing, None], insufficient[failing], unresolvable[:, None]], axis=1)
        kinds, which = np.unique(patterns, axis=0, return_inverse=True)
        made = []
        for pattern in kinds:
            reasons = (["Too many pods"] if pattern[0] else []) + \
                [f"Insufficient {name}" for (_, name), bad in zip(checks, pattern[1:-1]) if bad]
            made.append(("UnschedulableAndUnresolvable" if pattern[-1] else "Unschedulable", reasons))
        for w, k in zip(failing.tolist(), np.ravel(which).tolist()):
            statuses.decided[int(walk[w])] = made[k]
    picked = np.flatnonzero(kind[:visited] == CANDIDATE)
    written = int(end[picked].max()) if len(picked) else 0
    groups = _Groups(victims[:written], walk[picked], first[picked], end[picked])
    return Candidates(nodes.names, bound, groups, np.arange(len(picked))), statuses


class Candidates(Sequence):
    """The dry run's candidates in order, as arrays; a ``Candidate`` is made for an item when read.
    ``values``: pickOneNodeForPreemption's five rule values per candidate, one array each
    (``evaluator.rule_values``): from the victims in importance order, the first has the highest
    priority and, among those, the earliest start."""

    def __init__(self, names: list[str], bound: BoundPods, groups: "_Groups", picked: np.ndarray):
        self.names, self.bound, self.groups, self.picked = names, bound, groups, picked
        firsts, ends = groups.firsts[picked], groups.ends[picked]
        heads = groups.chosen[firsts]
        adjusted = np.r_[0, np.cumsum(bound.priority[groups.chosen] + (MAX_INT32 + 1))]
        self.values = (np.zeros(len(picked), dtype=np.int64), -bound.priority[heads], -(adjusted[ends] - adjusted[firsts]),
                       -(ends - firsts), bound.start[heads])

    def __len__(self) -> int:
        return len(self.picked)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        g = int(self.picked[i])
        values = tuple(v.item() for v in (column[i] for column in self.values))
        return ArrayCandidate(self.names[int(self.groups.nodes[g])], self.bound,
                              self.groups.chosen[self.groups.firsts[g]:self.groups.ends[g]], values)


def pick_one_arrays(candidates: Candidates) -> tuple[int, str | None]:
    """``evaluator.pick_one`` over the arrays: the index of the chosen candidate and the rule that decided."""
    if len(candidates) == 1:
        return 0, None
    remaining = np.ones(len(candidates), dtype=bool)
    for column, name in zip(candidates.values, RULES[:-1]):
        remaining &= column == column[remaining].max()
        if remaining.sum() == 1:
            return int(np.argmax(remaining)), name
    return int(np.argmax(remaining)), RULES[-1]


class Statuses:
    """The dry run's node statuses, worded when asked for (``as_dict``: name -> (code, reasons)): a dry run
    that finds candidates never needs them in ``schedule``."""

    def __init__(self):
        self.decided: dict[int, tuple[str, list[str]] | None] = {}  # None: no pod of lower priority
        self.visited = np.zeros(0, dtype=np.int64)
        self.names: list[str] = []

    def as_dict(self) -> dict[str, tuple[str, list[str]]]:
        out = {}
        for n in self.visited.tolist():
            name = self.names[n]
            if n in self.decided:
                out[name] = self.decided[n] or ("UnschedulableAndUnresolvable", [NO_VICTIMS])
            else:  # a node that fits without removing anything: upstream's "expected at least one victim"
                out[name] = ("Error", [f'expected at least one victim pod on node "{name}"'])
        return out


class ArrayCandidate(Candidate):
    """A Candidate whose victim list is built when read: pickOneNodeForPreemption reads only the rule
    values, and only the chosen node's victims are needed."""

    __slots__ = ("_bound", "_indices", "_victims")

    def __init__(self, node: str, bound: BoundPods, indices: np.ndarray, values: tuple):
        self.node, self.pdb_violations, self.values = node, 0, values
        self._bound, self._indices, self._victims = bound, indices, None

    @property
    def victims(self) -> list[Pod]:
        if self._victims is None:
            self._victims = [self._bound.pods[i] for i in self._indices.tolist()]
        return self._victims


class _Groups:
    """Victims per candidate: ``chosen`` (bound pod indices, each node's most important first) and per
    candidate its node row and slice of ``chosen``."""

    def __init__(self, chosen: np.ndarray, nodes: np.ndarray, firsts: np.ndarray, ends: np.ndarray):
        self.chosen, self.nodes, self.firsts, self.ends = chosen, nodes, firsts, ends

__all__ = ["BoundPods", "Candidates", "ResourceNodes", "Statuses", "dry_run_resources", "pick_one_arrays"]
