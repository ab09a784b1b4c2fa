"""Tools for plugin authors: run one plugin on one pod, and check a plugin against the framework's rules.

``run_plugin`` calls a plugin's kernels directly, the way upstream's plugin unit tests call a plugin:
PreFilter, then Filter on every node (whatever PreFilter said), PreScore, and Score plus
NormalizeScore on every node. ``check_plugin`` runs a plugin over generated clusters and asserts the
invariants the framework relies on; it raises ``AssertionError`` naming the plugin and what broke.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cluster import Cluster, cluster_from_objects
from .errors import PluginError
from .framework.plugin import NARROW, SKIP, Code, Plugin, is_compiled, python_function, validate_plugin_class
from .manifests import SourcedObject
from .objects import Pod, parse_pod
from .state import build_state


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


def run_plugin(plugin: Plugin, cluster: Cluster, pod: Pod, python: bool = False,
               score_nodes: list[str] | None = None, pre_score: bool = True) -> PluginRun:
    """Run ``plugin``'s kernels for ``pod`` on every node of ``cluster`` (``python``: the plain-Python
    versions of compiled kernels). ``score_nodes``: the nodes PreScore and Score see as feasible
    (default every node). ``pre_score`` False calls Score without PreScore, as some upstream tests do."""
    state = build_state(cluster, [pod])
    columns = state.pod_columns([pod])
    plugin_state = plugin.prepare(state, [pod], columns)
    nodes, kernels, count = state.nodes, plugin.kernels, state.num_nodes
    run = PluginRun()
    if kernels.pre_filter is not None:
        mask = np.zeros(max(count, 1), dtype=np.uint8)
        code = int(_kernel(kernels.pre_filter, python)(nodes, columns, 0, plugin_state, mask))
        if code == SKIP:
            run.pre_filter = ("Skip", [])
        elif code == NARROW:
            run.pre_filter = ("Success", [])
            run.pre_filter_nodes = sorted(state.node_names[n] for n in range(count) if mask[n])
        elif code == 0:
            run.pre_filter = ("Success", [])
        else:
            run.pre_filter = (plugin.status(code).name, plugin.reasons(code))
    if kernels.filter is not None:
        for n, name in enumerate(state.node_names):
            code = int(_kernel(kernels.filter, python)(nodes, columns, 0, n, plugin_state))
            run.filter[name] = ("Success", []) if code == 0 else (plugin.status(code).name, plugin.reasons(code))
    if score_nodes is None:
        feasible = np.arange(count, dtype=np.int64)
    else:
        feasible = np.array([state.node_index[name] for name in score_nodes], dtype=np.int64)
    if kernels.pre_score is not None and pre_score:
        code = int(_kernel(kernels.pre_score, python)(nodes, columns, 0, feasible, len(feasible), plugin_state))
        run.pre_score = "Skip" if code == SKIP else "Success"
    if kernels.score is not None and run.pre_score != "Skip":
        raw = np.array([_kernel(kernels.score, python)(nodes, columns, 0, n, plugin_state) for n in feasible],
                       dtype=np.int64)
        scores = raw.copy()
        if kernels.normalize is not None:
            _kernel(kernels.normalize, python)(nodes, columns, 0, feasible, scores, len(feasible), plugin_state)
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


def check_plugin(plugin: type[Plugin] | Plugin, args: dict | None = None, examples: int = 30, seed: int = 0) -> None:
    """Check a plugin against the framework's invariants on generated clusters.

    Checks: it registers (valid kernels and signatures); ``prepare`` returns a tuple; Filter codes are
    non-negative and decode to reason strings; PreFilter returns SUCCESS, SKIP, NARROW or a decodable
    code; Score is an integer and NormalizeScore leaves every score in [0, 100]; kernels give the same
    answer twice; compiled kernels agree with their Python versions; Reserve followed by Unreserve
    leaves the plugin's state as it was.
    """
    cls = plugin if isinstance(plugin, type) else type(plugin)
    try:
        validate_plugin_class(cls)
    except PluginError as exc:
        raise AssertionError(str(exc)) from None
    instance = plugin if isinstance(plugin, Plugin) else cls(args or {})
    name = cls.name
    rng = random.Random(seed)
    for example in range(examples):
        cluster, pods = random_cluster(rng)
        for pod in pods:
            where = f"plugin {name}, example {example}, pod {pod.key}"
            state = build_state(cluster, [pod])
            prepared = instance.prepare(state, [pod], state.pod_columns([pod]))
            if not isinstance(prepared, tuple):
                raise AssertionError(f"{where}: prepare must return a tuple, got {type(prepared).__name__}")
            first = run_plugin(instance, cluster, pod)
            again = run_plugin(instance, cluster, pod)
            if first != again:
                raise AssertionError(f"{where}: kernels are not deterministic: {first} != {again}")
            if any(is_compiled(k) for _, k in cls.kernels.items()):
                python = run_plugin(instance, cluster, pod, python=True)
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


def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_snapshot(v) for v in value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _check_reserve(plugin: Plugin, cluster: Cluster, pod: Pod, where: str) -> None:
    state = build_state(cluster, [pod])
    columns = state.pod_columns([pod])
    prepared = plugin.prepare(state, [pod], columns)
    for n in range(state.num_nodes):
        before = _snapshot(prepared)
        plugin.kernels.reserve(state.nodes, columns, 0, n, prepared)
        plugin.kernels.unreserve(state.nodes, columns, 0, n, prepared)
        if not _same(before, prepared):
            raise AssertionError(f"{where}: Unreserve did not undo Reserve on node {state.node_names[n]}")
