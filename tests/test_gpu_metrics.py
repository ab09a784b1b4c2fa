"""GPU figures of replays (schedkit/replay/gpu_metrics.py) on hand-worked traces, the study's bucketing
of a fill curve, and the FGD simulator's workload tuning (fill mode with a target)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_gpu_share import SHARE_CONFIG

from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.replay import report
from schedkit.replay.engine import replay
from schedkit.replay.fill import fill_workload
from schedkit.replay.gpu_metrics import at_arrived_demand
from schedkit.traces import load_trace


def write(tmp_path, nodes, pods) -> str:
    pd.DataFrame(nodes).to_csv(tmp_path / "nodes.csv", index=False)
    pd.DataFrame(pods).to_csv(tmp_path / "pods.csv", index=False)
    return str(tmp_path)


def gpu_row(name, arrival, duration, gpus, milli, cpu="1"):
    return {"name": name, "arrival": arrival, "duration": duration, "cpu": cpu, "memory": "1Gi",
            "nvidia.com/gpu": gpus, "annotations": json.dumps({"alibabacloud.com/gpu-milli": str(milli)})}


NODES = [{"name": "n1", "cpu": "8", "memory": "64Gi", "nvidia.com/gpu": 2,
          "labels": json.dumps({"alibabacloud.com/gpu-card-model": "V100"})}]


def test_timeline_counts_milli_gpu_device_by_device(tmp_path):
    # Two 400-milli shares from t=0 (best fit: both on device 0), a whole GPU from t=5 (device 1),
    # the first share leaves at 10, the rest at 20.
    pods = [gpu_row("a", 0, 10, 1, 400), gpu_row("b", 0, 20, 1, 400), gpu_row("c", 5, 15, 1, 1000)]
    workload, _ = load_trace(write(tmp_path, NODES, pods))
    result = replay(Scheduler(parse_config(SHARE_CONFIG)), workload)
    gpu = report.gpu_report(result, fill=False)
    frame = report.timeline(result, gpu).set_index("time")
    assert frame.loc[0.0, "allocated_gpu_milli"] == 800 and frame.loc[0.0, "unallocated_gpu_milli"] == 1200
    assert frame.loc[5.0, "allocated_gpu_milli"] == 1800 and frame.loc[5.0, "unallocated_gpu_milli"] == 200
    assert frame.loc[10.0, "allocated_gpu_milli"] == 1400
    assert frame.loc[20.0, "allocated_gpu_milli"] == 0
    # The typical pods: 400-milli shares (2 of 3) and whole GPUs (1 of 3). At t=5 device 0 has 200 free:
    # a fragment for both shapes (neither fits in 200): 200 milli.
    assert frame.loc[5.0, "fragmented_gpu_milli"] == pytest.approx(200.0)
    # At t=0: device 0 has 200 free (fragment for both), device 1 is whole: fits both: 200.
    assert frame.loc[0.0, "fragmented_gpu_milli"] == pytest.approx(200.0)
    assert gpu.figures["atPeak"]["allocatedGpus"] == 1.8 and gpu.figures["end"]["allocatedGpus"] == 0


def test_without_a_sharing_plugin_a_share_holds_a_whole_device(tmp_path):
    pods = [gpu_row("a", 0, 10, 1, 400), gpu_row("b", 0, 20, 1, 400)]
    workload, _ = load_trace(write(tmp_path, NODES, pods))
    result = replay(Scheduler(), workload)  # the default profile counts nvidia.com/gpu: one device each
    frame = report.timeline(result, report.gpu_report(result, fill=False)).set_index("time")
    assert frame.loc[0.0, "allocated_gpu_milli"] == 800 and frame.loc[0.0, "unallocated_gpu_milli"] == 0


def test_fill_curve_and_the_studys_buckets(tmp_path):
    # Capacity 2000 milli; shares of 500 submitted in order: arrived 25, 50, 75, 100, 125%; the fifth fails.
    pods = [gpu_row(f"p{i}", i, 1, 1, 500) for i in range(5)]
    workload, _ = load_trace(write(tmp_path, NODES, pods))
    filled, _ = fill_workload(workload, None, "gpu-milli", False, 0)
    result = replay(Scheduler(parse_config(SHARE_CONFIG)), filled)
    curve = report.gpu_report(result, fill=True).curve
    assert curve["arrived_gpu_demand"].tolist() == [0.25, 0.5, 0.75, 1.0, 1.25]
    assert curve["gpu_allocation"].tolist() == [0.25, 0.5, 0.75, 1.0, 1.0]
    table = at_arrived_demand(curve, points=(50, 51, 80, 99, 130))
    # 51 has no row of its own: the rows within one point (50) stand in; 80 and 130 have none at all.
    assert table == {"50": 50.0, "51": 50.0, "80": None, "99": 100.0, "130": None}


def test_buckets_round_half_to_even():
    curve = pd.DataFrame({"arrived_gpu_demand": [0.505, 0.515, 0.525], "gpu_allocation": [0.1, 0.2, 0.3]})
    # 50.5 -> 50, 51.5 -> 52, 52.5 -> 52
    assert at_arrived_demand(curve, points=(50, 52)) == {"50": 10.0, "52": 25.0}


def tuning_trace(tmp_path):
    nodes = [{"name": f"n{i}", "cpu": "8", "memory": "64Gi", "nvidia.com/gpu": 1} for i in range(2)]
    pods = [gpu_row("a", 0, 1, 1, 500), gpu_row("b", 1, 1, 1, 1000), {**gpu_row("c", 2, 1, 0, 0)}]
    return load_trace(write(tmp_path, nodes, pods))[0]


@pytest.mark.parametrize("seed", range(5))
def test_tuning_up_appends_drawn_copies_until_the_next_would_pass(tmp_path, seed):
    workload = tuning_trace(tmp_path)  # demand 1500 of 2000; target 1.3: 2600
    filled, info = fill_workload(workload, 1.3, "gpu-milli", True, seed)
    names = filled.names.tolist()
    assert sorted(names[:3]) == ["a", "b", "c"]
    copies = names[3:]
    assert copies and all(name.split("-tuned-")[1] == str(i) for i, name in enumerate(copies))
    milli = {"a": 500, "b": 1000, "c": 0}
    total = sum(milli[n.split("-tuned-")[0]] for n in names)
    assert total <= 2600 and info["submittedDemand"] == total / 2000 and info["tunedUp"] == len(copies)
    assert total + 500 > 2600 or total + 1000 > 2600  # stopped by a draw that would pass the target


def test_tuning_down_removes_pods_at_random(tmp_path):
    workload = tuning_trace(tmp_path)
    kept = set()
    for seed in range(20):
        filled, info = fill_workload(workload, 0.5, "gpu-milli", False, seed)  # goal 1000 of 1500
        total = sum({"a": 500, "b": 1000, "c": 0}[n] for n in filled.names)
        assert total <= 1000 and info["tunedDown"] == 3 - len(filled.names)
        assert list(filled.names) == [n for n in ["a", "b", "c"] if n in set(filled.names)]  # order kept
        kept.add(tuple(filled.names))
    assert len(kept) > 1
    assert np.all(filled.arrival == 0)
