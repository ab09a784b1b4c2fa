"""Upstream's DefaultPreemption unit-test tables (tests/upstream_tables/preemption/*.yaml, transcribed from
pkg/scheduler/framework/plugins/defaultpreemption/default_preemption_test.go; conventions in each file's
header) run through ``schedkit.preemption.evaluator``.

Cases that need what schedkit does not have are skipped with the reason: scheduler extenders, pod groups
and their feature gates, and upstream's fake filter plugins other than the one that always passes.
"""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from schedkit.plugins.default_preemption import preemption_args
from schedkit.cluster import cluster_from_objects
from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.manifests import SourcedObject
from schedkit.preemption.evaluator import (
    NOT_STARTED,
    CycleContext,
    PreemptionArgs,
    dry_run,
    eligible_to_preempt,
    pick_one,
    preempt,
)
from schedkit.reference import cluster_view, initial_usage, run_pre_filter
from schedkit.state import snapshot_order

TABLES = os.path.join(os.path.dirname(__file__), "upstream_tables", "preemption")
# Upstream's FakeFilter with code Success passes every node: it changes nothing.
NO_OP_FAKES = ({"fake": "FakeFilter", "code": "Success"},)


def _cases():
    for path in sorted(glob.glob(os.path.join(TABLES, "*.yaml"))):
        with open(path) as handle:
            document = yaml.safe_load(handle)
        for table in document["tables"]:
            for case in table["cases"]:
                yield pytest.param(table["test"], case, id=f"{table['test']}::{case['name']}")


def _unsupported(case: dict) -> str | None:
    if case.get("extenders"):
        return "scheduler extenders are not modelled"
    if case.get("podGroups") or case.get("features"):
        return "pod groups (workload-aware scheduling) are not modelled"
    for plugin in case.get("filterPlugins") or []:
        if isinstance(plugin, dict) and plugin not in NO_OP_FAKES and plugin.get("fake") != "test-plugin":
            return f"upstream's fake filter {plugin} is test scaffolding, not a plugin"
    if any(isinstance(p, dict) and p.get("fake") == "test-plugin" for p in case.get("filterPlugins") or []) \
            and case["expect"].get("code") == "Error":
        return "the fake test-plugin's RemovePod error is test scaffolding"
    return None


def _setup(case: dict, pod_manifest: dict):
    """A profile with the case's real filter plugins (plus the queue sort, binder and DefaultPreemption),
    the cluster, the pod and the cycle's PostFilter context."""
    filters = [p for p in case.get("filterPlugins") or [] if isinstance(p, str)]
    enabled = [{"name": name} for name in ["PrioritySort", "DefaultBinder", "DefaultPreemption", *filters]]
    profile = {"schedulerName": "default-scheduler",
               "plugins": {"multiPoint": {"enabled": enabled, "disabled": [{"name": "*"}]}}}
    if case.get("args"):
        profile["pluginConfig"] = [{"name": "DefaultPreemption", "args": case["args"]}]
    scheduler = Scheduler(parse_config({"apiVersion": "kubescheduler.config.k8s.io/v1",
                                        "kind": "KubeSchedulerConfiguration", "profiles": [profile]}, "table"))
    objects = ([{"kind": "Node", **n} for n in case["nodes"]] + [{"kind": "Pod", **p} for p in case.get("pods") or []]
               + [{"kind": "Pod", **pod_manifest}]
               + [{"kind": "PodDisruptionBudget", **b} for b in case.get("pdbs") or []])
    cluster = cluster_from_objects([SourcedObject(o, "table", f"items[{i}]") for i, o in enumerate(objects)])
    pod = next(p for p in cluster.pods if not p.node_name and p.name == pod_manifest["metadata"]["name"])
    cluster.pods.remove(pod)
    prof = scheduler.profiles["default-scheduler"]
    nodes = snapshot_order(cluster.nodes)
    view = cluster_view(scheduler, cluster, nodes, initial_usage(cluster), pod.scheduler_name)
    ctx = CycleContext(prof, nodes, view, run_pre_filter(prof, pod, view), [], cluster.disruption_budgets,
                       NOT_STARTED)
    return prof, cluster, pod, ctx


def _args(prof) -> PreemptionArgs:
    return next(p.args for p in prof.plugins if p.name == "DefaultPreemption")


@pytest.mark.parametrize("test, case", list(_cases()))
def test_upstream_preemption_case(test, case):
    why = _unsupported(case)
    if why:
        pytest.skip(why)
    expect = case["expect"]
    if test == "TestPodEligibleToPreemptOthers":
        _, cluster, pod, _ = _setup(case, case["pod"])
        code = (case.get("nominatedNodeStatus") or {}).get("code")
        here = [p for p in cluster.pods if p.node_name == pod.nominated_node]
        assert eligible_to_preempt(pod, code, here)[0] is expect["eligible"]
    elif test == "TestSelectBestCandidate":
        prof, _, pod, ctx = _setup(case, case["pod"])
        candidates, _ = dry_run(ctx, pod, ctx.nodes, 0, len(ctx.nodes))
        chosen, _ = pick_one(candidates, ctx.now)
        assert chosen.node in expect.get("nodes", [expect.get("node")])
    elif test in ("TestPostFilter", "TestPreempt"):
        prof, _, pod, ctx = _setup(case, case["pod"])
        statuses = case.get("filteredNodesStatuses") or case.get("nodeStatuses") or {}
        codes = {node: (status["code"] if isinstance(status, dict) else status) for node, status in statuses.items()}
        outcome = preempt(ctx, pod, codes, _args(prof), [0])
        nominated = expect["nominatedNode"] or None
        assert outcome.nominated_node == nominated
        if test == "TestPreempt":
            assert sorted(p.name for p in outcome.victims) == sorted(expect["victims"])
        else:
            assert ("Success" if outcome.nominated_node else "Unschedulable") == expect["code"]
            if "message" in expect:
                assert f"preemption: {outcome.message}" == expect["message"]
    elif test == "TestDryRunPreemption":
        for manifest, offset, want in zip(case["testPods"], case["offset"], expect):
            prof, _, pod, ctx = _setup(case, manifest)
            candidates, _ = dry_run(ctx, pod, ctx.nodes, offset, case["numCandidates"])
            # Upstream's test sorts the candidates, and each one's victims, by name before comparing.
            got = sorted((c.node, sorted(p.name for p in c.victims), c.pdb_violations) for c in candidates)
            assert got == sorted((c["node"], sorted(c["victims"]), c["numPDBViolations"]) for c in want["candidates"])
    else:
        pytest.fail(f"no runner for {test}")


@pytest.mark.parametrize("args, error", [
    ({"minCandidateNodesPercentage": 101}, "minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]"),
    ({"minCandidateNodesAbsolute": -1}, "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"),
    ({"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0},
     "cannot be zero at the same time as minCandidateNodesAbsolute"),
])
def test_default_preemption_args_are_validated_as_upstream(args, error):
    """apis/config/validation ValidateDefaultPreemptionArgs."""
    with pytest.raises(ValueError) as info:
        preemption_args(args)
    assert error in str(info.value)


def test_candidate_count_is_upstreams():
    """calculateNumCandidates: the percentage of the potential nodes, at least the absolute number, at most all."""
    assert PreemptionArgs(10, 100).num_candidates(5000) == 500
    assert PreemptionArgs(10, 100).num_candidates(50) == 50
    assert PreemptionArgs(40, 1).num_candidates(5) == 2
    assert PreemptionArgs(0, 3).num_candidates(10) == 3
