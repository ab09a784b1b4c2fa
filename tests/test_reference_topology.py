"""The reference's PodTopologySpread and InterPodAffinity against upstream's unit-test tables.

Runs schedkit.reference's plugin-level functions (pts_* and ipa_*) on every case of
tests/upstream_tables/{pod_topology_spread,inter_pod_affinity}_{filter,score}.yaml, with the tables'
extensions (namespaces, objects, args, scoreNodes, preFilterCounts, preScoreState; see each file's
header). Nothing here touches the fast path: the tables check the reference itself, so the
differential tests compare the fast path with something that is known to agree with upstream.

Then the reference's whole cycle with both plugins in the profile (stand-in plugin classes until the real
ones are registered): its schedules of generated topology scenarios keep the pod (anti-)affinity and
spread invariants the fast path's keep in tests/test_invariants.py (checks.check_topology_invariants), and
its explanations are well formed.
"""

from __future__ import annotations

import os

import pytest
import yaml
from checks import check_topology_invariants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import TOPOLOGY_CONFIGS, topology_scenarios

from schedkit import reference as ref
from schedkit.cluster import cluster_from_objects
from schedkit.framework.config import parse_config
from schedkit.framework.plugin import Kernels, Plugin
from schedkit.framework.registry import Registry
from schedkit.framework.scheduler import Scheduler
from schedkit.manifests import SourcedObject
from schedkit.objects import parse_pod
from schedkit.preemption.batch import schedule_with_preemption
from schedkit.reference import reference_explain
from schedkit.state import snapshot_order

TABLES = os.path.join(os.path.dirname(__file__), "upstream_tables")
FILES = ["pod_topology_spread_filter.yaml", "pod_topology_spread_score.yaml",
         "inter_pod_affinity_filter.yaml", "inter_pod_affinity_score.yaml"]

# Cases the reference cannot pass, with why (strict xfail: they must keep failing, or be removed here).
KNOWN_FAILURES: dict[tuple[str, str], str] = {}

CODES = {"skip": "Skip", "ok": "Success", "reject": "UnschedulableAndUnresolvable", "error": "Error"}
FILTER_CODES = {ref.R_SPREAD: "Unschedulable", ref.R_SPREAD_LABEL: "UnschedulableAndUnresolvable",
                ref.R_POD_AFFINITY: "UnschedulableAndUnresolvable", ref.R_POD_ANTI_AFFINITY: "Unschedulable",
                ref.R_EXISTING_ANTI_AFFINITY: "Unschedulable"}


def _cases():
    for file in FILES:
        with open(os.path.join(TABLES, file)) as handle:
            table = yaml.safe_load(handle)
        for index, case in enumerate(table["cases"]):
            marks = []
            why = KNOWN_FAILURES.get((file, case["name"]))
            if why:
                marks.append(pytest.mark.xfail(strict=True, reason=why))
            yield pytest.param(table["plugin"], case, id=f"{file}::{index}::{case['name'].strip()[:80]}", marks=marks)


def table_view(plugin: str, case: dict):
    """(pod, {name: Node}, ClusterView) for one table case: all its nodes, existing pods, Namespace
    objects and other objects, and its args as the plugin's pluginConfig."""
    objects = [SourcedObject({"kind": "Node", **n}, "<nodes>", f"[{i}]") for i, n in enumerate(case.get("nodes") or [])]
    objects += [SourcedObject({"kind": "Pod", **p}, "<pods>", f"[{i}]")
                for i, p in enumerate(case.get("existingPods") or [])]
    objects += [SourcedObject({"kind": "Namespace", **ns}, "<namespaces>", f"[{i}]")
                for i, ns in enumerate(case.get("namespaces") or [])]
    objects += [SourcedObject(obj, "<objects>", f"[{i}]") for i, obj in enumerate(case.get("objects") or [])]
    cluster = cluster_from_objects(objects)
    view = ref.ClusterView(snapshot_order(cluster.nodes), ref.initial_usage(cluster), dict(cluster.namespaces),
                           [item.obj for item in cluster.others], {plugin: case.get("args") or {}})
    return parse_pod(case["pod"], "<pod>"), {n.name: n for n in cluster.nodes}, view


def _check_filter(filter_fn, state, pod, nodes, expected: dict) -> None:
    for name, want in expected.items():
        reasons = filter_fn(state, pod, nodes[name])
        code = FILTER_CODES[reasons[0]] if reasons else "Success"
        assert code == want["code"], f"node {name}: {reasons}"
        if reasons:
            assert reasons == want.get("reasons", reasons), name


def _check_spread(case: dict, pod, nodes, view) -> None:
    expect = case["expect"]
    if "preFilter" in expect or "filter" in expect or "preFilterCounts" in expect:
        code, payload, state = ref.pts_pre_filter(pod, view)
        assert CODES[code] == expect["preFilter"]["code"], payload
        if "preFilterCounts" in expect:
            assert state.counts == [{str(k): v for k, v in c.items()} for c in expect["preFilterCounts"]]
        _check_filter(ref.pts_filter, state, pod, nodes, expect.get("filter") or {})
    if "preScore" in expect:
        feasible = [nodes[name] for name in case["scoreNodes"]]
        code, payload, state = ref.pts_pre_score(pod, view, feasible)
        assert CODES[code] == expect["preScore"]["code"], payload
        if "preScoreState" in expect:
            want = expect["preScoreState"]
            assert sorted(state.ignored) == sorted(want["ignoredNodes"])
            assert state.counts == [{str(k): v for k, v in c.items()} for c in want["topologyValueToPodCounts"]]
            assert state.sizes == want["topologySizes"]
        if "scores" in expect and code == "ok":
            raw = [ref.pts_score(state, pod, node, view) for node in feasible]
            got = dict(zip(case["scoreNodes"], ref.pts_normalize(state, case["scoreNodes"], raw)))
            assert got == {name: int(v) for name, v in expect["scores"].items()}


def _check_affinity(case: dict, pod, nodes, view) -> None:
    expect = case["expect"]
    if "preFilter" in expect:
        code, payload, state = ref.ipa_pre_filter(pod, view)
        want = expect["preFilter"]
        assert CODES[code] == want["code"], payload
        if code == "reject" and "reasons" in want:
            assert [payload] == want["reasons"]
        if code in ("ok", "skip"):  # after Skip the framework passes every node
            _check_filter(ref.ipa_filter, state, pod, nodes, expect.get("filter") or {})
    if "preScore" in expect:
        feasible = [nodes[node["metadata"]["name"]] for node in case.get("nodes") or []]
        code, payload, state = ref.ipa_pre_score(pod, view, feasible)
        want = expect["preScore"]
        assert CODES[code] == want["code"], payload
        if code == "error":
            assert want["message"] in payload
        if "scores" in expect and code == "ok":
            raw = [ref.ipa_score(state, node) for node in feasible]
            got = dict(zip([n.name for n in feasible], ref.ipa_normalize(raw)))
            assert got == {name: int(v) for name, v in expect["scores"].items()}


@pytest.mark.parametrize("plugin, case", list(_cases()))
def test_reference_topology_table(plugin, case):
    pod, nodes, view = table_view(plugin, case)
    if plugin == "PodTopologySpread":
        _check_spread(case, pod, nodes, view)
    else:
        _check_affinity(case, pod, nodes, view)


# --- the reference's cycle with both plugins in the profile ------------------------------------------------
# Until the fast-path plugins are registered, profiles are built from a registry holding stand-ins with the
# same names and extension points (their kernels are never run: only the reference schedules here).

def _stub(name: str):
    def pre_filter(nodes, pods, p, state, mask):
        return 0

    def filter(nodes, pods, p, n, state):
        return 0

    def pre_score(nodes, pods, p, feasible, count, state):
        return 0

    def score(nodes, pods, p, n, state):
        return 0

    def normalize(nodes, pods, p, feasible, scores, count, state):
        return None

    def __init__(self, args=None):
        self.args = dict(args or {})

    return type(name, (Plugin,), {"name": name, "__init__": __init__, "kernels": Kernels(
        pre_filter=pre_filter, filter=filter, pre_score=pre_score, score=score, normalize=normalize)})


def _reference_scheduler(config: str) -> Scheduler:
    if config not in _REFERENCE_SCHEDULERS:
        registry = Registry.with_builtins()
        for name in ref.CROSS_NODE:
            registry.unregister(name)
            registry.register(_stub(name))
        raw = TOPOLOGY_CONFIGS[config]
        _REFERENCE_SCHEDULERS[config] = Scheduler(parse_config(raw) if raw is not None else None, registry)
    return _REFERENCE_SCHEDULERS[config]


_REFERENCE_SCHEDULERS: dict[str, Scheduler] = {}


def test_default_profile_order_and_weights():
    profile = _reference_scheduler("topology-default").profiles["default-scheduler"]
    names = {point: [profile.plugins[i].name for i in profile.points[point]] for point in profile.points}
    assert names["filter"][-3:] == ["NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]
    weights = {profile.plugins[i].name: profile.weights[i] for i in profile.points["score"]}
    assert weights["PodTopologySpread"] == 2 and weights["InterPodAffinity"] == 2


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topology_scenarios())
def test_reference_schedules_respect_topology_invariants(scenario):
    config, cluster, pods, seed = scenario
    sched = _reference_scheduler(config)
    queue, _ = ref.queue_order(sched, pods)
    batch = schedule_with_preemption(sched, cluster, pods, queue, seed)  # what reference_schedule runs
    check_topology_invariants(sched, cluster, pods, [(pods[row].key, batch.results[row].node) for row in queue],
                              {e.pod.key for e in batch.evicted})


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topology_scenarios(max_pods=3), st.data())
def test_reference_explanations_are_consistent(scenario, data):
    config, cluster, pods, seed = scenario
    sched = _reference_scheduler(config)
    ex = reference_explain(sched, cluster, data.draw(st.sampled_from(pods)), seed)
    for name, node in ex["nodes"].items():
        for plugin, score in node["scores"].items():
            assert 0 <= score["normalized"] <= 100, (name, plugin, score)
        if node["totalScore"] is not None:
            assert node["totalScore"] == sum(s["weight"] * s["normalized"] for s in node["scores"].values())
    assert (ex["selectedNode"] is None) != (ex["message"] is None)
