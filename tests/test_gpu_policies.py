"""The FGD paper's score policies: each score checked against small cases worked by hand from the
definitions (paper and simulator source, cited in plugins/gpu_score_*.py), FGD's fast fragmentation
against the plain reference (schedkit.gpu.nodes_fragmentation) on random nodes, typical pods, the six
plugins sharing one compiled loop, and the device invariants of replays under each policy."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from gpu_checks import check_device_invariants
from hypothesis import given, settings
from hypothesis import strategies as st
from test_gpu_share import gpu_node, gpu_pod

from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.gpu import TypicalPods, access_table, nodes_fragmentation, typical_pods
from schedkit.plugins.gpu_policies import (
    GPU_POLICIES,
    BestFitScore,
    DotProductScore,
    FGDScore,
    GpuClusteringScore,
    GpuPackingScore,
    RandomScore,
)
from schedkit.plugins.gpu_score_fgd import FragTables, fgd_choice
from schedkit.replay.engine import replay
from schedkit.replay.report import placements
from schedkit.testing import check_plugin, make_cluster, make_pod, run_plugin
from schedkit.traces import load_trace

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "traces", "sample")
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples", "fgd")


def cluster():
    # a: 2 GPUs, a 500-milli share on device 0, cpu left 56 cores; b: 8 idle GPUs, 96 cores; c: 4 idle, 64 cores;
    # d: 4 GPUs, a 200-milli share on device 0, 64 cores.
    nodes = [gpu_node("a", 2), gpu_node("b", 8), gpu_node("c", 4), gpu_node("d", 4)]
    nodes[1]["status"]["allocatable"]["cpu"] = "96"
    running = [gpu_pod("r1", 500, node="a", index="0"), gpu_pod("r2", 200, node="d", index="0")]
    running[0]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "8"
    running[1]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "0"
    return make_cluster(nodes, running)


def share_pod():
    pod = gpu_pod("p", 300)
    pod["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "4"
    return pod


def scores(cls, pod, normalized=True) -> dict[str, int]:
    run = run_plugin(cls(), cluster(), make_pod(pod), python=True)
    return run.scores if normalized else run.raw_scores


def test_dot_product_by_hand():
    # a: dot = (56000/128000)(4000/128000) + (1500/8000)(300/8000) = 0.020703125 -> int(100 (1 - dot/2)) = 98
    # b: (96000/128000)(0.03125) + (8000/8000)(0.0375) = 0.0609375 -> 96; c: 0.46875*0.03125 + 0.5*0.0375 -> 98
    # d: (64000/128000)*0.03125 + (3800/8000)*0.0375 = 0.015625 + 0.0178125 -> 98
    assert scores(DotProductScore, share_pod()) == {"a": 98, "b": 96, "c": 98, "d": 98}


def test_best_fit_by_hand():
    # raw: a: s = 52000/128000*0.5 + 1200/8000*0.5 = 0.278125 -> 72; b: 0.359375 + 0.48125 -> 15;
    # c: 0.234375 + 0.23125 -> 53; d: 60000/128000*0.5 + 3500/8000*0.5 = 0.234375 + 0.21875 -> 54
    assert scores(BestFitScore, share_pod(), normalized=False) == {"a": 72, "b": 15, "c": 53, "d": 54}
    # min-max: (raw - 15) * 100 // 57
    assert scores(BestFitScore, share_pod()) == {"a": 100, "b": 0, "c": 66, "d": 68}


def test_gpu_clustering_by_hand():
    # a holds only shares: base 25*(8000-1500)//8000 = 20, + 75; d likewise: 25*4200//8000 = 13, + 75;
    # b and c hold no GPU pod: base 0 and 12, + 25.
    assert scores(GpuClusteringScore, share_pod()) == {"a": 95, "b": 25, "c": 37, "d": 88}
    # A 2-GPU pod: a and d hold shares only (another kind): base; b, c: base + 25.
    whole = gpu_pod("w", 1000, 2)
    assert scores(GpuClusteringScore, whole) == {"a": 20, "b": 25, "c": 37, "d": 13}
    assert scores(GpuClusteringScore, gpu_pod("cpu", 0, 0)) == {"a": 0, "b": 0, "c": 0, "d": 0}


def test_gpu_packing_by_hand():
    # a: device 0 (500 free) is the tightest fit, partly used: s = 50, 100 - 5 = 95; d: device 0 (800): 100 - 8;
    # b, c: all idle: max(33 - 8, 8) = 25, max(33 - 4, 4) = 29.
    assert scores(GpuPackingScore, share_pod()) == {"a": 95, "b": 25, "c": 29, "d": 92}
    # 2 whole GPUs on d: devices 1 and 2 are idle: max(50 - 2, 33) = 48 (a does not fit: not scored here).
    run = run_plugin(GpuPackingScore(), cluster(), make_pod(gpu_pod("w", 1000, 2)), python=True,
                     score_nodes=["b", "c", "d"])
    assert run.scores == {"b": 25, "c": 29, "d": 48}


def test_random_picks_one_feasible_node_uniformly():
    picks = {}
    for seed in range(400):
        scheduler = Scheduler(parse_config({**_config("RandomScore"), "percentageOfNodesToScore": 100}))
        result = scheduler.explain(cluster(), make_pod(share_pod()), seed=seed)
        picks[result.selected_node] = picks.get(result.selected_node, 0) + 1
    assert set(picks) == {"a", "b", "c", "d"} and min(picks.values()) > 60


def test_fragmentation_by_hand():
    # One node, devices [500, 1000], 56 cores left. Shapes: a 700-milli share (freq .5) fits device 1 and
    # leaves device 0's 500 as fragment; 2 whole GPUs (.3) do not fit: all 1500 idle milli; a CPU-only
    # shape (.2) leaves all 1500. 0.5*500 + 0.3*1500 + 0.2*1500 = 1000.
    typical = TypicalPods(cpu=np.array([4000, 8000, 1000]), milli=np.array([700, 1000, 0]), count=np.array([1, 2, 0]),
                          models=((), (), ()), freq=np.array([0.5, 0.3, 0.2]))
    frag = nodes_fragmentation(np.array([56000]), np.array([[500, 1000]]), np.array([2]),
                               access_table(["V100"], typical), typical)
    assert frag.tolist() == [1000.0]
    # The CPU short for the share (56000 < 60000): all idle milli is fragment for it too.
    typical2 = TypicalPods(cpu=np.array([60000]), milli=np.array([700]), count=np.array([1]), models=((),),
                           freq=np.array([1.0]))
    assert nodes_fragmentation(np.array([56000]), np.array([[500, 1000]]), np.array([2]),
                               access_table(["V100"], typical2), typical2).tolist() == [1500.0]
    # A model the shape does not accept: all idle milli.
    typical3 = TypicalPods(cpu=np.array([0]), milli=np.array([700]), count=np.array([1]), models=(("T4",),),
                           freq=np.array([1.0]))
    assert nodes_fragmentation(np.array([56000]), np.array([[500, 1000]]), np.array([2]),
                               access_table(["V100"], typical3), typical3).tolist() == [1500.0]


def test_fgd_score_and_device_by_hand():
    # The only typical pod is the pod itself (a 300 share, 4 cores). a = [500, 1000]: before 0; on device 0
    # the 200 left is a fragment: sigmoid(-0.2) * 100 = 45; on device 1 nothing is: 50. So 50, device 1
    # (the best fit would take device 0). b: every device gives 50; the lowest wins.
    assert scores(FGDScore, share_pod()) == {"a": 50, "b": 50, "c": 50, "d": 50}
    assert int(1 / (1 + math.exp(0.2)) * 100) == 45



def test_fgd_reserve_gives_the_device_its_score_prefers(tmp_path):
    # A replay (the loop every GPU policy shares). Typical pods: a 500 share and a 300 share, half each.
    # The 500 share takes device 0 of a 2-GPU node (both alike: the lowest). For the 300 share, device 0
    # (500 left) would leave 200, a fragment for both shapes; device 1 leaves 500 and 700, fragments for
    # neither. FGD takes device 1; the best fit takes device 0.
    nodes = [{"name": "a", "cpu": "64", "memory": "256Gi", "nvidia.com/gpu": 2,
              "labels": json.dumps({"alibabacloud.com/gpu-card-model": "V100"})}]
    pods = [{"name": name, "arrival": t, "duration": 100, "cpu": "4", "memory": "1Gi", "nvidia.com/gpu": 1,
             "annotations": json.dumps({"alibabacloud.com/gpu-milli": str(m)})}
            for name, t, m in (("first", 0, 500), ("second", 1, 300))]
    pd.DataFrame(nodes).to_csv(tmp_path / "nodes.csv", index=False)
    pd.DataFrame(pods).to_csv(tmp_path / "pods.csv", index=False)
    workload, _ = load_trace(str(tmp_path))
    given = {}
    for policy in ("FGDScore", "BestFitScore"):
        result = replay(Scheduler(parse_config(_config(policy))), workload)
        given[policy] = placements(result)["gpu_index"].tolist()
    assert given == {"FGDScore": ["0", "1"], "BestFitScore": ["0", "0"]}


def test_typical_pods_threshold_and_order():
    keys = [((4000, 500, 1, ""), 50), ((8000, 1000, 1, ""), 30), ((2000, 0, 0, ""), 15), ((1000, 1000, 8, ""), 5)]
    typical = typical_pods(keys, 80)  # 50 + 30 reach 80% of 100: two shapes
    assert typical.milli.tolist() == [500, 1000] and typical.freq.tolist() == [50 / 80, 30 / 80]
    typical = typical_pods(keys, 81)  # the third crosses 81: included
    assert typical.cpu.tolist() == [4000, 8000, 2000]
    # Equal counts: larger cpu first, then milli, devices, model text.
    tie = typical_pods([((1000, 0, 0, ""), 5), ((3000, 0, 0, ""), 5), ((3000, 500, 1, "A"), 5)], 100)
    assert tie.cpu.tolist() == [3000, 3000, 1000] and tie.milli.tolist() == [500, 0, 0]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fgd_kernel_matches_the_reference(data):
    devices = data.draw(st.integers(1, 8))
    free = np.array([data.draw(st.sampled_from([0, 50, 200, 300, 500, 700, 1000])) for _ in range(devices)],
                    dtype=np.int64)
    cpu_left = data.draw(st.integers(0, 64000))
    shapes = data.draw(st.integers(1, 6))
    milli = np.array([data.draw(st.sampled_from([0, 100, 300, 500, 1000])) for _ in range(shapes)], dtype=np.int64)
    count = np.array([0 if m == 0 else (1 if m < 1000 else data.draw(st.sampled_from([1, 2, 4]))) for m in milli],
                     dtype=np.int64)
    cpu = np.array([data.draw(st.integers(0, 32000)) for _ in range(shapes)], dtype=np.int64)
    weights = np.array([data.draw(st.integers(1, 9)) for _ in range(shapes)], dtype=np.float64)
    models = tuple(data.draw(st.sampled_from([(), ("V100",), ("T4",)])) for _ in range(shapes))
    typical = TypicalPods(cpu, milli, count, models, weights / weights.sum())
    access = access_table(["V100"], typical)

    def reference(free_row, left):
        return float(nodes_fragmentation(np.array([left]), free_row[None, :], np.array([devices]), access,
                                         typical)[0])

    tables = FragTables(cpu, milli, count, typical.freq, access, np.zeros((1, shapes), np.int64),
                        np.zeros((1, shapes), np.int64), np.zeros(1), np.ones(1, dtype=np.bool_))
    pod_milli = data.draw(st.sampled_from([0, 100, 300, 1000]))
    wanted = 0 if pod_milli == 0 else (1 if pod_milli < 1000 else data.draw(st.sampled_from([1, 2])))
    pod_cpu = data.draw(st.integers(0, cpu_left))
    for choice in (fgd_choice.py_func, fgd_choice):  # plain Python and compiled
        tables.stale[:] = True
        score, device = choice(tables, free[None, :].copy(), devices, cpu_left, 0, pod_cpu, pod_milli, wanted)
        before = reference(free, cpu_left)
        assert math.isclose(tables.before[0], before, abs_tol=1e-6)
        if wanted == 1 and 0 < pod_milli < 1000:
            expected, where = 0, -1
            for d in range(devices):
                if free[d] >= pod_milli:
                    after = free.copy()
                    after[d] -= pod_milli
                    s = int(1 / (1 + math.exp(-(before - reference(after, cpu_left - pod_cpu)) / 1000)) * 100)
                    if where < 0 or s > expected:
                        expected, where = s, d
            assert (score, device) == (expected, where)
        elif sum(free == 1000) >= wanted:
            after = free.copy()
            taken = 0
            for d in np.argsort(after, kind="stable"):
                if taken < wanted and after[d] >= max(pod_milli, 1):
                    after[d] -= pod_milli
                    taken += 1
            expected = int(1 / (1 + math.exp(-(before - reference(after, cpu_left - pod_cpu)) / 1000)) * 100)
            assert score == expected


def _config(policy: str) -> dict:
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
        "percentageOfNodesToScore": 100,
        "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": policy}]}, "score": {"disabled": [
            {"name": n} for n in ("NodeResourcesFit", "NodeResourcesBalancedAllocation", "ImageLocality",
                                  "TaintToleration", "NodeAffinity", "PodTopologySpread", "InterPodAffinity")]}},
            "pluginConfig": [{"name": "NodeResourcesFit", "args": {"ignoredResources": ["nvidia.com/gpu"]}}]}],
    }


@pytest.mark.parametrize("cls", GPU_POLICIES, ids=lambda c: c.name)
def test_check_plugin(cls):
    pods = [make_pod(gpu_pod(f"p{i}", m, c, models=s)) for i, (m, c, s) in enumerate(
        [(500, 1, ""), (1000, 2, ""), (1000, 1, "T4"), (0, 0, ""), (800, 1, "V100")])]
    check_plugin(cls, clusters=[cluster()], pods=pods, examples=5)


def test_policies_share_one_compiled_loop_and_keep_device_invariants():
    workload, _ = load_trace(SAMPLE)
    for cls in GPU_POLICIES:
        scheduler = Scheduler(parse_config(_config(cls.name)))
        result = replay(scheduler, workload, seed=3)
        if cls is not GPU_POLICIES[0]:
            assert result.compile_seconds < 3, f"{cls.name} compiled its own loop"
        assert check_device_invariants(placements(result), workload) > 1000, cls.name


def test_policy_args():
    DotProductScore({"dimExtMethod": "merge", "normMethod": "max"})
    with pytest.raises(ValueError, match="dimExtMethod: Unsupported value: 'share'"):
        DotProductScore({"dimExtMethod": "share"})
    assert FGDScore({"popularityThreshold": 60}).popularity == 60
    with pytest.raises(ValueError, match="popularityThreshold"):
        FGDScore({"popularityThreshold": 0})
    with pytest.raises(ValueError, match="deviceChoice: Unsupported value: 'fgd'"):
        from schedkit.plugins.gpu_share import GpuShare

        GpuShare({"deviceChoice": "fgd"})  # only the FGD plugin knows its own device choice
    assert RandomScore().choice != BestFitScore().choice
