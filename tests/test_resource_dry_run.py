"""The resource-only dry run over arrays against ``evaluator.dry_run`` (plain Python over the reference
filters): the same candidates (node, victims, in order) and node statuses, for any offset and candidate
count, on random nodes with priorities, start times, nominated pods and pod limits."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from schedkit.cluster import cluster_from_objects
from schedkit.framework.scheduler import Scheduler
from schedkit.manifests import SourcedObject
from schedkit.preemption.evaluator import NOT_STARTED, Candidate, CycleContext, dry_run, pick_one, rule_values
from schedkit.preemption.resource_dry_run import BoundPods, ResourceNodes, dry_run_resources, pick_one_arrays
from schedkit.reference import cluster_view, initial_usage, run_pre_filter
from schedkit.state import build_state, snapshot_order


def _pod(name, rng, node=None, priority=0):
    requests = {"cpu": f"{rng.choice([0, 100, 500, 900, 1500])}m", "memory": f"{rng.choice([0, 256, 1024])}Mi"}
    if rng.random() < 0.15:
        requests["example.com/dev"] = str(rng.choice([1, 2]))
    spec = {"priority": priority, "containers": [{"name": "c", "resources": {"requests": requests}}]}
    status = {}
    if node:
        spec["nodeName"] = node
        if rng.random() < 0.8:
            status["startTime"] = f"2026-01-01T00:{rng.randint(0, 3):02d}:00Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec,
            "status": status}


def make_case(seed: int):
    rng = random.Random(seed)
    nodes = []
    for i in range(rng.randint(1, 25)):
        allocatable = {"cpu": rng.choice(["1", "2", "4"]), "memory": "4Gi", "pods": str(rng.choice([2, 4, 110]))}
        if rng.random() < 0.3:
            allocatable["example.com/dev"] = "2"
        nodes.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}"},
                      "status": {"allocatable": allocatable}})
    pods = [_pod(f"r{i}", rng, f"n{rng.randrange(len(nodes))}", rng.choice([0, 1, 1, 2, 5]))
            for i in range(rng.randint(0, 60))]
    preemptor = _pod("incoming", rng, None, rng.choice([1, 2, 3, 6]))
    nominated = []
    for i in range(rng.randint(0, 3)):
        other = _pod(f"nom{i}", rng, None, rng.choice([0, 3, 6, 9]))
        other["status"]["nominatedNodeName"] = f"n{rng.randrange(len(nodes))}"
        nominated.append(other)
    return nodes, pods, preemptor, nominated, rng.random(), rng.randint(1, 30)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32).map(make_case))
def test_arrays_dry_run_matches_the_reference(case):
    nodes, running, incoming, nominated, share, num_candidates = case
    cluster = cluster_from_objects([SourcedObject(o, "case", "") for o in nodes + running + [incoming] + nominated])
    scheduler = Scheduler()
    profile = scheduler.profiles["default-scheduler"]
    pod = next(p for p in cluster.pods if p.name == "incoming")
    waiting = [p for p in cluster.pods if p.nominated_node]
    ordered = snapshot_order(cluster.nodes)
    usage = initial_usage(cluster)
    view = cluster_view(scheduler, cluster, ordered, usage, "default-scheduler")
    pre = run_pre_filter(profile, pod, view)
    ctx = CycleContext(profile, ordered, view, pre, waiting, [], NOT_STARTED)
    potential = [node for node in ordered if random.Random(len(running)).random() < share or node is ordered[0]]
    offset = len(running) % len(potential)
    expected = dry_run(ctx, pod, potential, offset, num_candidates)

    state = build_state(cluster, [])
    row = {name: i for i, name in enumerate(state.node_names)}
    bound = BoundPods(len(running), state.resources)
    for name in state.node_names:
        for p in usage[name].pods_here:
            bound.add(p, row[name])
    by_row = [next(n for n in ordered if n.name == name) for name in state.node_names]
    resource_nodes = ResourceNodes(
        np.array([[n.allocatable.get(r, 0) for r in state.resources] for n in by_row], dtype=np.int64),
        np.array([n.allocatable.get("pods", 0) for n in by_row], dtype=np.int64), state.node_names, by_row)
    requests = np.zeros((len(by_row), len(state.resources)), dtype=np.int64)
    counts = np.zeros(len(by_row), dtype=np.int64)
    for other in waiting:
        if other.priority >= pod.priority:
            counts[row[other.nominated_node]] += 1
            for r, resource in enumerate(state.resources):
                requests[row[other.nominated_node], r] += other.requests.get(resource, 0)
    fit = next(p for p in profile.plugins if p.name == "NodeResourcesFit")
    got = dry_run_resources(profile, fit, pod, bound, resource_nodes, requests, counts,
                            [row[n.name] for n in potential], offset, num_candidates)
    assert [(c.node, [v.key for v in c.victims], c.pdb_violations) for c in got[0]] == \
        [(c.node, [v.key for v in c.victims], c.pdb_violations) for c in expected[0]]
    assert got[1].as_dict() == expected[1]
    now = NOT_STARTED
    for c in got[0]:  # the rule values the arrays computed are pickOneNodeForPreemption's
        assert c.values == rule_values(Candidate(c.node, c.victims, c.pdb_violations), now)
    if got[0]:
        index, rule = pick_one_arrays(got[0])
        assert (got[0][index].node, rule) == (lambda c: (c[0].node, c[1]))(pick_one(list(got[0]), now))
