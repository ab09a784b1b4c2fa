"""Run profiles over a cluster: batch scheduling and per-pod explanations.

The queue is built once in Python (PreEnqueue, profile lookup by schedulerName, QueueSort), then the
profile's loop schedules the whole queue inside compiled code. Messages for unschedulable pods are
built afterwards from the loop's per-pod failure histograms, in FitError.Error()'s format
(pkg/scheduler/framework/types.go): ``0/N nodes are available: <count reason>, ... .``
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from ..cluster import Cluster
from ..errors import PluginError
from ..objects import Pod
from ..preemption.batch import needs_preemption, schedule_with_preemption
from ..preemption.explain import explain_post_filter, holds_room_for
from ..preemption.postfilter import full_message, post_filter_message, preemption_plugin, quick_outcome
from ..state import ClusterState, PodColumns, build_state
from .caveats import missing_spread_owners, owner_warning_lines, volume_summary, volume_warning
from .config import SchedulerConfig, load_config
from .loop_errors import MISSING_STATE
from .loop_io import LoopInputs, LoopOutputs
from .plugin import Plugin, kernel_error, takes_pod
from .profile import Profile, build_profile
from .registry import Registry
from .runtime import TIES_RANDOM, new_rng

NO_NODES_MESSAGE = "no nodes available to schedule pods"
# Explain runs its one cycle as plain Python up to this many nodes plus pods in the cluster (a tenth of
# a second at 5,000 nodes and 5,000 pods, measured), compiled beyond (see Scheduler.explain).
EXPLAIN_PYTHON_LIMIT = 50_000


@dataclass
class Assignment:
    pod: str  # namespace/name
    node: str | None
    message: str | None
    nominated_node: str | None = None
    queued: bool = True  # False: never entered the queue (scheduling gates, or no profile for its schedulerName)
    bound: bool = False  # already bound (spec.nodeName): kube-scheduler never sees it; ``node`` is that node


@dataclass
class Eviction:
    pod: str  # namespace/name of the victim
    node: str
    by: str  # namespace/name of the preemptor


@dataclass
class ScheduleResult:
    assignments: list[Assignment]
    seconds: float  # wall time of the compiled loop(s)
    compile_seconds: float  # building and compiling (or loading from cache) the loop(s)
    compiled: bool
    evicted: list[Eviction] = field(default_factory=list)  # pods deleted by preemption, in order
    with_preemption: bool = False  # scheduled by schedkit.preemption.batch (plain Python), not the loop
    fast_preemption: bool = False  # scheduled by schedkit.preemption.hybrid: compiled cycles, PostFilter in Python

    @property
    def scheduled(self) -> int:
        return sum(1 for a in self.assignments if a.node is not None and not a.bound)

    @property
    def unschedulable(self) -> int:
        return sum(1 for a in self.assignments if a.node is None and a.queued)

    @property
    def not_queued(self) -> int:
        return sum(1 for a in self.assignments if not a.queued and not a.bound)

    @property
    def bound(self) -> int:
        return sum(1 for a in self.assignments if a.bound)

    @property
    def pods_per_second(self) -> float:
        decided = len(self.assignments) - self.bound
        return decided / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class NodeExplanation:
    name: str
    feasible: bool
    failed_plugin: str | None
    reasons: list[str]
    scores: dict[str, dict[str, int]]
    total_score: int | None
    scored: bool  # False when the node was feasible but past the percentageOfNodesToScore cutoff
    examined: bool
    status: str | None = None  # the failing status code: "Unschedulable" or "UnschedulableAndUnresolvable"


@dataclass
class Explanation:
    pod: str
    scheduler_name: str
    selected_node: str | None
    message: str | None
    nodes: list[NodeExplanation]
    skipped_score_plugins: list[str] = field(default_factory=list)
    not_modelled: list[str] = field(default_factory=list)
    scoring_skipped: bool = False  # one feasible node: upstream picks it without scoring
    cycle_error: bool = False  # the cycle ended with an Error status (``message``), not unschedulable
    warnings: list[str] = field(default_factory=list)  # what schedkit could not check for this pod
    bound_node: str | None = None  # spec.nodeName: the pod is bound already, there is no scheduling cycle
    nominated_node: str | None = None  # where preemption made room for the pod (it waits for its victims)
    victims: list[str] = field(default_factory=list)  # the pods this attempt's preemption deletes
    preemption: object | None = None  # schedkit.preemption.evaluator.PreemptionOutcome of the PostFilter


class Scheduler:
    """Every profile of one KubeSchedulerConfiguration, sharing plugin instances where args match."""

    def __init__(self, config: SchedulerConfig | None = None, registry: Registry | None = None):
        self.config = config or load_config(None)
        instances: dict[str, Plugin] = {}
        self.profiles: dict[str, Profile] = {}
        for profile_config in self.config.profiles:
            self.profiles[profile_config.scheduler_name] = build_profile(
                profile_config, self.config.percentage_of_nodes_to_score, registry, self.config.source, instances
            )
        sorts = {type(p.queue_sort) for p in self.profiles.values()}
        if len(sorts) > 1:
            raise PluginError("profiles[1].plugins.queueSort: queueSort must be the same for all profiles",
                              self.config.source or None)
        self.next_start_node_index = np.zeros(1, dtype=np.int64)
        # How selectHost breaks ties (runtime.TIES_RANDOM as upstream, or TIES_FIRST as the FGD paper's
        # simulator): not a KubeSchedulerConfiguration field, set by ``replay --ties`` and sweeps.
        self.ties = TIES_RANDOM

    @classmethod
    def from_file(cls, path: str | None, registry: Registry | None = None) -> "Scheduler":
        return cls(load_config(path), registry)

    # -- queue -------------------------------------------------------------------------------------
    def _gate_message(self, profile: Profile, pod: Pod) -> str | None:
        for i in profile.points["preEnqueue"]:
            message = profile.plugins[i].pre_enqueue(pod)
            if message:
                return message
        return None

    def hold_message(self, pod: Pod) -> str | None:
        """Why ``pod`` never enters the active queue (no profile for its schedulerName, or a PreEnqueue
        plugin holds it); None when it does."""
        profile = self.profiles.get(pod.scheduler_name)
        if profile is None:
            return no_profile_message(pod)
        return self._gate_message(profile, pod)

    def _queue(self, pods: list[Pod]) -> tuple[list[int], dict[int, str]]:
        """Rows of the pods that enter the active queue, in QueueSort order; messages for the rest."""
        held: dict[int, str] = {}
        candidates: list[int] = []
        for row, pod in enumerate(pods):
            message = self.hold_message(pod)
            if message:
                held[row] = message
                continue
            candidates.append(row)
        if not candidates:
            return [], held
        sort_plugin = next(iter(self.profiles.values())).queue_sort
        order = sort_plugin.queue_order([pods[row] for row in candidates])
        return [candidates[i] for i in order], held

    # -- what the input leaves out -------------------------------------------------------------------
    @property
    def config_warnings(self) -> list[str]:
        """What the configuration has that upstream accepts but that is likely a mistake, per profile."""
        return [message for profile in self.profiles.values() for message in profile.warnings]

    def _to_schedule(self, pods: list[Pod]) -> list[Pod]:
        return [pod for pod in pods if not pod.node_name and self.hold_message(pod) is None]

    def spread_owner_warnings(self, cluster: Cluster, pods: list[Pod]) -> list[str]:
        """Lines naming the controlling owners default spreading of ``pods`` reads and ``cluster`` lacks."""
        return owner_warning_lines(missing_spread_owners(self.profiles, cluster.others, self._to_schedule(pods)))

    def volume_warnings(self, pods: list[Pod]) -> list[str]:
        """One line counting the pods to schedule whose PersistentVolumeClaims go unchecked."""
        line = volume_summary(self.profiles, self._to_schedule(pods))
        return [line] if line else []

    # -- running -------------------------------------------------------------------------------------
    def _prepare(self, state: ClusterState, pods: list[Pod], columns: PodColumns) -> dict[int, tuple]:
        prepared: dict[int, tuple] = {}
        for profile in self.profiles.values():
            for plugin in profile.plugins:
                if id(plugin) not in prepared:
                    prepared[id(plugin)] = plugin.prepare(state, pods, columns)
        return prepared

    def _signatures(self, profile: Profile, pods: list[Pod]) -> np.ndarray:
        """Per pod, an id equal for pods every node-local plugin sees alike; -1 where some plugin cannot say."""
        spec = profile.loop_spec()
        used = sorted({i for _, i, _ in spec.kernel_refs() if profile.plugins[i].node_local})
        ids: dict[tuple, int] = {}
        sig = np.full(len(pods), -1, dtype=np.int64)
        for row, pod in enumerate(pods):
            parts = tuple(profile.plugins[i].signature(pod) for i in used)
            if all(part is not None for part in parts):
                sig[row] = ids.setdefault(parts, len(ids))
        return sig

    def _run(self, profile: Profile, state: ClusterState, columns: PodColumns, order: np.ndarray,
             prepared: dict[int, tuple], outputs: LoopOutputs, rng: np.ndarray, sig: np.ndarray | None = None, *,
             score_all: bool = False, explain: bool = False, pods: list[Pod] | None = None, python: bool = False,
             pod_ids: np.ndarray | None = None, pod_keys: list[str] | None = None) -> None:
        """Run ``profile``'s loop on the rows ``order`` of ``columns``. ``pod_ids``: each row's pod identity
        (what Reserve/Unreserve/Permit kernels declaring ``pod`` receive); default the row itself.
        ``pod_keys``: the rows' names for error messages (default from ``pods``)."""
        loop = profile.loop(explain, python)
        if sig is None:
            sig = np.full(columns.requests.shape[0], -1, dtype=np.int64)
        if pod_ids is None:
            pod_ids = np.arange(columns.requests.shape[0], dtype=np.int64)
        states = [prepared[id(plugin)] for plugin in profile.plugins]
        has_scoring = bool(profile.points["score"])
        if pod_keys is None:
            pod_keys = [pod.key for pod in pods] if pods is not None else [
                f"row {row}" for row in range(columns.requests.shape[0])]
        settings = (profile.percentage_of_nodes_to_score, profile.weight_array(), not has_scoring, rng,
                    self.next_start_node_index, score_all)
        inputs = LoopInputs(state.nodes, columns, states, pod_keys, state.node_names, settings, pod_ids, explain)
        outputs.run(profile, inputs, lambda: loop(state.nodes, columns, order, *settings, *outputs.args(), sig, pod_ids,
                                                  *states))

    def _assume_elsewhere(self, profile: Profile, state: ClusterState, columns: PodColumns, rows: list[int],
                          prepared: dict[int, tuple], outputs: LoopOutputs) -> None:
        """The scheduler cache records every bound pod on its node whatever profile placed it: plugins
        of other profiles that keep node state (ports, pod counts) see these placements too."""
        if len(self.profiles) == 1:
            return
        own = {id(profile.plugins[i]) for i in profile.reserve_order}
        others = {id(p): p for prof in self.profiles.values() for p in prof.plugins
                  if p.kernels.reserve is not None and id(p) not in own}
        for row in rows:
            node = int(outputs.node[row])
            if node >= 0:
                for key, plugin in others.items():
                    extra = (row,) if takes_pod(plugin.kernels.reserve) else ()
                    plugin.kernels.reserve(state.nodes, columns, row, node, prepared[key], *extra)

    def _message(self, profile: Profile, state: ClusterState, outputs: LoopOutputs, row: int, pod: str) -> str:
        return failure_message(profile, state.num_nodes, int(outputs.reject_plugin[row]),
                               int(outputs.reject_code[row]), _histogram(outputs, row), pod)

    def _full_message(self, profile: Profile, state: ClusterState, outputs: LoopOutputs, row: int, pod: Pod) -> str:
        if int(outputs.nominated[row]) >= 0:
            # a PostFilter kernel nominated a node: RunPostFilterPlugins succeeded, FitError alone
            return self._message(profile, state, outputs, row, pod.key)
        return fast_path_message(profile, state.num_nodes, int(outputs.reject_plugin[row]),
                                 int(outputs.reject_code[row]), _histogram(outputs, row), pod)

    def _schedule_with_preemption(self, cluster: Cluster, pods: list[Pod], queue: list[int], held: dict[int, str],
                                  bound: list[Pod], seed: int) -> ScheduleResult:
        """The queue scheduled with preemption: ``schedkit.preemption.hybrid`` (compiled cycles) where it
        covers the batch, else ``schedkit.preemption.batch`` (plain Python)."""
        from ..preemption.hybrid import FastBatch  # it builds on this module's messages

        ties_first = self.ties != TIES_RANDOM
        compile_start = time.perf_counter()
        fast = FastBatch.for_batch(self, cluster, pods, queue, seed, ties_first)
        compile_seconds = time.perf_counter() - compile_start
        start = time.perf_counter()
        if fast is not None:
            batch = fast.run()
        else:
            batch = schedule_with_preemption(self, cluster, pods, queue, seed, ties_first=ties_first)
        seconds = time.perf_counter() - start
        assignments: list[Assignment] = []
        for row in queue:
            pod, result = pods[row], batch.results[row]
            if result.node is not None:
                profile = self.profiles[pod.scheduler_name]
                profile.plugins[profile.points["bind"][0]].bind(pod, result.node)
            assignments.append(Assignment(pod.key, result.node, result.message, result.nominated_node))
        assignments += _unqueued(pods, held, bound, {node.name for node in cluster.nodes})
        evicted = [Eviction(e.pod.key, e.node, e.by) for e in batch.evicted]
        if fast is not None:
            return ScheduleResult(assignments, seconds, compile_seconds, fast.compiled, evicted, fast_preemption=True)
        return ScheduleResult(assignments, seconds, 0.0, False, evicted, with_preemption=True)

    def schedule(self, cluster: Cluster, pods: list[Pod] | None = None, seed: int = 0,
                 fresh: bool = True) -> ScheduleResult:
        """Schedule ``pods`` (default: the cluster's pending pods) in queue order, one after another,
        each seeing the placements before it. ``fresh`` starts like a newly started kube-scheduler
        (``nextStartNodeIndex`` 0), so the same input and seed give the same answer; False continues
        from the previous call's index, as one long-running scheduler would."""
        pods = cluster.pending_pods if pods is None else pods
        bound = [pod for pod in pods if pod.node_name]
        if bound:
            pods = [pod for pod in pods if not pod.node_name]
            cluster = _with_bound_pods(cluster, bound)
        if fresh:
            self.next_start_node_index[:] = 0
        queue, held = self._queue(pods)
        if needs_preemption(self, cluster, [pods[row] for row in queue]):
            return self._schedule_with_preemption(cluster, pods, queue, held, bound, seed)
        state = build_state(cluster, pods)
        columns = state.pod_columns(pods)
        state.seed = seed
        prepared = self._prepare(state, pods, columns)
        outputs = LoopOutputs(len(pods), state.num_nodes, 0, explain=False)
        rng = new_rng(seed, self.ties)
        pod_ids = np.arange(len(pods), dtype=np.int64)  # each pod is its own row
        # Compile (or load from cache) each profile's loop by running it on an empty queue.
        compile_start = time.perf_counter()
        compiled = True
        for profile in self.profiles.values():
            self._run(profile, state, columns, np.zeros(0, dtype=np.int64), prepared, outputs, rng, pods=pods,
                      pod_ids=pod_ids)
            compiled = compiled and profile.compiled
        compile_seconds = time.perf_counter() - compile_start
        signatures = {name: self._signatures(profile, pods) for name, profile in self.profiles.items()}
        loop_start = time.perf_counter()
        # Consecutive pods of one profile run in one compiled call.
        segment: list[int] = []
        segment_profile: Profile | None = None
        for row in queue + [-1]:
            profile = self.profiles[pods[row].scheduler_name] if row >= 0 else None
            if segment and profile is not segment_profile:
                self._run(segment_profile, state, columns, np.asarray(segment, dtype=np.int64), prepared, outputs, rng,
                          signatures[segment_profile.scheduler_name], pods=pods, pod_ids=pod_ids)
                self._assume_elsewhere(segment_profile, state, columns, segment, prepared, outputs)
                segment = []
            segment_profile = profile
            if row >= 0:
                segment.append(row)
        seconds = time.perf_counter() - loop_start
        # Reported in the order the pods were scheduled (queue order), then the pods that never queued.
        assignments: list[Assignment] = []
        for row in queue:
            pod = pods[row]
            node = int(outputs.node[row])
            profile = self.profiles[pod.scheduler_name]
            if node >= 0:
                binder = profile.plugins[profile.points["bind"][0]]
                binder.bind(pod, state.node_names[node])
                assignments.append(Assignment(pod.key, state.node_names[node], None))
            else:
                nominated = int(outputs.nominated[row])
                assignments.append(Assignment(
                    pod.key, None, self._full_message(profile, state, outputs, row, pod),
                    state.node_names[nominated] if nominated >= 0 else None))
        assignments += _unqueued(pods, held, bound, set(state.node_index))
        return ScheduleResult(assignments, seconds, compile_seconds, compiled)

    def explain(self, cluster: Cluster, pod: Pod, seed: int = 0, score_all: bool = False,
                python: bool | None = None) -> Explanation:
        """What the scheduler would do with ``pod`` on ``cluster`` now, plugin by plugin.

        Runs the profile's explain loop (``framework.loop.pod_cycle_lines``) on this one pod with
        recording on and without reserving. Every node is filtered for display; only the nodes the
        real cycle would examine decide. ``score_all`` scores every node whether or not it passed Filter
        (upstream's plugin unit tests do that).

        ``python``: run that loop as plain Python over the kernels' Python versions (True) or compiled
        (False). By default, Python unless the cluster is large (``EXPLAIN_PYTHON_LIMIT``): one cycle
        over a few thousand nodes takes a tenth of a second as Python, less than loading the compiled
        loop from the cache, and a first explain then compiles nothing. Same source, same decisions
        (the differential tests run both).
        """
        self.next_start_node_index[:] = 0
        if pod.node_name:
            return Explanation(pod.key, pod.scheduler_name, None,
                               bound_message(pod, {node.name for node in cluster.nodes}), [],
                               bound_node=pod.node_name)
        others = [p for p in cluster.pods if p.key != pod.key]
        cluster = dataclasses.replace(cluster, pods=others)
        state = build_state(cluster, [pod])
        profile = self.profiles.get(pod.scheduler_name)
        names_in_input = [node.name for node in cluster.nodes]
        if profile is None:
            return Explanation(pod.key, pod.scheduler_name, None, no_profile_message(pod), [
                                   NodeExplanation(name, False, None, [], {}, None, False, False) for name in names_in_input
                               ], not_modelled=[])
        warning = volume_warning(profile, pod)
        warnings = [warning] if warning else []
        gate = self._gate_message(profile, pod)
        if gate:
            return Explanation(pod.key, pod.scheduler_name, None, gate, [
                NodeExplanation(name, False, None, [], {}, None, False, False) for name in names_in_input
            ], not_modelled=list(profile.not_modelled), warnings=warnings)
        columns = state.pod_columns([pod])
        state.seed = seed
        prepared = self._prepare(state, [pod], columns)
        if python is None:
            python = state.num_nodes + len(cluster.pods) <= EXPLAIN_PYTHON_LIMIT
        # The loop's score slots are in plugin order; explain lists Score plugins in the configuration's.
        slot_of = {i: slot for slot, i in enumerate(profile.score_slots)}
        score_slots = [(slot_of[i], i) for i in profile.points["score"]]
        outputs = LoopOutputs(1, state.num_nodes, len(score_slots), explain=True)
        rng = new_rng(seed, self.ties)
        self._run(profile, state, columns, np.zeros(1, dtype=np.int64), prepared, outputs, rng,
                  score_all=score_all, explain=True, pods=[pod], python=python)
        chosen = int(outputs.node[0])
        # An Error status: Score's (in reject_code) or a Filter's (in the histogram; no node passed Filter)
        cycle_error = (int(outputs.reject_code[0]) == MISSING_STATE
                       or bool(np.any(outputs.hist_code[0, :int(outputs.hist_len[0])] == MISSING_STATE)))
        narrowed = [] if outputs.reject_plugin[0] >= 0 or outputs.reject_code[0] == MISSING_STATE else \
            _narrowing_plugins(profile, int(outputs.reject_code[0]))
        nodes = []
        for name in names_in_input:
            n = state.node_index[name]
            status = int(outputs.ex_state[n]) if state.num_nodes else 0
            failed = int(outputs.ex_fail_plugin[n])
            feasible = status in (2, 3)
            reasons: list[str] = []
            failed_name = None
            code_name = None
            if status == 1 and failed >= 0 and int(outputs.ex_fail_code[n]) == MISSING_STATE:
                failed_name, reasons, code_name = profile.plugins[failed].name, [profile.state_error(failed)], "Error"
            elif status == 1 and failed >= 0:
                failed_name = profile.plugins[failed].name
                reasons, code_name = decode(profile.plugins[failed], int(outputs.ex_fail_code[n]), "filter", pod.key,
                                            name)
            scores: dict[str, dict[str, int]] = {}
            total = None
            if cycle_error:
                pass  # the cycle failed before any score was computed
            elif (status == 2 or score_all) and not (chosen >= 0 and _single_feasible(outputs) and not score_all):
                for slot, i in score_slots:
                    if outputs.ex_skip[slot]:
                        continue
                    scores[profile.plugins[i].name] = {
                        "raw": int(outputs.ex_raw[slot, n]),
                        "normalized": int(outputs.ex_norm[slot, n]),
                        "weight": profile.weights[i],
                    }
                total = int(outputs.ex_total[n])
            if status == 0 and outputs.reject_plugin[0] >= 0 and not cycle_error:
                plugin = profile.plugins[int(outputs.reject_plugin[0])]
                failed_name = plugin.name
                reasons, code_name = decode(plugin, int(outputs.reject_code[0]), "pre_filter", pod.key)
            elif status == 0 and narrowed:  # outside the PreFilterResult
                failed_name = narrowed[0] if len(narrowed) == 1 else None
                reasons = [f"node(s) didn't satisfy plugin(s) [{' '.join(narrowed)}]"]
                code_name = "UnschedulableAndUnresolvable"
            nodes.append(NodeExplanation(name, feasible, failed_name, reasons, scores, total, status == 2, status != 0,
                                         code_name))
        message = None if chosen >= 0 else self._message(profile, state, outputs, 0, pod.key)
        skipped = [profile.plugins[i].name for slot, i in score_slots if outputs.ex_skip[slot]]
        explanation = Explanation(pod.key, pod.scheduler_name, state.node_names[chosen] if chosen >= 0 else None,
                                  message, nodes, skipped, list(profile.not_modelled),
                                  _single_feasible(outputs) and not score_all, cycle_error, warnings)
        nominated_matter = holds_room_for(cluster, pod)
        if (chosen < 0 and not cycle_error) or nominated_matter:
            explain_post_filter(self, explanation, cluster, pod, seed, nominated_matter, score_all)
        return explanation


def _unqueued(pods: list[Pod], held: dict[int, str], bound: list[Pod], node_names: set[str]) -> list[Assignment]:
    """The pods that never queued (held by PreEnqueue or without a profile), then those bound already."""
    out = [Assignment(pods[row].key, None, message, queued=False) for row, message in sorted(held.items())]
    out += [Assignment(pod.key, pod.node_name, bound_message(pod, node_names), queued=False, bound=True)
            for pod in bound]
    return out


def bound_message(pod: Pod, node_names: set[str]) -> str:
    """A pod with spec.nodeName never enters kube-scheduler's queue (pkg/scheduler/eventhandlers.go: only
    pods that are not ``assignedPod`` are queued): there is no scheduling cycle."""
    absent = "" if pod.node_name in node_names else ", which is not in the input"
    return (f"already bound to node {pod.node_name}{absent} (spec.nodeName): kube-scheduler never sees it, "
            "no scheduling cycle")


def _with_bound_pods(cluster: Cluster, bound: list[Pod]) -> Cluster:
    """``cluster`` with the bound pods it does not hold yet running on their nodes: the scheduler cache
    adds every assigned pod (eventhandlers.go addPodToCache), so the pods scheduled after see them. Pods on a node not in the input are
    left out, as the cluster loader leaves them out."""
    known = {pod.key for pod in cluster.pods}
    names = {node.name for node in cluster.nodes}
    extra = [pod for pod in bound if pod.key not in known and pod.node_name in names]
    if not extra:
        return cluster
    return dataclasses.replace(cluster, pods=cluster.pods + extra, warnings=list(cluster.warnings))


def no_profile_message(pod: Pod) -> str:
    return (f'no profile for schedulerName "{pod.scheduler_name}": kube-scheduler leaves the pod '
            "pending for another scheduler")


def fast_path_message(profile: Profile, num_nodes: int, reject_plugin: int, reject_code: int,
                      hist: list[tuple[int, int, int]], pod: Pod, name: str | None = None) -> str:
    """The failure message with PostFilter's part, on the fast path: it runs only when no node holds a
    pod DefaultPreemption could take (``needs_preemption``), so every Unschedulable node has no victims
    (``quick_outcome``). ``name``: the pod's name in plugins' reasons (default ``pod.key``)."""
    message = failure_message(profile, num_nodes, reject_plugin, reject_code, hist, pod.key if name is None else name)
    unschedulable = unschedulable_nodes(profile, num_nodes, reject_plugin, reject_code, hist)
    if unschedulable is None:
        return message
    outcome = quick_outcome(pod, num_nodes, unschedulable) if preemption_plugin(profile) else None
    return full_message(message, post_filter_message(profile, outcome))


def unschedulable_nodes(profile: Profile, num_nodes: int, reject_plugin: int, reject_code: int,
                        hist: list[tuple[int, int, int]]) -> int | None:
    """How many nodes a failed cycle left Unschedulable (where preemption might help: DefaultPreemption's
    potential nodes); None when no PostFilter runs (an Error status, no nodes, a Permit rejection)."""
    if num_nodes == 0 or reject_code == MISSING_STATE or any(c == MISSING_STATE for _, c, _ in hist):
        return None  # not a FitError: no PostFilter
    if reject_plugin >= 0 and reject_code < 0:
        return None  # Permit rejected the node: no PostFilter
    if reject_plugin >= 0:
        return 0  # PreFilter rejected the pod: every node is absent (UnschedulableAndUnresolvable)
    return sum(count for i, code, count in hist if profile.plugins[i].status(code).name == "Unschedulable")


def failure_message(profile: Profile, num_nodes: int, reject_plugin: int, reject_code: int,
                    hist: list[tuple[int, int, int]], pod: str = "(unnamed)") -> str:
    """FitError.Error() for one failed cycle, from what the loop recorded: the PreFilter/Permit plugin
    that rejected the pod (``reject_plugin`` >= 0), or the per-(plugin, code) node counts of Filter."""
    if num_nodes == 0:
        return NO_NODES_MESSAGE
    if reject_code == MISSING_STATE:  # an Error status, not a FitError: schedule_one.go reports it as is
        return profile.state_error(reject_plugin)
    for plugin_index, code, _ in hist:
        if code == MISSING_STATE:
            return profile.state_error(plugin_index)
    if reject_plugin >= 0:
        plugin = profile.plugins[reject_plugin]
        if reject_code < 0:  # Permit rejected the chosen node
            return f"0/1 nodes are available: {', '.join(decode(plugin, -reject_code, 'permit', pod)[0])}."
        return f"0/{num_nodes} nodes are available: {', '.join(decode(plugin, reject_code, 'pre_filter', pod)[0])}."
    counts = filter_reason_counts(profile, hist, pod)
    failed_nodes = sum(count for _, _, count in hist)
    narrowed = _narrowing_plugins(profile, reject_code)
    # With a PreFilterResult, nodes outside it (none at all when its names match no node) carry
    # "didn't satisfy plugin(s)" (findNodesThatFitPod's absent-node status).
    if narrowed and failed_nodes < num_nodes:
        reason = f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(narrowed))}]"
        counts[reason] = counts.get(reason, 0) + num_nodes - failed_nodes
    return nodes_available_message(num_nodes, counts)


def filter_reason_counts(profile: Profile, hist: list[tuple[int, int, int]], pod: str) -> dict[str, int]:
    """Per Filter reason, how many nodes gave it (a node failing with several reasons counts in each)."""
    counts: dict[str, int] = {}
    for plugin_index, code, count in hist:
        for reason in decode(profile.plugins[plugin_index], code, "filter", pod)[0]:
            counts[reason] = counts.get(reason, 0) + count
    return counts


def nodes_available_message(num_nodes: int, counts: dict[str, int]) -> str:
    """FitError.Error(): the reasons with their node counts, sorted as strings."""
    parts = sorted(f"{count} {reason}" for reason, count in counts.items() if count)
    message = f"0/{num_nodes} nodes are available:"
    if parts:
        message += f" {', '.join(parts)}."
    return message


def decode(plugin: Plugin, code: int, kernel: str, pod: str, node: str | None = None) -> tuple[list[str], str]:
    """A failure code's reasons and status name; a code the plugin cannot decode is the plugin's
    error, named with the kernel that returned it (the loop checks codes of plugins that use
    ``reason_table``; this catches ``reasons``/``status`` overrides that fail)."""
    try:
        return list(plugin.reasons(code)), plugin.status(code).name
    except Exception as exc:  # any error in the plugin's own decoding code
        raise kernel_error(plugin.name, kernel, f"returned failure code {code}, which its reasons() or status() "
                           f"cannot decode ({type(exc).__name__}: {exc})", pod, node) from None


def _narrowing_plugins(profile: Profile, bits: int) -> list[str]:
    """Names of the plugins whose PreFilterResult narrowed the nodes (the loop records them as bits)."""
    return sorted(profile.plugins[i].name for i in range(len(profile.plugins)) if (bits >> i) & 1)


def _histogram(outputs: LoopOutputs, row: int) -> list[tuple[int, int, int]]:
    """The loop's per-pod Filter failure histogram: (plugin, code, node count) per distinct pair."""
    return [(int(outputs.hist_plugin[row, k]), int(outputs.hist_code[row, k]), int(outputs.hist_count[row, k]))
            for k in range(int(outputs.hist_len[row]))]


def _single_feasible(outputs: LoopOutputs) -> bool:
    return int(np.count_nonzero(outputs.ex_state == 2)) == 1


__all__ = ["Scheduler", "ScheduleResult", "Assignment", "Explanation", "NodeExplanation"]
