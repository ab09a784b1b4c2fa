"""Whole batches of topology-constrained pods, fast path against the reference: the shapes of upstream's
scheduler_perf workloads, small, so consecutive pods share constraints (the fast path memoizes
PodTopologySpread counts and keeps them current at Reserve) and placements depend on every earlier one."""

from __future__ import annotations

import pytest

from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.reference import reference_schedule
from schedkit.testing import make_pod
from schedkit.workloads import TOPOLOGY_WORKLOADS, config_with_percentage, spreading_pod


def _compare(workload, percentage):
    scheduler = Scheduler(parse_config(config_with_percentage(percentage)))
    fast = scheduler.schedule(workload.cluster, workload.measured, seed=7)
    want = reference_schedule(scheduler, workload.cluster, workload.measured, seed=7)
    got = {a.pod: (a.node, a.message) for a in fast.assignments}
    assert got == {pod: (node, message) for pod, node, message in want}
    return fast


@pytest.mark.parametrize("name", sorted(TOPOLOGY_WORKLOADS))
@pytest.mark.parametrize("percentage", [None, 100])
def test_small_scheduler_perf_shapes_match_the_reference(name, percentage):
    sizes = {"SchedulingPodAntiAffinity": dict(nodes=30, running=10, measured=25),
             "SchedulingPodAffinity": dict(nodes=30, running=20, measured=40),
             "TopologySpreading": dict(nodes=30, running=20, measured=60),
             "PreferredTopologySpreading": dict(nodes=30, running=20, measured=60),
             "MixedSchedulingBasePod": dict(nodes=30, each=6, measured=40)}
    workload = TOPOLOGY_WORKLOADS[name](**sizes[name])
    result = _compare(workload, percentage)
    assert result.scheduled > 0


def test_tight_spreading_over_many_nodes_matches_the_reference():
    # maxSkew 1 across 3 zones with 120 nodes (past the 100-node sampling threshold), pods in two
    # namespaces alternating, so the memoized counts switch between signatures.
    workload = TOPOLOGY_WORKLOADS["TopologySpreading"](nodes=120, running=30, measured=10)
    pods = []
    for i in range(150):
        manifest = spreading_pod(f"tight-{i}", "sched-test" if i % 3 else "other")
        manifest["spec"]["topologySpreadConstraints"][0]["maxSkew"] = 1
        manifest["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "3500m"
        pods.append(make_pod(manifest))
    workload.measured = pods
    result = _compare(workload, None)
    assert result.unschedulable > 0  # 4 CPU nodes fill up: failures come with messages to compare


def test_soft_spreading_with_alternating_signatures_matches_the_reference():
    # ScheduleAnyway, maxSkew 1, pods alternating between two namespaces and two selectors: PreScore's
    # memoized totals switch signatures and must follow every placement.
    workload = TOPOLOGY_WORKLOADS["PreferredTopologySpreading"](120, 30, 10)
    pods = []
    for i in range(90):
        manifest = spreading_pod(f"soft-{i}", "sched-test" if i % 2 else "other", soft=True)
        manifest["spec"]["topologySpreadConstraints"][0]["maxSkew"] = 1
        if i % 3 == 0:
            manifest["metadata"]["labels"] = {"color": "red"}
            manifest["spec"]["topologySpreadConstraints"][0]["labelSelector"] = {"matchLabels": {"color": "red"}}
        pods.append(make_pod(manifest))
    workload.measured = pods
    _compare(workload, None)
    _compare(workload, 100)
