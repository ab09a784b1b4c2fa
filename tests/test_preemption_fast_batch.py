"""The fast batch with preemption (compiled cycles, ``schedkit.preemption.hybrid``) against the
plain-Python batch (``schedkit.preemption.batch``, itself checked on the conformance corpus): the same
placements, messages, nominations and victims on random clusters within what the fast batch covers."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from schedkit.cluster import cluster_from_objects
from schedkit.framework.scheduler import Scheduler
from schedkit.manifests import SourcedObject
from schedkit.preemption.batch import needs_preemption, schedule_with_preemption
from schedkit.preemption.coverage import covers
from schedkit.preemption.hybrid import schedule_fast


def _pod(name: str, rng: random.Random, node: str | None, priority: int) -> dict:
    spec: dict = {"priority": priority, "containers": [{"name": "c", "resources": {"requests": {
        "cpu": f"{rng.choice([100, 500, 900, 1500, 3000])}m", "memory": f"{rng.choice([128, 512, 2048])}Mi"}}}]}
    labels = {"app": rng.choice(["web", "db", "batch"])}
    if node:
        spec["nodeName"] = node
    if rng.random() < 0.15:
        spec["nodeSelector"] = {"zone": rng.choice("ab")}
    if rng.random() < 0.1:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    if rng.random() < 0.15:
        spec["preemptionPolicy"] = "Never"
    meta = {"name": name, "namespace": "default", "labels": labels}
    status: dict = {}
    if node:
        status["startTime"] = f"2026-01-01T00:00:{rng.randint(0, 59):02d}Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def make_case(seed: int):
    """A random cluster (nodes, running pods, pending pods, PodDisruptionBudgets) and a scheduling seed."""
    rng = random.Random(seed)
    nodes = []
    for i in range(rng.randint(1, 7)):
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n{i}", "labels": {
            "zone": rng.choice("ab"), "kubernetes.io/hostname": f"n{i}"}},
            "status": {"allocatable": {"cpu": rng.choice(["2", "4"]), "memory": "8Gi",
                                       "pods": str(rng.choice([3, 5, 110]))}}}
        if rng.random() < 0.15:
            node["spec"] = {"taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]}
        nodes.append(node)
    running = [_pod(f"r{i}", rng, f"n{rng.randrange(len(nodes))}", rng.choice([0, 0, 1, 3]))
               for i in range(rng.randint(0, 14))]
    pending = []
    for i in range(rng.randint(1, 12)):
        pod = _pod(f"p{i}", rng, None, rng.choice([0, 2, 4, 4, 6]))
        if rng.random() < 0.1:
            pod["status"]["nominatedNodeName"] = f"n{rng.randrange(len(nodes))}"
        pending.append(pod)
    budgets = []
    if rng.random() < 0.4:
        budgets.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                        "metadata": {"name": "b", "namespace": "default"},
                        "spec": {"selector": {"matchLabels": {"app": rng.choice(["web", "db"])}}},
                        "status": {"disruptionsAllowed": rng.choice([0, 1])}})
    return nodes, running, pending, budgets, rng.randint(0, 5)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32).map(make_case))
def test_fast_batch_decides_as_the_plain_python_batch(case):
    nodes, running, pending, budgets, seed = case
    objects = [SourcedObject(obj, "case", "") for obj in nodes + running + pending + budgets]
    cluster = cluster_from_objects(objects)
    pods = cluster.pending_pods
    plain_scheduler, fast_scheduler = Scheduler(), Scheduler()
    queue, _ = plain_scheduler._queue(pods)
    assert covers(fast_scheduler, cluster, pods, queue) is not None
    expected = schedule_with_preemption(plain_scheduler, cluster, pods, queue, seed)
    got = schedule_fast(fast_scheduler, cluster, pods, queue, seed)
    for row in queue:
        assert got.results[row] == expected.results[row], pods[row].key
    assert [(e.pod.key, e.node, e.by) for e in got.evicted] == [(e.pod.key, e.node, e.by) for e in expected.evicted]


def _batches(count: int):
    """The first ``count`` cases as (scheduler, cluster, pods, queue, seed)."""
    for seed in range(count):
        nodes, running, pending, budgets, s = make_case(seed)
        cluster = cluster_from_objects([SourcedObject(o, "case", "") for o in nodes + running + pending + budgets])
        pods = cluster.pending_pods
        scheduler = Scheduler()
        queue, _ = scheduler._queue(pods)
        yield scheduler, cluster, pods, queue, s


def test_the_generator_makes_pods_preempt():
    """The cases above are worth something only if many of them preempt."""
    preempting = 0
    for scheduler, cluster, pods, queue, s in _batches(60):
        if needs_preemption(scheduler, cluster, [pods[r] for r in queue]):
            preempting += bool(schedule_fast(scheduler, cluster, pods, queue, s).evicted)
    assert preempting >= 15, preempting


def test_the_cases_reach_the_retry_shortcut(monkeypatch):
    """The differential test above covers ``preemption.retry`` only if its cases retry nominated
    preemptors that fail again; count the attempts the shortcut decided."""
    from schedkit.preemption import retry

    decided = []
    original = retry.RetryShortcut.fails_again

    def counting(self, row):
        end = original(self, row)
        decided.append(end is not None)
        return end

    monkeypatch.setattr(retry.RetryShortcut, "fails_again", counting)
    cases = 0
    for scheduler, cluster, pods, queue, s in _batches(60):
        before = sum(decided)
        schedule_fast(scheduler, cluster, pods, queue, s)
        cases += sum(decided) > before
    assert cases >= 10 and sum(decided) >= 100, (cases, sum(decided))
