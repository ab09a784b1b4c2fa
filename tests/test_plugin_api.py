"""The plugin author's API: registration checks, compiled and plain-Python plugins, the documented
example plugin, entry points and schedkit.testing.check_plugin."""

from __future__ import annotations

import importlib.metadata
import os
import sys

import numpy as np
import pytest

from schedkit import Kernels, Plugin, PluginError
from schedkit.framework import registry as registry_module
from schedkit.framework.config import parse_config
from schedkit.framework.plugin import kernel
from schedkit.framework.registry import Registry
from schedkit.framework.scheduler import Scheduler
from schedkit.plugins import BUILTIN_PLUGINS
from schedkit.testing import check_plugin, make_cluster, make_pod

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
sys.path.insert(0, DOCS)
from example_plugin import PreferCheapNodes  # noqa: E402

BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}


def cost_cluster():
    nodes = [
        {"metadata": {"name": name, "labels": labels}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}}
        for name, labels in [
            ("cheap", {"example.com/hourly-cost": "10"}),
            ("pricey", {"example.com/hourly-cost": "90"}),
            ("retired", {"example.com/hourly-cost": "1", "example.com/retiring": "true"}),
        ]
    ]
    return make_cluster(nodes)


def pod(name="p", cpu="100m"):
    return make_pod({"metadata": {"name": name, "namespace": "default"},
                     "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}})


def cheap_config(weight=5):
    return parse_config({**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": [
        {"name": "PreferCheapNodes", "weight": weight}]}}}]})


def test_the_documented_example_plugin_filters_scores_and_explains():
    scheduler = Scheduler(cheap_config(), Registry.with_builtins(PreferCheapNodes))
    explanation = scheduler.explain(cost_cluster(), pod())
    by_name = {node.name: node for node in explanation.nodes}
    assert by_name["retired"].failed_plugin == "PreferCheapNodes"
    assert by_name["retired"].reasons == ["node(s) are retiring"]
    # Raw scores are the costs; NormalizeScore maps them to 100 - 100*cost/max.
    assert by_name["cheap"].scores["PreferCheapNodes"] == {"raw": 10, "normalized": 89, "weight": 5}
    assert by_name["pricey"].scores["PreferCheapNodes"] == {"raw": 90, "normalized": 0, "weight": 5}
    assert explanation.selected_node == "cheap"


def busy_cluster():
    """Nodes that differ in labels, a taint, an image, a cordon and a used host port, and pending pods that
    request resources, host ports, images, node selectors and tolerations: every node-local built-in has
    answers here that a placement could wrongly change on another node."""
    allocatable = {"cpu": "4", "memory": "8Gi", "pods": "3"}
    nodes = [
        {"metadata": {"name": "n0", "labels": {"zone": "a"}}, "status": {
            "allocatable": allocatable, "images": [{"names": ["web:1"], "sizeBytes": 500_000_000}]}},
        {"metadata": {"name": "n1", "labels": {"zone": "b"}}, "spec": {"taints": [
            {"key": "dedicated", "value": "x", "effect": "NoSchedule"}]}, "status": {"allocatable": allocatable}},
        {"metadata": {"name": "n2", "labels": {"zone": "a"}}, "spec": {"unschedulable": True},
         "status": {"allocatable": allocatable}},
        {"metadata": {"name": "n3", "labels": {"zone": "b"}}, "status": {"allocatable": allocatable}},
    ]

    def manifest(name, node="", cpu="500m", **spec):
        container = {"name": "c", "image": "web:1", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}
        if spec.pop("port", False):
            container["ports"] = [{"containerPort": 80, "hostPort": 80}]
        return {"metadata": {"name": name, "namespace": "default"},
                "spec": {"containers": [container], **({"nodeName": node} if node else {}), **spec}}

    pods = [manifest("running", node="n0", port=True), manifest("ports", port=True),
            manifest("zone-a", cpu="3", nodeSelector={"zone": "a"}),
            manifest("tolerant", tolerations=[{"key": "dedicated", "operator": "Exists"}])]
    return make_cluster(nodes, pods)


NODE_LOCAL_BUILTINS = {"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
                       "NodeResourcesFit", "NodeResourcesBalancedAllocation", "ImageLocality"}


def test_check_plugin_accepts_every_builtin_and_the_example():
    # The node-local ones are held to that promise too, on busy_cluster as well as on generated clusters.
    assert {cls.name for cls in BUILTIN_PLUGINS if cls.node_local} == NODE_LOCAL_BUILTINS
    for cls in (*BUILTIN_PLUGINS, PreferCheapNodes):
        if cls.kernels.items():
            check_plugin(cls, examples=8, clusters=[busy_cluster()] if cls.node_local else None)


class UnknownEvent(Plugin):
    name = "UnknownEvent"
    kernels = Kernels(filter=lambda nodes, pods, p, n, state: 0)
    requeue_events = ("node_add", "pod_update")


def test_an_unknown_requeue_event_fails_registration_and_check_plugin():
    message = ("plugin UnknownEvent: `requeue_events` names unknown event(s) 'pod_update'; "
               "the events a replay knows are pod_delete, pod_add, node_add")
    with pytest.raises(AssertionError) as raised:
        check_plugin(UnknownEvent, examples=2)
    assert str(raised.value) == message
    with pytest.raises(PluginError) as raised:
        Registry().register(UnknownEvent)
    assert str(raised.value) == message
    # ("node_add") without its comma is a string, not a tuple of one event.
    no_comma = type("NoComma", (UnknownEvent,), {"name": "NoComma", "requeue_events": ("node_add")})
    with pytest.raises(AssertionError, match="`requeue_events` must be None or a tuple of event names, got 'node_add'"):
        check_plugin(no_comma, examples=2)
    declared = type("Declared", (UnknownEvent,), {"name": "Declared", "requeue_events": ("node_add",)})
    check_plugin(declared, examples=2)


class OutOfRange(Plugin):
    name = "OutOfRange"

    @staticmethod
    def _score(nodes, pods, p, n, state):
        return 250

    kernels = Kernels(score=_score)


def test_check_plugin_reports_a_score_outside_0_100():
    with pytest.raises(AssertionError, match="outside \\[0, 100\\]"):
        check_plugin(OutOfRange, examples=2)


def test_the_framework_rejects_a_score_outside_0_100_like_upstream():
    scheduler = Scheduler(parse_config({**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": [
        {"name": "OutOfRange"}]}}}]}), Registry.with_builtins(OutOfRange))
    with pytest.raises(PluginError, match='plugin "OutOfRange" returns an invalid score 250'):
        scheduler.schedule(cost_cluster(), [pod()])


@kernel
def _cost_score(nodes, pods, p, n, state):
    v = nodes.label_value[n, state[0][0]]
    return nodes.value_int[v] if v >= 0 else 0


@kernel
def _times_twenty(nodes, pods, p, feasible, scores, count, state):
    for j in range(count):
        scores[j] = scores[j] * 20  # cheap 200, pricey 1800, retired 20


class CostTimesTwenty(Plugin):
    """A compiled, node-local plugin whose NormalizeScore leaves two of three nodes above 100."""

    name = "CostTimesTwenty"
    node_local = True
    kernels = Kernels(score=_cost_score, normalize=_times_twenty)

    def signature(self, pod):
        return ()

    def prepare(self, cluster, pods, pod_columns):
        return (np.array([cluster.label_keys("example.com/hourly-cost")], dtype=np.int64),)


@pytest.mark.parametrize("node_local", [True, False])
def test_the_compiled_loop_reports_the_first_node_out_of_range_after_normalizing(node_local):
    """Upstream (framework.go RunScorePlugins) checks the normalized scores node by node in the feasible
    list's order and fails at the first one outside [0, 100]: cheap's 200, not pricey's 1800."""
    cls = type("CostTimesTwenty", (CostTimesTwenty,), {"node_local": node_local})
    # The plugin alone (the default plugins disabled): a small loop, compiled in seconds.
    scheduler = Scheduler(parse_config({**BASE, "profiles": [{"plugins": {"multiPoint": {
        "enabled": [{"name": "PrioritySort"}, {"name": "DefaultBinder"}, {"name": "CostTimesTwenty"}],
        "disabled": [{"name": "*"}]}}}]}), Registry.with_builtins(cls))
    with pytest.raises(PluginError, match='plugin "CostTimesTwenty" returns an invalid score 200,'):
        result = scheduler.schedule(cost_cluster(), [pod()])
        assert result.compiled


def _python_twin(cls):
    """The same plugin with plain-Python kernels."""
    kernels = Kernels(**{name: kernel.py_func for name, kernel in cls.kernels.items()})
    return type(cls.__name__ + "Py", (cls,), {"kernels": kernels})


def test_plain_python_plugins_run_the_same_cycle_and_agree_with_compiled_ones():
    PyCheap = _python_twin(PreferCheapNodes)
    PyCheap.name = "PreferCheapNodes"
    cluster = cost_cluster()
    pods = [pod(f"p{i}", cpu=f"{500 * (i % 3 + 1)}m") for i in range(12)]
    compiled = Scheduler(cheap_config(), Registry.with_builtins(PreferCheapNodes)).schedule(cluster, pods, seed=3)
    python_scheduler = Scheduler(cheap_config(), Registry.with_builtins(PyCheap))
    python = python_scheduler.schedule(cluster, pods, seed=3)
    assert compiled.compiled and not python.compiled
    assert [(a.node, a.message) for a in python.assignments] == [(a.node, a.message) for a in compiled.assignments]
    assert any(a.message for a in compiled.assignments)  # the cluster fills up: messages are compared too


class Broken(Plugin):
    name = "Broken"


def test_registration_errors_name_the_plugin_and_the_problem():
    registry = Registry()
    with pytest.raises(PluginError, match="plugin Broken: implements no extension point"):
        registry.register(Broken)

    def two_args(nodes, pods):
        return 0

    bad_arity = type("BadArity", (Plugin,), {"name": "BadArity", "kernels": Kernels(filter=two_args)})
    with pytest.raises(PluginError, match=r"plugin BadArity: kernel filter\(nodes, pods\) must take 5 arguments"):
        registry.register(bad_arity)
    no_name = type("NoName", (Plugin,), {"kernels": Kernels(filter=lambda nodes, pods, p, n, state: 0)})
    with pytest.raises(PluginError, match="must set a non-empty `name`"):
        registry.register(no_name)
    reserve_only = type("ReserveOnly", (Plugin,), {"name": "ReserveOnly",
                                                   "kernels": Kernels(reserve=lambda nodes, pods, p, n, state: None)})
    with pytest.raises(PluginError, match="reserve and unreserve must be implemented together"):
        registry.register(reserve_only)
    registry.register(PreferCheapNodes)
    clone = type("Clone", (PreferCheapNodes,), {})
    with pytest.raises(PluginError, match="plugin PreferCheapNodes: a plugin with this name is already registered"):
        registry.register(clone)
    with pytest.raises(PluginError, match="must be a subclass of schedkit.Plugin"):
        registry.register(object)


def _install_dist(tmp_path, monkeypatch, entry_points: str, name: str = "acme-plugins"):
    """A package's installed metadata (a .dist-info folder) on sys.path, declaring ``entry_points``."""
    info = tmp_path / f"{name.replace('-', '_')}-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text("[schedkit.plugins]\n" + entry_points)
    monkeypatch.syspath_prepend(str(tmp_path))


def _fresh_default_registry(monkeypatch) -> Registry:
    """The built-in plugins and the entry points on sys.path now (the default registry, made anew)."""
    monkeypatch.setattr(registry_module, "_default", None)
    return registry_module.default_registry()


def _config_naming(name):
    return parse_config({**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": name}]}}}]})


def test_plugins_from_the_entry_point_group_are_registered(tmp_path, monkeypatch):
    _install_dist(tmp_path, monkeypatch, "PreferCheapNodes = example_plugin:PreferCheapNodes\n")
    registry = _fresh_default_registry(monkeypatch)
    assert "PreferCheapNodes" in registry
    scheduler = Scheduler(cheap_config(), registry)
    assert scheduler.explain(cost_cluster(), pod()).selected_node == "cheap"


def test_a_broken_entry_point_breaks_only_the_configurations_that_name_it(tmp_path, monkeypatch, capsys):
    _install_dist(tmp_path, monkeypatch, "Nope = no_such_module:Plugin\n"
                                         "PreferCheapNodes = example_plugin:PreferCheapNodes\n")
    registry = _fresh_default_registry(monkeypatch)
    # The default profile, and one naming a working plugin of the same package: no error, no warning.
    assert Scheduler(None, registry).schedule(cost_cluster(), [pod()]).scheduled == 1
    assert Scheduler(cheap_config(), registry).schedule(cost_cluster(), [pod()]).scheduled == 1
    assert capsys.readouterr().err == ""
    # A configuration naming it: one error naming the entry point and the package.
    with pytest.raises(PluginError, match=r'^entry point "Nope" \(no_such_module:Plugin\) of package acme-plugins 1.2: '
                                          r"cannot be loaded: ModuleNotFoundError: No module named 'no_such_module'$"):
        Scheduler(_config_naming("Nope"), _fresh_default_registry(monkeypatch))


def test_an_unknown_name_skips_broken_entry_points_with_one_warning_line(tmp_path, monkeypatch, capsys):
    # A package may name its entry point freely when it provides several plugins from one callable;
    # a name no entry point carries loads the others, and the broken ones are skipped with a warning.
    _install_dist(tmp_path, monkeypatch, "nope = no_such_module:Plugin\nalso-broken = no_such_module:Other\n"
                                         "cheap = example_plugin:PreferCheapNodes\n")
    registry = _fresh_default_registry(monkeypatch)
    assert "PreferCheapNodes" in registry
    assert "Missing" not in registry
    assert "Missing" not in registry
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith('schedkit: warning: skipped a plugin that cannot be loaded (and 1 more): entry point "')
    assert "of package acme-plugins 1.2: cannot be loaded: ModuleNotFoundError" in err


def test_an_entry_point_named_after_another_plugin_is_reported(monkeypatch):
    wrong = importlib.metadata.EntryPoint(name="Cheap", value="example_plugin:PreferCheapNodes",
                                          group="schedkit.plugins")
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [wrong])
    with pytest.raises(PluginError, match='entry point "Cheap" .*: provides PreferCheapNodes, not Cheap'):
        "Cheap" in Registry()


def test_the_cli_reports_a_broken_plugin_the_configuration_names_in_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from schedkit.cli import main

    _install_dist(tmp_path, monkeypatch, "Nope = no_such_module:Plugin\n")
    monkeypatch.setattr(registry_module, "_default", None)
    config = tmp_path / "config.yaml"
    config.write_text("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                      "profiles:\n- plugins: {multiPoint: {enabled: [{name: Nope}]}}\n")
    examples = os.path.join(os.path.dirname(DOCS), "examples")
    args = ["explain", "--cluster", os.path.join(examples, "cluster.yaml"), "--pod", os.path.join(examples, "pod.yaml")]
    result = CliRunner().invoke(main, args + ["--config", str(config)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert 'entry point "Nope" (no_such_module:Plugin) of package acme-plugins 1.2: cannot be loaded' in result.output
    monkeypatch.setattr(registry_module, "_default", None)
    assert CliRunner().invoke(main, args).exit_code == 0  # the default profile does not name it


def test_reserve_updates_plugin_owned_state_between_pods_in_a_batch():
    # NodePorts owns the used-ports table: the second pod wanting hostPort 80 cannot share a node.
    nodes = [{"metadata": {"name": f"n{i}"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}}
             for i in range(2)]
    cluster = make_cluster(nodes)
    pods = [make_pod({"metadata": {"name": f"web-{i}"}, "spec": {"containers": [
        {"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]}}) for i in range(3)]
    result = Scheduler().schedule(cluster, pods)
    placed = [a.node for a in result.assignments]
    assert sorted(placed[:2]) == ["n0", "n1"]
    assert placed[2] is None
    assert result.assignments[2].message == (
        "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. no new claims to "
        "deallocate, preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.")


def test_batch_state_is_not_left_changed_in_the_cluster_objects():
    cluster = cost_cluster()
    before = [dict(node.allocatable) for node in cluster.nodes]
    Scheduler().schedule(cluster, [pod(f"p{i}") for i in range(5)])
    assert [dict(node.allocatable) for node in cluster.nodes] == before
    assert np.all([len(cluster.running_pods) == 0])


REJECT_N0 = 1


def _permit(nodes, pods, p, n, state):
    return REJECT_N0 if n == state[0][0] else 0


def _post_filter(nodes, pods, p, state):
    return state[0][0]  # nominate that node


class RejectFirstNode(Plugin):
    """Permit rejects the node in row 0; PostFilter nominates it (plain-Python kernels)."""

    name = "RejectFirstNode"
    kernels = Kernels(permit=_permit, post_filter=_post_filter)
    reason_table = {REJECT_N0: "node n0 is reserved for someone else"}

    def prepare(self, cluster, pods, pod_columns):
        return (np.array([cluster.node_index["n0"]], dtype=np.int64),)


def test_permit_rejection_unreserves_and_reports_like_upstream():
    nodes = [{"metadata": {"name": "n0"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}},
             {"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "1", "memory": "8Gi", "pods": "10"}}}]
    config = parse_config({**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "RejectFirstNode"}]}}}]})
    scheduler = Scheduler(config, Registry.with_builtins(RejectFirstNode))
    pods = [make_pod({"metadata": {"name": f"p{i}"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": "2"}}}]}}) for i in range(3)]
    result = scheduler.schedule(make_cluster(nodes), pods)
    # Only n0 fits 2 cpu; Permit rejects it each time, and the rejected pod's cpu is given back, so
    # every pod sees n0 empty again.
    assert [a.node for a in result.assignments] == [None, None, None]
    assert {a.message for a in result.assignments} == {"0/1 nodes are available: node n0 is reserved for someone else."}
    # With a 1-cpu pod, n1 also fits; a Permit rejection of n0 does not affect a pod that lands on n1.
    small = make_pod({"metadata": {"name": "small"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": "500m", "memory": "6Gi"}}}]}})
    too_big = make_pod({"metadata": {"name": "big"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": "8"}}}]}})
    result = scheduler.schedule(make_cluster(nodes), [too_big, small])
    by_pod = {a.pod: a for a in result.assignments}
    assert by_pod["default/big"].nominated_node == "n0"  # PostFilter ran for the pod that fit nowhere
    assert by_pod["default/big"].message == "0/2 nodes are available: 2 Insufficient cpu."
