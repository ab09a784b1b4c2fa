"""Reserve, Unreserve and Permit receive the pod itself (its row in the batch, its row in the trace in a
replay, where pods with one spec share a PodColumns row), and a plugin may keep per-pod facts that its
Unreserve reads back, at a Permit rejection and at the pod's departure."""

from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pandas as pd

from schedkit import Kernels, Plugin
from schedkit.framework.config import parse_config
from schedkit.framework.registry import Registry
from schedkit.framework.scheduler import Scheduler
from schedkit.replay.engine import replay
from schedkit.replay.reference import reference_replay
from schedkit.testing import check_plugin, make_cluster, make_pod
from schedkit.traces import load_trace

BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}
LedgerState = namedtuple(
    "LedgerState",
    [
        "facts",  # int64 [pod ids]: what Reserve kept for each pod (node * 1000 + pod), -1 none
        "load",  # int64 [nodes]: the sum of pod + 1 over the pods reserved on the node
        "mismatches",  # int64 [1]: facts Unreserve read back wrong
    ],
)


def _reserve(nodes, pods, p, n, state, pod):
    # The per-pod fact a device plugin would keep (which device it chose): here the node and the pod.
    state.facts[pod] = n * 1000 + pod
    state.load[n] += pod + 1


def _unreserve(nodes, pods, p, n, state, pod):
    fact = state.facts[pod]
    if fact // 1000 != n or fact % 1000 != pod:
        state.mismatches[0] += 1  # read back something else than Reserve wrote for this pod
    state.load[n] -= fact % 1000 + 1
    state.facts[pod] = -1


class PodLedger(Plugin):
    """Plain-Python kernels (the loop runs them as Python: the same generated code as compiled)."""

    name = "PodLedger"
    kernels = Kernels(reserve=_reserve, unreserve=_unreserve)

    def prepare(self, cluster, pods, pod_columns):
        self.state = LedgerState(np.full(cluster.pod_ids, -1, dtype=np.int64),
                                 np.zeros(cluster.num_nodes, dtype=np.int64), np.zeros(1, dtype=np.int64))
        return self.state


def _scheduler() -> Scheduler:
    config = parse_config({**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": "PodLedger"}]}}}]})
    return Scheduler(config, Registry.with_builtins(PodLedger))


def _ledger(scheduler: Scheduler) -> PodLedger:
    return next(p for p in scheduler.profiles["default-scheduler"].plugins if isinstance(p, PodLedger))


def test_a_batch_reserves_each_pod_under_its_own_row():
    nodes = [{"metadata": {"name": f"n{i}"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "10"}}}
             for i in range(3)]
    # Five pods with one spec: the batch gives each its own row, and Reserve its own identity.
    pods = [make_pod({"metadata": {"name": f"p{j}"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}) for j in range(5)]
    scheduler = _scheduler()
    result = scheduler.schedule(make_cluster(nodes), pods)
    ledger = _ledger(scheduler).state
    facts, load, mismatches = ledger.facts, ledger.load, ledger.mismatches
    node_row = {f"n{i}": i for i in range(3)}
    by_pod = {a.pod: a.node for a in result.assignments}
    for row, pod in enumerate(pods):
        node = by_pod[pod.key]
        assert facts[row] == (node_row[node] * 1000 + row if node else -1)
    assert load.sum() == sum(row + 1 for row, pod in enumerate(pods) if by_pod[pod.key])
    assert mismatches.tolist() == [0]


def test_a_replay_gives_departures_the_facts_their_reserve_kept(tmp_path):
    nodes = [{"name": f"n{i}", "cpu": "4", "memory": "8Gi", "labels": json.dumps({})} for i in range(3)]
    # One spec for every pod (one PodColumns row): only the trace row tells them apart.
    pods = [{"name": f"p{j}", "arrival": j % 7, "duration": 5 + 3 * (j % 4), "cpu": "1500m", "memory": "1Gi"}
            for j in range(24)]
    pd.DataFrame(nodes).to_csv(tmp_path / "nodes.csv", index=False)
    pd.DataFrame(pods).to_csv(tmp_path / "pods.csv", index=False)
    workload, _ = load_trace(str(tmp_path))
    assert len(workload.shapes) == 1
    for run in (replay, reference_replay):
        scheduler = _scheduler()
        result = run(scheduler, workload)
        ledger = _ledger(scheduler).state
        facts, load, mismatches = ledger.facts, ledger.load, ledger.mismatches
        ran = int(np.sum(~np.isnan(result.arrays.scheduled if run is replay else result["scheduled"])))
        assert ran == 24  # and all have left: every departure read its own pod's fact and cleared it
        assert mismatches.tolist() == [0], run.__name__
        assert load.tolist() == [0, 0, 0] and (facts == -1).all(), run.__name__


def test_check_plugin_accepts_a_plugin_declaring_pod():
    check_plugin(PodLedger, examples=5)
