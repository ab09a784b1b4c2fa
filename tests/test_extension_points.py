"""Which extension points each built-in plugin accepts in a configuration, and what a cycle does when a
plugin's Filter or Score runs without the state its PreFilter or PreScore writes.

The table is transcribed from the ``var _ fwk.XPlugin = &Plugin{}`` assertions of each upstream v1.36
plugin (kubernetes/kubernetes, pkg/scheduler/framework/plugins/<file>); EnqueueExtensions and
SignPlugin are not configuration points and are left out.
"""

from __future__ import annotations

import pytest

from schedkit.errors import InputError
from schedkit.framework.config import CONFIG_POINTS, parse_config
from schedkit.framework.profile import POINT_INTERFACES
from schedkit.framework.registry import default_registry
from schedkit.plugins import BUILTIN_PLUGINS, GPU_PLUGINS
from schedkit.framework.scheduler import Scheduler
from schedkit.testing import make_cluster, make_pod

BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}

# plugin -> (upstream file under pkg/scheduler/framework/plugins/, the points its assertions name)
UPSTREAM_POINTS = {
    "SchedulingGates": ("schedulinggates/scheduling_gates.go", {"preEnqueue"}),
    "PrioritySort": ("queuesort/priority_sort.go", {"queueSort"}),
    "NodeUnschedulable": ("nodeunschedulable/node_unschedulable.go", {"filter"}),
    "NodeName": ("nodename/node_name.go", {"filter"}),
    "TaintToleration": ("tainttoleration/taint_toleration.go", {"filter", "preScore", "score"}),
    "NodeAffinity": ("nodeaffinity/node_affinity.go", {"preFilter", "filter", "preScore", "score"}),
    "NodePorts": ("nodeports/node_ports.go", {"preFilter", "filter"}),
    "NodeResourcesFit": ("noderesources/fit.go", {"preFilter", "filter", "preScore", "score"}),
    "NodeResourcesBalancedAllocation": ("noderesources/balanced_allocation.go", {"preScore", "score"}),
    "PodTopologySpread": ("podtopologyspread/plugin.go", {"preFilter", "filter", "preScore", "score"}),
    "InterPodAffinity": ("interpodaffinity/plugin.go", {"preFilter", "filter", "preScore", "score"}),
    "ImageLocality": ("imagelocality/image_locality.go", {"score"}),
    "DefaultPreemption": ("defaultpreemption/default_preemption.go", {"preEnqueue", "postFilter"}),
    "DefaultBinder": ("defaultbinder/default_binder.go", {"bind"}),
}


def test_the_table_covers_every_built_in_plugin():
    # The registry also holds the GPU-sharing plugins, which are not upstream's (tests/test_gpu_*.py).
    assert set(UPSTREAM_POINTS) == {cls.name for cls in BUILTIN_PLUGINS}
    assert set(default_registry().names()) == set(UPSTREAM_POINTS) | {cls.name for cls in GPU_PLUGINS}


@pytest.mark.parametrize("plugin", sorted(UPSTREAM_POINTS))
def test_a_plugin_declares_exactly_upstreams_points(plugin):
    assert set(default_registry().get(plugin).extension_points()) == UPSTREAM_POINTS[plugin][1]


@pytest.mark.parametrize("plugin, point", [(plugin, point) for plugin in sorted(UPSTREAM_POINTS)
                                           for point in CONFIG_POINTS])
def test_a_configuration_may_enable_a_plugin_exactly_where_upstream_does(plugin, point):
    config = parse_config({**BASE, "profiles": [{"plugins": {point: {"enabled": [{"name": plugin}]}}}]}, "c.yaml")
    if point in UPSTREAM_POINTS[plugin][1]:
        Scheduler(config)
        return
    with pytest.raises(InputError) as info:
        Scheduler(config)
    assert f'plugin "{plugin}" does not extend {POINT_INTERFACES[point]} plugin' in str(info.value)


def _scheduler(plugins: dict) -> Scheduler:
    return Scheduler(parse_config({**BASE, "profiles": [{"plugins": plugins}]}, "c.yaml"))


def _node(name: str, cpu: str = "4", **spec) -> dict:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "zone": name}},
            "spec": spec, "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}}


def _pod(name: str = "p", cpu: str | None = "1", **spec) -> dict:
    resources = {"requests": {"cpu": cpu}} if cpu else {}
    return {"metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "resources": resources}], **spec}}


NOT_AT_PRESCORE = {  # plugin -> upstream's getPreScoreState error text (the Score file beside it)
    "TaintToleration": 'failed to read "PreScoreTaintToleration" from cycleState: not found',
    "PodTopologySpread": 'error reading "PreScorePodTopologySpread" from cycleState: not found',
    "InterPodAffinity": 'failed to read "PreScoreInterPodAffinity" from cycleState: not found',
}


@pytest.mark.parametrize("plugin", sorted(NOT_AT_PRESCORE))
def test_score_without_its_prescore_state_fails_the_cycle_with_upstreams_error(plugin):
    # multiPoint disables the plugin everywhere; score.enabled turns it back on at Score only.
    scheduler = _scheduler({"multiPoint": {"disabled": [{"name": plugin}]},
                            "score": {"enabled": [{"name": plugin}]}})
    expected = f'running Score plugins: plugin "{plugin}" failed with: {NOT_AT_PRESCORE[plugin]}'
    cluster = make_cluster([_node("a"), _node("b")])
    explanation = scheduler.explain(cluster, make_pod(_pod()))
    assert explanation.selected_node is None
    assert explanation.message == expected
    assert explanation.cycle_error
    assert all(node.feasible and node.scores == {} for node in explanation.nodes)
    result = scheduler.schedule(cluster, [make_pod(_pod("p1")), make_pod(_pod("p2"))])
    assert [(a.node, a.message) for a in result.assignments] == [(None, expected), (None, expected)]


def test_score_without_prescore_state_is_not_reached_with_one_feasible_node():
    # schedule_one.go: a single feasible node is chosen without running PreScore or Score.
    scheduler = _scheduler({"preScore": {"disabled": [{"name": "TaintToleration"}]}})
    cluster = make_cluster([_node("a"), _node("b", cpu="500m")])
    result = scheduler.schedule(cluster, [make_pod(_pod())])
    assert [(a.node, a.message) for a in result.assignments] == [("a", None)]
    explanation = scheduler.explain(cluster, make_pod(_pod()))
    assert explanation.selected_node == "a" and not explanation.cycle_error


def test_the_first_score_plugin_without_its_state_names_the_error():
    scheduler = _scheduler({"preScore": {"disabled": [{"name": "*"}]}})
    result = scheduler.schedule(make_cluster([_node("a"), _node("b")]), [make_pod(_pod())])
    assert result.assignments[0].message == ('running Score plugins: plugin "TaintToleration" failed with: '
                                              + NOT_AT_PRESCORE["TaintToleration"])


def test_plugins_whose_score_computes_its_state_keep_working_without_prescore():
    # fit.go, balanced_allocation.go and node_affinity.go compute the PreScore state in Score when it is
    # missing; BalancedAllocation then scores a best-effort pod 0 instead of being skipped, and
    # NodeAffinity scores 0 everywhere for a pod without preferred terms.
    default = Scheduler()
    without = _scheduler({"preScore": {"disabled": [{"name": "NodeResourcesFit"},
                                                    {"name": "NodeResourcesBalancedAllocation"},
                                                    {"name": "NodeAffinity"}]}})
    cluster = make_cluster([_node("a"), _node("b", cpu="8")],
                           [{**_pod("running", cpu="3"), "spec": {**_pod(cpu="3")["spec"], "nodeName": "a"}}])
    for pod, skipped_by_default in ((_pod(), {"NodeAffinity"}),
                                    (_pod(cpu=None), {"NodeAffinity", "NodeResourcesBalancedAllocation"})):
        want = default.explain(cluster, make_pod(pod))
        got = without.explain(cluster, make_pod(pod))
        assert got.selected_node == want.selected_node and not got.cycle_error
        assert skipped_by_default <= set(want.skipped_score_plugins)
        assert not skipped_by_default & set(got.skipped_score_plugins)
        for g, w in zip(got.nodes, want.nodes):
            assert g.scores["NodeResourcesFit"] == w.scores["NodeResourcesFit"]
            for plugin in ("NodeResourcesBalancedAllocation", "NodeAffinity"):
                if plugin in skipped_by_default:
                    assert g.scores[plugin]["raw"] == g.scores[plugin]["normalized"] == 0
                else:
                    assert g.scores[plugin] == w.scores[plugin]


NOT_AT_PREFILTER = {  # plugin -> upstream's getPreFilterState error text
    "NodeResourcesFit": 'error reading "PreFilterNodeResourcesFit" from cycleState: not found',
    "NodePorts": 'reading "PreFilterNodePorts" from cycleState: not found',
}


@pytest.mark.parametrize("plugin", sorted(NOT_AT_PREFILTER))
def test_filter_without_its_prefilter_state_fails_the_cycle_with_upstreams_error(plugin):
    scheduler = _scheduler({"preFilter": {"disabled": [{"name": plugin}]}})
    expected = f'running "{plugin}" filter plugin: {NOT_AT_PREFILTER[plugin]}'
    cluster = make_cluster([_node("a"), _node("b")])
    result = scheduler.schedule(cluster, [make_pod(_pod())])
    assert [(a.node, a.message) for a in result.assignments] == [(None, expected)]
    explanation = scheduler.explain(cluster, make_pod(_pod()))
    assert explanation.cycle_error and explanation.message == expected
    assert {(node.failed_plugin, node.status) for node in explanation.nodes} == {(plugin, "Error")}
    # A node rejected by an earlier Filter plugin never reaches it: only the ordinary FitError remains.
    cordoned = make_cluster([_node("a", unschedulable=True)])
    message = scheduler.schedule(cordoned, [make_pod(_pod())]).assignments[0].message
    assert message == ("0/1 nodes are available: 1 node(s) were unschedulable. no new claims to deallocate, "
                       "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")


def test_disabling_every_reserve_plugin_keeps_the_caches_port_bookkeeping():
    # No modelled plugin is a Reserve plugin upstream; NodePorts' used-port table is the cache's
    # NodeInfo.UsedPorts, updated on assume whatever the reserve list holds.
    scheduler = _scheduler({"reserve": {"disabled": [{"name": "*"}]}})
    ports = {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]}
    pods = [make_pod({"metadata": {"name": f"p{i}", "namespace": "default"}, "spec": ports}) for i in range(3)]
    result = scheduler.schedule(make_cluster([_node("a"), _node("b")]), pods)
    assert sorted(a.node or "-" for a in result.assignments) == ["-", "a", "b"]
    assert "node(s) didn't have free ports for the requested pod ports" in result.assignments[2].message


@pytest.mark.parametrize("plugins, expected", [
    ({"preScore": {"disabled": [{"name": "TaintToleration"}]}},
     'running Score plugins: plugin "TaintToleration" failed with: ' + NOT_AT_PRESCORE["TaintToleration"]),
    ({"preFilter": {"disabled": [{"name": "NodeResourcesFit"}]}},
     'running "NodeResourcesFit" filter plugin: ' + NOT_AT_PREFILTER["NodeResourcesFit"]),
], ids=["score", "filter"])
def test_replay_reports_the_error_of_a_cycle_without_pre_state(tmp_path, plugins, expected):
    import pandas as pd

    from schedkit.replay.engine import replay
    from schedkit.replay.reference import reference_replay
    from schedkit.traces import load_trace

    pd.DataFrame([{"name": "n1", "cpu": "4", "memory": "1Gi"}, {"name": "n2", "cpu": "4", "memory": "1Gi"}]
                 ).to_csv(tmp_path / "nodes.csv", index=False)
    # Two pods of one shape: the second's cycle may reuse the first's per-signature Filter verdicts.
    pd.DataFrame([{"name": "a", "arrival": 0, "duration": 10, "cpu": "1", "memory": "100Mi"},
                  {"name": "b", "arrival": 1, "duration": 10, "cpu": "1", "memory": "100Mi"}]
                 ).to_csv(tmp_path / "pods.csv", index=False)
    workload, _ = load_trace(str(tmp_path))
    result = replay(_scheduler(plugins), workload)
    assert result.messages == [expected, expected]
    assert list(reference_replay(_scheduler(plugins), workload)["messages"]) == [expected, expected]


def test_explain_output_says_the_cycle_ended_with_an_error():
    from schedkit.output import explanation_json, explanation_table

    scheduler = _scheduler({"preScore": {"disabled": [{"name": "TaintToleration"}]}})
    explanation = scheduler.explain(make_cluster([_node("a"), _node("b")]), make_pod(_pod()))
    expected = 'running Score plugins: plugin "TaintToleration" failed with: ' + NOT_AT_PRESCORE["TaintToleration"]
    table = explanation_table(explanation)
    assert f"Error: {expected}" in table.splitlines()
    # The feasible nodes were not scored because the cycle failed, not because of percentageOfNodesToScore.
    assert "percentageOfNodesToScore" not in table
    assert table.count("not scored: the cycle failed (Error below)") == 2
    data = explanation_json(explanation)
    assert data["cycleError"] is True and data["message"] == expected and data["selectedNode"] is None
