"""Properties every schedule from the compiled scheduler must have, whatever the reference says.

For random clusters and batches (the generators of strategies.py): no node ends up over its
allocatable in a resource a placed pod asked for, or over its pod limit; no pod lands on a node whose
NoSchedule/NoExecute taints it does not tolerate, that is cordoned, whose labels fail its nodeSelector
or required node affinity, or whose host ports it would share; explanations keep every normalized score
in 0..100 and every total equal to the weighted sum. Each property is checked only for pods whose
profile enables the plugin that enforces it.

Topology scenarios: no placement violates a required pod affinity or anti-affinity term (the placed pod's
own, or, by symmetry, a running or earlier-placed pod's anti-affinity), and replaying the placements in
queue order, each one passes the reference's PodTopologySpread filter (DoNotSchedule constraints).
"""

from __future__ import annotations

import pytest
from checks import (
    check_topology_invariants,
    fast_explain,
    plugin_enabled,
    scheduler_for,
    topology_plugins_registered,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scenarios, topology_scenarios

from schedkit.objects import PODS
from schedkit.reference import UNSCHEDULABLE_TAINT, any_term_matches, port_conflict, tolerated, tracked

SETTINGS = settings(deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _ignored_by_any_profile(sched, resource: str) -> bool:
    for profile in sched.profiles.values():
        for plugin in profile.plugins:
            if plugin.name == "NodeResourcesFit" and (
                    resource in plugin.ignored_resources or resource.split("/")[0] in plugin.ignored_groups):
                return True
    return False


@SETTINGS
@given(scenarios())
def test_placements_respect_filters(scenario):
    config, cluster, pods, seed = scenario
    sched = scheduler_for(config)
    result = sched.schedule(cluster, pods, seed)
    nodes = {node.name: node for node in cluster.nodes}
    evicted = {e.pod for e in result.evicted}  # preemption's victims left their nodes
    running = {name: [p for p in cluster.pods if p.node_name == name and p.key not in evicted] for name in nodes}
    placed = {name: [] for name in nodes}

    by_key = {a.pod: a for a in result.assignments}
    assert len(by_key) == len(result.assignments) == len(pods)
    for pod in pods:
        assignment = by_key[pod.key]
        assert (assignment.node is None) != (assignment.message is None), assignment
        if assignment.node is None:
            continue
        node = nodes[assignment.node]
        profile = sched.profiles[pod.scheduler_name]
        placed[node.name].append((pod, profile))
        assert not pod.scheduling_gates, f"{pod.key} is gated but was placed"
        if plugin_enabled(profile, "filter", "TaintToleration"):
            for taint in node.taints:
                if taint.effect in ("NoSchedule", "NoExecute"):
                    assert tolerated(pod.tolerations, taint), f"{pod.key} on {node.name} ignores {taint}"
        if plugin_enabled(profile, "filter", "NodeUnschedulable") and node.unschedulable:
            assert tolerated(pod.tolerations, UNSCHEDULABLE_TAINT), f"{pod.key} on cordoned {node.name}"
        if plugin_enabled(profile, "filter", "NodeAffinity"):
            assert all(node.labels.get(k) == v for k, v in pod.node_selector.items()), (pod.key, node.name)
            if pod.node_affinity and pod.node_affinity.required is not None:
                assert any_term_matches(pod.node_affinity.required, node), (pod.key, node.name)
            added = profile.plugins[profile.plugin_index("NodeAffinity")].added
            if added is not None and added.required is not None:
                assert any_term_matches(added.required, node), (pod.key, node.name)

    for name, new in placed.items():
        if not new:
            continue
        node = nodes[name]
        everyone = running[name] + [pod for pod, _ in new]
        assert len(everyone) <= node.allocatable.get(PODS, 0), f"{name}: {len(everyone)} pods"
        asked = {r for pod, _ in new for r, q in pod.requests.items() if q > 0 and tracked(r)}
        for resource in asked:
            if _ignored_by_any_profile(sched, resource):
                continue
            used = sum(pod.requests.get(resource, 0) for pod in everyone)
            assert used <= node.allocatable.get(resource, 0), f"{name}: {resource} {used} > allocatable"
        for k, (pod, profile) in enumerate(new):
            if not plugin_enabled(profile, "filter", "NodePorts"):
                continue
            others = running[name] + [q for j, (q, prof) in enumerate(new)
                                      if j != k and plugin_enabled(prof, "filter", "NodePorts")]
            for other in others:
                for wanted in pod.host_ports:
                    assert not any(port_conflict(wanted, used) for used in other.host_ports), \
                        f"{pod.key} and {other.key} share host port {wanted} on {name}"


@SETTINGS
@given(scenarios(max_pods=3), st.data())
def test_explanations_are_consistent(scenario, data):
    config, cluster, pods, seed = scenario
    sched = scheduler_for(config)
    pod = data.draw(st.sampled_from(pods))
    ex = fast_explain(sched, cluster, pod, seed)
    totals = {}
    for name, node in ex["nodes"].items():
        if node["feasible"]:
            assert node["failedPlugin"] is None and node["reasons"] == [], name
        for plugin, score in node["scores"].items():
            assert 0 <= score["normalized"] <= 100, (name, plugin, score)
            assert score["weight"] >= 1
        if node["totalScore"] is not None:
            assert node["feasible"], name
            assert node["totalScore"] == sum(s["weight"] * s["normalized"] for s in node["scores"].values()), name
            totals[name] = node["totalScore"]
    selected = ex["selectedNode"]
    assert (selected is None) != (ex["message"] is None)
    if selected is not None:
        assert ex["nodes"][selected]["feasible"]
        if totals:
            assert totals[selected] == max(totals.values())


@SETTINGS
@given(scenarios(max_pods=6))
def test_schedule_is_repeatable(scenario):
    """Same cluster, pods and seed (and a fresh start index): the same answer."""
    config, cluster, pods, seed = scenario
    first = [(a.node, a.message) for a in scheduler_for(config).schedule(cluster, pods, seed).assignments]
    second = [(a.node, a.message) for a in scheduler_for(config).schedule(cluster, pods, seed).assignments]
    assert first == second


# --- pod (anti-)affinity and spread constraints (check_topology_invariants) ----------------------------

@pytest.mark.skipif(not topology_plugins_registered(), reason="PodTopologySpread/InterPodAffinity not registered yet")
@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topology_scenarios())
def test_placements_respect_pod_affinity_and_spread(scenario):
    config, cluster, pods, seed = scenario
    sched = scheduler_for(config)
    result = sched.schedule(cluster, pods, seed)
    queued = [(a.pod, a.node) for a in result.assignments if a.queued]
    check_topology_invariants(sched, cluster, pods, queued, {e.pod for e in result.evicted})
