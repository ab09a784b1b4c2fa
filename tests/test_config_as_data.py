"""Configuration is data: profiles that enable the same plugins at the same extension points share one
compiled loop, whatever their numbers (Score weights, NodeResourcesFit's scoring strategy, resources and
shape, percentageOfNodesToScore), and each still decides as its own configuration says."""

from __future__ import annotations

import json

import pandas as pd

from schedkit.compile_notice import CompileWatch
from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.reference import reference_explain, reference_schedule
from schedkit.replay.engine import replay
from schedkit.replay.reference import reference_replay
from schedkit.testing import make_cluster, make_pod
from schedkit.traces import load_trace

API = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}


def _config(fit_args: dict, weights: dict[str, int], percentage: int | None = None):
    profile = {"schedulerName": "default-scheduler",
               "plugins": {"score": {"enabled": [{"name": name, "weight": w} for name, w in weights.items()]}},
               "pluginConfig": [{"name": "NodeResourcesFit", "args": fit_args}]}
    raw = {**API, "profiles": [profile]}
    if percentage is not None:
        raw["percentageOfNodesToScore"] = percentage
    return parse_config(raw)


# Spread out: LeastAllocated on cpu, NodeResourcesFit weighted far above the rest.
SPREAD = _config({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "cpu", "weight": 1}]}},
                 {"NodeResourcesFit": 50, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1})
# Pack: MostAllocated weighting memory, other weights changed too.
PACK = _config({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 1},
                                                                           {"name": "memory", "weight": 3}]}},
               {"NodeResourcesFit": 40, "NodeResourcesBalancedAllocation": 2, "TaintToleration": 7}, percentage=100)
# A RequestedToCapacityRatio shape that prefers half-full nodes.
SHAPED = _config({"scoringStrategy": {"type": "RequestedToCapacityRatio",
                                      "resources": [{"name": "cpu", "weight": 2}, {"name": "memory", "weight": 1}],
                                      "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0},
                                                                             {"utilization": 50, "score": 10},
                                                                             {"utilization": 100, "score": 0}]}}},
                 {"NodeResourcesFit": 30, "PodTopologySpread": 5})


def _cluster():
    nodes = [{"metadata": {"name": f"node-{i}", "labels": {"topology.kubernetes.io/zone": "ab"[i % 2]}},
              "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"}}} for i in range(6)]
    # Uneven load: node-0 nearly full, node-5 empty, the rest in between.
    running = [{"metadata": {"name": f"r{i}-{k}", "namespace": "default"},
                "spec": {"nodeName": f"node-{i}", "containers": [{"name": "c", "resources": {
                    "requests": {"cpu": "1", "memory": f"{1 + i % 3}Gi"}}}]},
                "status": {"phase": "Running"}}
               for i in range(6) for k in range(6 - i)]
    return make_cluster(nodes, running)


def _pods(count: int):
    return [make_pod({"metadata": {"name": f"p{j}", "namespace": "default"},
                      "spec": {"containers": [{"name": "c", "resources": {
                          "requests": {"cpu": "500m", "memory": f"{256 * (1 + j % 3)}Mi"}}}]}})
            for j in range(count)]


def _decisions(scheduler: Scheduler, cluster, pods):
    result = scheduler.schedule(cluster, pods)
    by_key = {a.pod: (a.pod, a.node, a.message) for a in result.assignments}
    return [by_key[pod.key] for pod in pods]


def test_configurations_differing_only_in_numbers_share_one_compiled_loop():
    cluster, pods = _cluster(), _pods(8)
    first = Scheduler(SPREAD)
    decided = {"spread": _decisions(first, cluster, pods)}  # compiles, or loads the loop from the cache
    loop = first.profiles["default-scheduler"].loop()
    for name, config in (("pack", PACK), ("shaped", SHAPED)):
        scheduler = Scheduler(config)
        with CompileWatch() as watch:
            decided[name] = _decisions(scheduler, cluster, pods)
            explained = scheduler.explain(cluster, pods[0])
        assert not watch.compiled, f"{name}: a configuration differing only in numbers compiled again"
        assert scheduler.profiles["default-scheduler"].loop() is loop
        assert explained.selected_node == reference_explain(scheduler, cluster, pods[0], 0)["selectedNode"]
    for name, config in (("spread", SPREAD), ("pack", PACK), ("shaped", SHAPED)):
        assert decided[name] == reference_schedule(Scheduler(config), cluster, pods), name
    # Each configuration's own numbers decided: spreading goes to the emptiest node, packing does not.
    assert decided["spread"][0][1] == "node-5"
    assert decided["pack"][0][1] != "node-5"
    assert len({tuple(d[1] for d in decided[name]) for name in decided}) == 3


def test_replays_with_other_weights_reuse_the_compiled_replay_loop(tmp_path):
    nodes = [{"name": f"n{i}", "cpu": "8", "memory": "16Gi", "labels": json.dumps({"zone": "ab"[i % 2]})}
             for i in range(4)]
    pods = [{"name": f"p{i}", "arrival": i, "duration": 30 + 7 * (i % 5), "cpu": f"{500 * (1 + i % 4)}m",
             "memory": f"{512 * (1 + i % 3)}Mi"} for i in range(40)]
    pd.DataFrame(nodes).to_csv(tmp_path / "nodes.csv", index=False)
    pd.DataFrame(pods).to_csv(tmp_path / "pods.csv", index=False)
    workload, _ = load_trace(str(tmp_path))
    nodes_of = {}
    for name, config in (("spread", SPREAD), ("pack", PACK)):
        watch = CompileWatch()
        with watch:
            result = replay(Scheduler(config), workload)
        if name == "pack":
            assert not watch.compiled, "a replay with other weights compiled its loop again"
        expected = reference_replay(Scheduler(config), workload)
        assert result.arrays.node.tolist() == expected["node"].tolist(), name
        nodes_of[name] = result.arrays.node.tolist()
    assert nodes_of["spread"] != nodes_of["pack"]
