"""Tools for plugin authors: run one plugin on one pod, and check a plugin against the framework's rules.

``run_plugin`` calls a plugin's kernels directly, the way upstream's plugin unit tests call a plugin:
PreFilter, then Filter on every node (whatever PreFilter said), PreScore, and Score plus
NormalizeScore on every node; a kernel that raises, a failure code the plugin cannot decode or a
score that is not an integer is a ``PluginError`` naming the plugin, kernel, pod and node.
``check_plugin`` runs a plugin over the author's own clusters and over generated ones that use the
label keys and values the plugin interns, and asserts the invariants the framework relies on; it
raises ``AssertionError`` naming the plugin and what broke. For a plugin declaring ``node_local`` it
also tests that promise, which the loop's caches rely on and nothing else would catch.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cluster import Cluster, cluster_from_objects
from .errors import InputError, PluginError
from .framework.plugin import (NARROW, SKIP, SUCCESS, Code, Plugin, integer_result, is_compiled, kernel_error,
                               python_function, takes_pod, validate_plugin_class)
from .framework.runtime import assume
from .manifests import SourcedObject
from .objects import Pod, parse_pod
from .state import Interner, build_state


@dataclass
class PluginRun:
    """What one plugin said about one pod on each node."""

    pre_filter: tuple[str, list[str]] | None = None  # (status code name, reasons)
    pre_filter_nodes: list[str] | None = None  # a PreFilterResult's node names, sorted; None: all nodes
    filter: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # node -> (status, reasons)
    pre_score: str | None = None  # "Success" or "Skip"
    raw_scores: dict[str, int] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)  # after NormalizeScore


def make_cluster(nodes: list[dict], pods: list[dict] | None = None, namespaces: list[dict] | None = None,
                 others: list[dict] | None = None) -> Cluster:
    """A cluster from Node and Pod manifests (``kind`` may be left out), Namespace manifests and other
    objects (Services, ReplicaSets, ... with their ``kind``)."""
    objects = [SourcedObject({"kind": "Node", **obj}, "<nodes>", f"[{i}]") for i, obj in enumerate(nodes)]
    objects += [SourcedObject({"kind": "Pod", **obj}, "<pods>", f"[{i}]") for i, obj in enumerate(pods or [])]
    objects += [SourcedObject({"kind": "Namespace", **obj}, "<namespaces>", f"[{i}]")
                for i, obj in enumerate(namespaces or [])]
    objects += [SourcedObject(obj, "<objects>", f"[{i}]") for i, obj in enumerate(others or [])]
    return cluster_from_objects(objects)


def make_pod(manifest: dict) -> Pod:
    return parse_pod(manifest, "<pod>")


def _kernel(kernel, python: bool):
    return python_function(kernel) if python else kernel


class _Caller:
    """Calls one plugin's kernels for one pod, turning what the loop would flag (an exception, an
    undecodable failure code, a score that is not an integer) into ``kernel_error``'s one line."""

    def __init__(self, plugin: Plugin, pod: Pod, node_names: list[str], python: bool):
        self.plugin, self.pod, self.node_names, self.python = plugin, pod, node_names, python

    def call(self, kernel: str, node: int | None, *args):
        function = _kernel(getattr(self.plugin.kernels, kernel), self.python)
        try:
            return function(*args)
        except Exception as exc:  # the plugin's own error: name where it happened
            raise self.error(kernel, node, f"raised {type(exc).__name__}: {exc}") from None

    def error(self, kernel: str, node: int | None, detail: str) -> Exception:
        return kernel_error(self.plugin.name, kernel, detail, self.pod.key,
                            self.node_names[node] if node is not None else None)

    def decode(self, kernel: str, node: int | None, code: int) -> tuple[str, list[str]]:
        try:
            return self.plugin.status(code).name, list(self.plugin.reasons(code))
        except Exception as exc:  # e.g. KeyError: a code missing from reason_table
            raise self.error(kernel, node, f"returned failure code {code}, which the plugin cannot decode "
                                           f"({type(exc).__name__}: {exc})") from None

    def score(self, node: int, *args) -> int:
        value = self.call("score", node, *args)
        if not integer_result(value):
            raise self.error("score", node, f"returned {value!r}, a {type(value).__name__}: Score kernels must "
                                            "return an integer")
        return int(value)


def run_plugin(plugin: Plugin, cluster: Cluster, pod: Pod, python: bool = False,
               score_nodes: list[str] | None = None, pre_score: bool = True) -> PluginRun:
    """Run ``plugin``'s kernels for ``pod`` on every node of ``cluster`` (``python``: the plain-Python
    versions of compiled kernels). ``score_nodes``: the nodes PreScore and Score see as feasible
    (default every node). ``pre_score`` False calls Score without PreScore, as some upstream tests do."""
    state = build_state(cluster, [pod])
    columns = state.pod_columns([pod])
    plugin_state = plugin.prepare(state, [pod], columns)
    nodes, kernels, count = state.nodes, plugin.kernels, state.num_nodes
    caller = _Caller(plugin, pod, state.node_names, python)
    run = PluginRun()
    if kernels.pre_filter is not None:
        mask = np.zeros(max(count, 1), dtype=np.uint8)
        code = int(caller.call("pre_filter", None, nodes, columns, 0, plugin_state, mask))
        if code == SKIP:
            run.pre_filter = ("Skip", [])
        elif code == NARROW:
            run.pre_filter = ("Success", [])
            run.pre_filter_nodes = sorted(state.node_names[n] for n in range(count) if mask[n])
        elif code == 0:
            run.pre_filter = ("Success", [])
        else:
            run.pre_filter = caller.decode("pre_filter", None, code)
    if kernels.filter is not None:
        for n, name in enumerate(state.node_names):
            code = int(caller.call("filter", n, nodes, columns, 0, n, plugin_state))
            run.filter[name] = ("Success", []) if code == 0 else caller.decode("filter", n, code)
    if score_nodes is None:
        feasible = np.arange(count, dtype=np.int64)
    else:
        feasible = np.array([state.node_index[name] for name in score_nodes], dtype=np.int64)
    if kernels.pre_score is not None and pre_score:
        code = int(caller.call("pre_score", None, nodes, columns, 0, feasible, len(feasible), plugin_state))
        run.pre_score = "Skip" if code == SKIP else "Success"
    if kernels.score is not None and run.pre_score != "Skip":
        raw = np.array([caller.score(int(n), nodes, columns, 0, n, plugin_state) for n in feasible], dtype=np.int64)
        scores = raw.copy()
        if kernels.normalize is not None:
            caller.call("normalize", None, nodes, columns, 0, feasible, scores, len(feasible), plugin_state)
        names = [state.node_names[n] for n in feasible]
        run.raw_scores = dict(zip(names, raw.tolist()))
        run.scores = dict(zip(names, scores.tolist()))
    return run


def random_cluster(rng: random.Random, num_nodes: int = 6, num_running: int = 6) -> tuple[Cluster, list[Pod]]:
    """A small random cluster (labels, taints, extended resources, host ports) and pods to schedule."""
    zones = ["a", "b", "c"]
    nodes = []
    for i in range(num_nodes):
        taints = []
        if rng.random() < 0.3:
            taints.append({"key": rng.choice(["dedicated", "gpu"]), "value": rng.choice(["x", "y"]),
                           "effect": rng.choice(["NoSchedule", "PreferNoSchedule", "NoExecute"])})
        allocatable = {"cpu": f"{rng.choice([1, 2, 4, 8])}", "memory": f"{rng.choice([2, 4, 8])}Gi",
                       "pods": str(rng.choice([2, 5, 110]))}
        if rng.random() < 0.3:
            allocatable["example.com/gpu"] = str(rng.choice([1, 2, 4]))
        nodes.append({"metadata": {"name": f"node-{i}", "labels": {"zone": rng.choice(zones),
                                                                     "size": str(rng.choice([1, 2, 3]))}},
                      "spec": {"taints": taints, "unschedulable": rng.random() < 0.1},
                      "status": {"allocatable": allocatable}})

    def pod(name: str, node: str | None) -> dict:
        requests: dict[str, str] = {}
        if rng.random() < 0.8:
            requests["cpu"] = f"{rng.choice([100, 250, 500, 1000, 3000])}m"
        if rng.random() < 0.8:
            requests["memory"] = f"{rng.choice([128, 512, 1024, 4096])}Mi"
        if rng.random() < 0.2:
            requests["example.com/gpu"] = str(rng.choice([1, 2]))
        container: dict[str, Any] = {"name": "c", "resources": {"requests": requests}}
        if rng.random() < 0.2:
            container["ports"] = [{"containerPort": 80, "hostPort": rng.choice([80, 443])}]
        spec: dict[str, Any] = {"containers": [container]}
        if node:
            spec["nodeName"] = node
        if rng.random() < 0.3:
            spec["tolerations"] = [{"key": rng.choice(["dedicated", "gpu", ""]), "operator": "Exists"}]
        if rng.random() < 0.3:
            spec["nodeSelector"] = {"zone": rng.choice(zones)}
        if rng.random() < 0.3:
            spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": rng.randint(1, 100), "preference": {"matchExpressions": [
                    {"key": "size", "operator": rng.choice(["Gt", "Lt"]), "values": [str(rng.choice([1, 2]))]}]}}]}}
        return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}

    running = [pod(f"running-{i}", f"node-{rng.randrange(num_nodes)}") for i in range(num_running)]
    cluster = make_cluster(nodes, running)
    pending = [make_pod(pod(f"pending-{i}", None)) for i in range(4)]
    return cluster, pending


class _RecordingInterner(Interner):
    """An Interner that remembers every string a plugin looks up, to learn its vocabulary."""

    def __init__(self, original: Interner, seen: set[str]):
        super().__init__()
        self.ids, self.strings, self.seen = dict(original.ids), list(original.strings), seen

    def __call__(self, text: str) -> int:
        self.seen.add(text)
        return super().__call__(text)

    def get(self, text: str, default: int = -1) -> int:
        self.seen.add(text)
        return super().get(text, default)


@dataclass
class Vocabulary:
    """The label keys and values a plugin interned in ``prepare``: generated clusters use them, so the
    plugin's kernels see the labels and taints they read."""

    keys: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)


def plugin_vocabulary(plugin: Plugin, samples: list[tuple[Cluster, list[Pod]]]) -> Vocabulary:
    """What ``plugin.prepare`` interns (``cluster.label_keys(...)``, ``cluster.label_values(...)``)
    on each sample cluster with its pods."""
    vocabulary = Vocabulary()
    for cluster, pods in samples:
        state = build_state(cluster, pods)
        state.label_keys = _RecordingInterner(state.label_keys, vocabulary.keys)
        state.label_values = _RecordingInterner(state.label_values, vocabulary.values)
        plugin.prepare(state, pods, state.pod_columns(pods))
    return vocabulary


# Label values generated clusters mix with the plugin's own: integers (costs, sizes, Gt/Lt operands,
# out-of-range ones included) and plain words.
GENERIC_VALUES = ["0", "1", "2", "10", "90", "100", "101", "500", "-5", "true", "false", "a", "b"]
GENERIC_KEYS = ["zone", "size"]


def cluster_strategy(vocabulary: Vocabulary):
    """A Hypothesis strategy of (cluster, pending pods) whose nodes carry the plugin's label keys and
    values (as labels and as taints) besides generic ones, with resources, host ports, tolerations and
    node selectors over the same words."""
    from hypothesis import strategies as st

    keys = st.sampled_from(sorted(vocabulary.keys | set(GENERIC_KEYS)))
    values = st.sampled_from(sorted(vocabulary.values | set(GENERIC_VALUES)))
    effects = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])
    taint = st.fixed_dictionaries({"key": keys, "value": values, "effect": effects})
    allocatable = st.fixed_dictionaries({
        "cpu": st.sampled_from(["1", "2", "4", "8"]), "memory": st.sampled_from(["2Gi", "4Gi", "8Gi"]),
        "pods": st.sampled_from(["2", "5", "110"])},
        optional={"example.com/gpu": st.sampled_from(["1", "2", "4"])})
    node = st.fixed_dictionaries({
        "labels": st.dictionaries(keys, values, max_size=4), "taints": st.lists(taint, max_size=2),
        "unschedulable": st.booleans(), "allocatable": allocatable})
    container = st.fixed_dictionaries({"name": st.just("c"), "resources": st.fixed_dictionaries({
        "requests": st.fixed_dictionaries({}, optional={
            "cpu": st.sampled_from(["100m", "500m", "1", "3"]), "memory": st.sampled_from(["128Mi", "1Gi", "4Gi"]),
            "example.com/gpu": st.sampled_from(["1", "2"])})})},
        optional={"ports": st.lists(st.fixed_dictionaries({"containerPort": st.just(80),
                                                           "hostPort": st.sampled_from([80, 443])}), max_size=1)})
    toleration = st.one_of(st.fixed_dictionaries({"key": keys, "operator": st.just("Exists")}),
                           st.fixed_dictionaries({"key": keys, "operator": st.just("Equal"), "value": values}))
    pod_spec = st.fixed_dictionaries({"containers": st.lists(container, min_size=1, max_size=2)}, optional={
        "nodeSelector": st.dictionaries(keys, values, max_size=2), "tolerations": st.lists(toleration, max_size=2)})
    pod_labels = st.dictionaries(keys, values, max_size=2)

    @st.composite
    def cluster_and_pods(draw):
        specs = draw(st.lists(node, min_size=1, max_size=6))
        nodes = [{"metadata": {"name": f"node-{i}", "labels": spec["labels"]},
                  "spec": {"taints": spec["taints"], "unschedulable": spec["unschedulable"]},
                  "status": {"allocatable": spec["allocatable"]}} for i, spec in enumerate(specs)]
        running = [{"metadata": {"name": f"running-{i}", "namespace": "default", "labels": draw(pod_labels)},
                    "spec": {**draw(pod_spec), "nodeName": f"node-{draw(st.integers(0, len(nodes) - 1))}"}}
                   for i in range(draw(st.integers(0, 6)))]
        pending = [make_pod({"metadata": {"name": f"pending-{i}", "namespace": "default",
                                          "labels": draw(pod_labels)}, "spec": draw(pod_spec)})
                   for i in range(draw(st.integers(1, 3)))]
        return make_cluster(nodes, running), pending

    return cluster_and_pods()


def check_plugin(plugin: type[Plugin] | Plugin, args: dict | None = None, examples: int = 30, seed: int = 0,
                 clusters: list[Cluster] | None = None, pods: list[Pod] | None = None) -> None:
    """Check a plugin against the framework's invariants, on the author's own ``clusters`` (each with
    ``pods``, or its own pending pods) and on ``examples`` generated ones (Hypothesis, seeded by
    ``seed``) whose nodes carry the label keys and values the plugin interns in ``prepare``.

    Checks: it registers (valid kernels and signatures); ``prepare`` returns a tuple; no kernel raises;
    Filter codes are non-negative and decode to a status and reason strings; PreFilter returns SUCCESS,
    SKIP, NARROW or a decodable code; Score returns an integer and NormalizeScore leaves every score in
    [0, 100]; kernels give the same answer twice; compiled kernels agree with their Python versions;
    Reserve followed by Unreserve leaves the plugin's state as it was. For a ``node_local`` plugin: pods
    with equal ``signature`` (the pods, and copies of them with one part of the spec changed) get the
    same Filter verdict and Score on every node, and placing a pod on node m (the framework's accounting
    and the plugin's Reserve) changes no other node's verdict or Score for any pod, nor the plugin's
    per-node state outside node m. Failures raise AssertionError naming the plugin, the cluster, the
    pod and what broke (Hypothesis shrinks generated examples).
    """
    cls = plugin if isinstance(plugin, type) else type(plugin)
    try:
        validate_plugin_class(cls)
    except PluginError as exc:
        raise AssertionError(str(exc)) from None
    instance = plugin if isinstance(plugin, Plugin) else cls(args or {})
    own: list[tuple[Cluster, list[Pod]]] = []
    for index, cluster in enumerate(clusters or []):
        cluster_pods = list(pods) if pods is not None else cluster.pending_pods
        if not cluster_pods:
            raise ValueError(f"check_plugin: clusters[{index}] has no pending pods; pass pods=[...]")
        own.append((cluster, cluster_pods))
    for index, (cluster, cluster_pods) in enumerate(own):
        for pod in cluster_pods:
            _check_pod(instance, cluster, pod, f"plugin {cls.name}, clusters[{index}], pod {pod.key}")
        _check_node_local(instance, cluster, cluster_pods, f"plugin {cls.name}, clusters[{index}]")
    if examples <= 0:
        return
    samples = own + [random_cluster(random.Random(seed))]
    if pods is not None:
        samples.append((samples[-1][0], list(pods)))
    strategy = cluster_strategy(plugin_vocabulary(instance, samples))
    _check_generated(instance, strategy, list(pods or []), examples, seed)


def _check_generated(instance: Plugin, strategy, extra_pods: list[Pod], examples: int, seed: int) -> None:
    try:
        from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings
    except ImportError:  # a test-only dependency
        raise ImportError("check_plugin generates clusters with Hypothesis: pip install hypothesis") from None

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, derandomize=False, print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def generated(example):
        cluster, pending = example
        where = f"plugin {instance.name}, generated cluster {_describe(cluster)}"
        for pod in pending + extra_pods:
            _check_pod(instance, cluster, pod, f"{where}, pod {pod.key}")
        _check_node_local(instance, cluster, pending + extra_pods, where)

    generated()


def _describe(cluster: Cluster) -> str:
    """A generated cluster in one line: each node's labels and taints."""
    parts = []
    for node in cluster.nodes:
        labels = ",".join(f"{k}={v}" for k, v in sorted(node.labels.items()))
        taints = ",".join(f"{t.key}={t.value}:{t.effect}" for t in node.taints)
        parts.append(f"{node.name}[{labels}]" + (f" taints[{taints}]" if taints else ""))
    return "{" + "; ".join(parts) + "}"


def _check_pod(instance: Plugin, cluster: Cluster, pod: Pod, where: str) -> None:
    cls = type(instance)
    state = build_state(cluster, [pod])
    prepared = instance.prepare(state, [pod], state.pod_columns([pod]))
    if not isinstance(prepared, tuple):
        raise AssertionError(f"{where}: prepare must return a tuple, got {type(prepared).__name__}")
    try:
        first = run_plugin(instance, cluster, pod)
        again = run_plugin(instance, cluster, pod)
        python = run_plugin(instance, cluster, pod, python=True) if any(
            is_compiled(k) for _, k in cls.kernels.items()) else first
    except PluginError as exc:
        raise AssertionError(f"{where}: {exc}") from None
    if first != again:
        raise AssertionError(f"{where}: kernels are not deterministic: {first} != {again}")
    if python != first:
        raise AssertionError(f"{where}: compiled and Python kernels disagree: {first} != {python}")
    for node, (status, reasons) in first.filter.items():
        if status != "Success" and (status not in Code.__members__ or not reasons):
            raise AssertionError(f"{where}, node {node}: failure without status or reasons: {status} {reasons}")
    for node, score in first.scores.items():
        if not 0 <= score <= 100:
            raise AssertionError(f"{where}, node {node}: score {score} outside [0, 100] after NormalizeScore")
    if cls.kernels.reserve is not None:
        _check_reserve(instance, cluster, pod, where)


def _is_record(value: Any) -> bool:
    """A namedtuple: a plugin state (or a group in one) whose entries have names."""
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _entry_name(state: tuple, i: int) -> str:
    """Entry ``i`` of a plugin's state as a message names it: ``state.counts`` in a namedtuple, else ``state[i]``
    (third-party plugins may return plain tuples)."""
    return f"state.{type(state)._fields[i]}" if _is_record(state) else f"state[{i}]"


def _snapshot(value: Any) -> Any:
    """A copy of every array in a state, nested tuples and namedtuples keeping their type."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        copies = [_snapshot(v) for v in value]
        return type(value)(*copies) if _is_record(value) else tuple(copies)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _without_records(plugin: Plugin, state: Any) -> Any:
    """The state with its ``unreserve_keeps`` fields left out (Unreserve need not undo them)."""
    if not plugin.unreserve_keeps or not _is_record(state):
        return state
    return tuple(v for name, v in zip(type(state)._fields, state) if name not in plugin.unreserve_keeps)


def _check_reserve(plugin: Plugin, cluster: Cluster, pod: Pod, where: str) -> None:
    state = build_state(cluster, [pod])
    columns = state.pod_columns([pod])
    prepared = plugin.prepare(state, [pod], columns)
    for n in range(state.num_nodes):
        before = _snapshot(prepared)
        extra = (0,) if takes_pod(plugin.kernels.reserve) else ()  # the pod: the only one, row 0
        plugin.kernels.reserve(state.nodes, columns, 0, n, prepared, *extra)
        plugin.kernels.unreserve(state.nodes, columns, 0, n, prepared, *extra)
        if not _same(_without_records(plugin, before), _without_records(plugin, prepared)):
            raise AssertionError(f"{where}: Unreserve did not undo Reserve on node {state.node_names[n]}")


# -- the node_local promise ---------------------------------------------------------------------------
# A node-local plugin's answers are reused across pods with equal signatures and kept for every node but
# the one a pod was just placed on (framework/loop.py). Both shortcuts are checked against running the
# kernels afresh.

BROKEN = "breaks its node_local promise"


def _check_node_local(plugin: Plugin, cluster: Cluster, pods: list[Pod], where: str) -> None:
    if not plugin.node_local:
        return
    try:
        _check_equal_signatures(plugin, cluster, pods + _twins(pods), where)
        _check_placement_stays_on_its_node(plugin, cluster, pods, where)
    except PluginError as exc:  # a kernel failing on a twin or after a placement
        raise AssertionError(f"{where}: {exc}") from None


def _with_spec(manifest: dict, **changes: Any) -> dict:
    """``manifest`` with spec fields replaced (a value of None removes the field)."""
    spec = {key: value for key, value in (manifest.get("spec") or {}).items() if key not in changes}
    spec.update({key: value for key, value in changes.items() if value is not None})
    return {**manifest, "spec": spec}


def _with_containers(manifest: dict, change) -> dict:
    containers = [change(dict(c)) for c in (manifest.get("spec") or {}).get("containers") or []]
    return _with_spec(manifest, containers=containers)


def _with_requests(container: dict, **requests: str) -> dict:
    current = dict((container.get("resources") or {}).get("requests") or {})
    return {**container, "resources": {"requests": {**current, **requests}}}


def _without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


def _relabelled(manifest: dict) -> dict:
    return {**manifest, "metadata": {**(manifest.get("metadata") or {}), "labels": {"check-plugin": "twin"}}}


HOST_PORT = [{"containerPort": 80, "hostPort": 80}]

# One-part changes to a pod's manifest. A changed copy whose signature is still the pod's must get the
# pod's answers: otherwise the plugin reads a part of the pod its signature leaves out.
POD_CHANGES = {
    "no-requests": lambda m: _with_containers(m, lambda c: {**c, "resources": {}}),
    "more-cpu": lambda m: _with_containers(m, lambda c: _with_requests(c, cpu="3")),
    "no-ports": lambda m: _with_containers(m, lambda c: _without(c, "ports")),
    "host-port": lambda m: _with_containers(m, lambda c: {**c, "ports": HOST_PORT}),
    "no-node-selector": lambda m: _with_spec(m, nodeSelector=None),
    "no-affinity": lambda m: _with_spec(m, affinity=None),
    "tolerates-all": lambda m: _with_spec(m, tolerations=[{"operator": "Exists"}]),
    "no-tolerations": lambda m: _with_spec(m, tolerations=None),
    "priority": lambda m: _with_spec(m, priority=1000, priorityClassName=None),
    "relabelled": _relabelled,
}


def _twins(pods: list[Pod]) -> list[Pod]:
    """Each pod changed in one part of its spec (``POD_CHANGES``), named ``<pod>-<change>``."""
    twins = []
    for pod in pods:
        for label, change in POD_CHANGES.items():
            manifest = change(pod.raw)
            metadata = {**(manifest.get("metadata") or {}), "name": f"{pod.name}-{label}"}
            manifest = {**manifest, "metadata": metadata}
            try:
                twins.append(make_pod(manifest))
            except InputError:  # a change this pod's spec does not allow
                continue
    return twins


@dataclass(frozen=True)
class _Answers:
    """What the loop takes from a plugin for one pod, per node: the Filter verdict (or what PreFilter
    decided for the node instead) and the Score before NormalizeScore."""

    filter: tuple
    score: tuple


def _prepared(plugin: Plugin, cluster: Cluster, pods: list[Pod]):
    state = build_state(cluster, pods)
    columns = state.pod_columns(pods)
    return state, columns, plugin.prepare(state, pods, columns)


def _filter_verdicts(caller: _Caller, nodes, columns, prepared, p: int, count: int) -> tuple:
    kernels = caller.plugin.kernels
    outcome, mask = SUCCESS, np.zeros(max(count, 1), dtype=np.uint8)
    if kernels.pre_filter is not None:
        outcome = int(caller.call("pre_filter", None, nodes, columns, p, prepared, mask))
    verdicts = []
    for n in range(count):
        if outcome > 0:
            verdicts.append(f"PreFilter failure code {outcome}")
        elif outcome == NARROW and not mask[n]:
            verdicts.append("outside the PreFilterResult")
        elif outcome == SKIP or kernels.filter is None:
            verdicts.append("Success")
        else:
            code = int(caller.call("filter", n, nodes, columns, p, n, prepared))
            verdicts.append("Success" if code == SUCCESS else f"failure code {code}")
    return tuple(verdicts)


def _raw_scores(caller: _Caller, nodes, columns, prepared, p: int, count: int) -> tuple:
    kernels = caller.plugin.kernels
    if kernels.score is None:
        return (None,) * count
    feasible = np.arange(count, dtype=np.int64)
    if kernels.pre_score is not None:
        if int(caller.call("pre_score", None, nodes, columns, p, feasible, count, prepared)) == SKIP:
            return ("PreScore Skip",) * count
    return tuple(caller.score(n, nodes, columns, p, n, prepared) for n in range(count))


def _answers(plugin: Plugin, state, columns, prepared, pods: list[Pod], p: int) -> _Answers:
    caller = _Caller(plugin, pods[p], state.node_names, python=False)
    args = (state.nodes, columns, prepared, p, state.num_nodes)
    return _Answers(_filter_verdicts(caller, *args), _raw_scores(caller, *args))


def _signature(plugin: Plugin, pod: Pod, where: str) -> Any:
    signature = plugin.signature(pod)
    try:
        hash(signature)
    except TypeError:
        raise AssertionError(f"{where}: signature of pod {pod.key} is not hashable: {signature!r}") from None
    return signature


def _first_difference(a: _Answers, b: _Answers, nodes: range) -> tuple[str, int] | None:
    """("Filter" or "Score", node row) where two pods' answers first differ, among ``nodes``."""
    for n in nodes:
        if a.filter[n] != b.filter[n]:
            return "Filter", n
        if a.score[n] != b.score[n]:
            return "Score", n
    return None


def _check_equal_signatures(plugin: Plugin, cluster: Cluster, pods: list[Pod], where: str) -> None:
    """Pods with equal signatures get equal answers on every node."""
    state, columns, prepared = _prepared(plugin, cluster, pods)
    first_with: dict[Any, tuple[int, _Answers]] = {}
    for p, pod in enumerate(pods):
        signature = _signature(plugin, pod, where)
        if signature is None:  # never cached
            continue
        answers = _answers(plugin, state, columns, prepared, pods, p)
        if signature not in first_with:
            first_with[signature] = (p, answers)
            continue
        q, expected = first_with[signature]
        difference = _first_difference(expected, answers, range(state.num_nodes))
        if difference:
            what, n = difference
            got, wanted = getattr(answers, what.lower())[n], getattr(expected, what.lower())[n]
            raise AssertionError(
                f"{where}: {BROKEN}: pods {pods[q].key} and {pod.key} have the same signature "
                f"{signature!r} but {what} on node {state.node_names[n]} gives {wanted!r} for {pods[q].key} "
                f"and {got!r} for {pod.key}: the signature leaves out something the kernels read")


def _per_node_entries(plugin: Plugin, cluster: Cluster, pods: list[Pod]) -> list[int]:
    """Positions in the plugin's state of the arrays with a row per node: those one row longer when
    ``prepare`` sees one more node."""
    extra = make_cluster([{"metadata": {"name": "zz-check-plugin-extra-node"},
                           "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}}]).nodes[0]
    bigger = dataclasses.replace(cluster, nodes=list(cluster.nodes) + [extra])
    small, large = _prepared(plugin, cluster, pods)[2], _prepared(plugin, bigger, pods)[2]
    return [i for i, (a, b) in enumerate(zip(small, large))
            if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.ndim and b.ndim
            and b.shape[0] == a.shape[0] + 1]


def _reserve(plugin: Plugin, state, columns, prepared, pods: list[Pod], x: int, m: int) -> None:
    """Pod row ``x`` placed on node ``m`` as the loop places it: the framework's accounting of its
    requests, then the plugin's Reserve."""
    assume(state.nodes, columns, x, m, 1)
    if plugin.kernels.reserve is not None:
        extra = (x,) if takes_pod(plugin.kernels.reserve) else ()  # the pod: its row
        _Caller(plugin, pods[x], state.node_names, python=False).call(
            "reserve", m, state.nodes, columns, x, m, prepared, *extra)


def _check_placement_stays_on_its_node(plugin: Plugin, cluster: Cluster, pods: list[Pod],
                                       where: str) -> None:
    """Placing a pod on node m changes no other node's answers, nor the plugin's rows for other nodes."""
    probes = [p for p, pod in enumerate(pods) if _signature(plugin, pod, where) is not None]
    if not probes or len(cluster.nodes) < 2:
        return
    per_node = _per_node_entries(plugin, cluster, pods)
    for x, placed in enumerate(pods):
        for m in range(len(cluster.nodes)):
            state, columns, prepared = _prepared(plugin, cluster, pods)
            before = {p: _answers(plugin, state, columns, prepared, pods, p) for p in probes}
            # The placed pod's own cycle comes first (its PreFilter may write scratch rows for every node).
            if _answers(plugin, state, columns, prepared, pods, x).filter[m] != "Success":
                continue  # the loop never places it there
            kept = _snapshot(prepared)
            _reserve(plugin, state, columns, prepared, pods, x, m)
            broken = f"{where}: {BROKEN}: after pod {placed.key} is placed on node {state.node_names[m]}"
            _check_other_rows(kept, prepared, per_node, m, state.node_names, broken)
            others = [n for n in range(state.num_nodes) if n != m]
            for p in probes:
                after = _answers(plugin, state, columns, prepared, pods, p)
                difference = _first_difference(before[p], after, others)
                if difference:
                    what, n = difference
                    was, now = getattr(before[p], what.lower())[n], getattr(after, what.lower())[n]
                    raise AssertionError(f"{broken}, {what} of pod {pods[p].key} on node "
                                         f"{state.node_names[n]} changes from {was!r} to {now!r}")


def _check_other_rows(before: tuple, after: tuple, per_node: list[int], m: int, node_names: list[str],
                      broken: str) -> None:
    """The per-node state arrays are unchanged outside row ``m``."""
    for i in per_node:
        changed = [n for n in range(len(node_names))
                   if n != m and not np.array_equal(before[i][n], after[i][n])]
        if changed:
            raise AssertionError(f"{broken}, the plugin's {_entry_name(after, i)} changes in the row of node "
                                 f"{node_names[changed[0]]}")
