"""GpuShare: per-device GPU sharing (Filter, device choice at Reserve, Unreserve), the pod-side contract
(open-gpu-share's annotations), and the device invariants of replays that use it."""

from __future__ import annotations

import os

import numpy as np
import pytest
from gpu_checks import check_device_invariants

from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.gpu import format_index, parse_index, pod_gpu_ask
from schedkit.plugins.gpu_share import (
    BEST_FIT,
    FIRST_FIT,
    REASONS,
    RANDOM_FIT,
    WORST_FIT,
    GpuShare,
    choose_devices,
    MODEL_MISMATCH,
    NO_GPU,
    NOT_ENOUGH_GPU,
)
from schedkit.replay.engine import replay
from schedkit.replay.report import placements
from schedkit.testing import check_plugin, make_cluster, make_pod, run_plugin
from schedkit.traces import load_trace

OPENB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "traces", "openb")
SAMPLE = os.path.join(os.path.dirname(__file__), "..", "traces", "sample")
BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}
SHARE_CONFIG = {**BASE, "profiles": [{
    "plugins": {"multiPoint": {"enabled": [{"name": "GpuShare"}]}},
    "pluginConfig": [{"name": "NodeResourcesFit", "args": {"ignoredResources": ["nvidia.com/gpu"]}}]}]}


def gpu_node(name: str, gpus: int, model: str = "V100") -> dict:
    labels = {"alibabacloud.com/gpu-card-model": model} if model else {}
    return {"metadata": {"name": name, "labels": labels},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110", "nvidia.com/gpu": str(gpus)}}}


def gpu_pod(name: str, milli: int, count: int = 1, models: str = "", node: str = "", index: str = "") -> dict:
    annotations = {"alibabacloud.com/gpu-milli": str(milli), "alibabacloud.com/gpu-count": str(count)}
    if models:
        annotations["alibabacloud.com/gpu-card-model"] = models
    if index:
        annotations["alibabacloud.com/gpu-index"] = index
    requests = {"cpu": "1", "nvidia.com/gpu": str(count)} if count else {"cpu": "1"}
    manifest = {"metadata": {"name": name, "namespace": "default", "annotations": annotations},
                "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]}}
    if node:
        manifest["spec"]["nodeName"] = node
        manifest["status"] = {"phase": "Running"}
    return manifest


def verdicts(cluster, pod) -> dict[str, str]:
    run = run_plugin(GpuShare(), cluster, make_pod(pod))
    return {node: "ok" if status[0] == "Success" else status[1][0] for node, status in run.filter.items()}


def test_a_share_fits_one_device_with_that_much_free():
    # a: device 0 holds 700, device 1 holds 500; b: its one device holds 800.
    running = [gpu_pod("r1", 700, node="a", index="0"), gpu_pod("r2", 500, node="a", index="1"),
               gpu_pod("r3", 800, node="b", index="0")]
    cluster = make_cluster([gpu_node("a", 2), gpu_node("b", 1)], running)
    short = REASONS[NOT_ENOUGH_GPU]
    assert verdicts(cluster, gpu_pod("p", 500)) == {"a": "ok", "b": short}
    assert verdicts(cluster, gpu_pod("p", 501)) == {"a": short, "b": short}
    assert verdicts(cluster, gpu_pod("p", 200)) == {"a": "ok", "b": "ok"}
    # Free milli summed over devices (a: 800) is not what counts: 600 fits no single device.
    assert verdicts(cluster, gpu_pod("p", 600)) == {"a": short, "b": short}


def test_whole_gpus_need_fully_free_devices_and_models_restrict():
    running = [gpu_pod("r1", 100, node="a", index="2")]
    cluster = make_cluster([gpu_node("a", 4), gpu_node("b", 2, "T4"), gpu_node("c", 0, "")], running)
    short, model, none = REASONS[NOT_ENOUGH_GPU], REASONS[MODEL_MISMATCH], REASONS[NO_GPU]
    assert verdicts(cluster, gpu_pod("p", 1000, 3)) == {"a": "ok", "b": short, "c": none}
    assert verdicts(cluster, gpu_pod("p", 1000, 4)) == {"a": short, "b": short, "c": none}
    assert verdicts(cluster, gpu_pod("p", 1000, 2, models="T4|A100")) == {"a": model, "b": "ok", "c": none}
    cpu_only = gpu_pod("p", 0, 0)
    assert verdicts(cluster, cpu_only) == {"a": "ok", "b": "ok", "c": "ok"}


def test_device_choice():
    free = np.array([[300, 1000, 200, 600]], dtype=np.int64)
    count = np.array([4], dtype=np.int64)
    rng = np.zeros(1, dtype=np.uint64)
    py = choose_devices.py_func
    assert py(free, count, 0, 200, 1, BEST_FIT, rng) == 1 << 2  # the tightest fit
    assert py(free, count, 0, 250, 1, BEST_FIT, rng) == 1 << 0
    assert py(free, count, 0, 250, 1, WORST_FIT, rng) == 1 << 1
    assert py(free, count, 0, 650, 1, FIRST_FIT, rng) == 1 << 1
    assert py(free, count, 0, 1000, 1, BEST_FIT, rng) == 1 << 1
    assert py(free, count, 0, 1000, 2, BEST_FIT, rng) == -1
    assert py(free, count, 0, 700, 1, BEST_FIT, rng) == 1 << 1
    eight = np.array([[1000, 0, 1000, 1000, 500, 1000, 1000, 1000]], dtype=np.int64)
    assert choose_devices(eight, np.array([8]), 0, 1000, 3, WORST_FIT, rng) == 0b1101  # lowest fully free
    # Random: uniform over the fitting devices (0, 1 and 3 fit 300), never an unfitting one.
    picks = [py(free, count, 0, 300, 1, RANDOM_FIT, rng) for _ in range(3000)]
    shares = {m: picks.count(m) / len(picks) for m in set(picks)}
    assert set(shares) == {1 << 0, 1 << 1, 1 << 3} and all(abs(v - 1 / 3) < 0.04 for v in shares.values())


def test_pod_contract():
    assert pod_gpu_ask(make_pod(gpu_pod("p", 500))) == (500, 1, ())
    assert pod_gpu_ask(make_pod(gpu_pod("p", 1000, 8, models="A10|V100M16|A10"))) == (1000, 8, ("A10", "V100M16"))
    assert pod_gpu_ask(make_pod(gpu_pod("p", 0, 0))) == (0, 0, ())
    # No annotations: nvidia.com/gpu asks for whole GPUs.
    plain = make_pod({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}}]}})
    assert pod_gpu_ask(plain) == (1000, 2, ())
    for bad, field in ((gpu_pod("p", 1500), "gpu-milli"), (gpu_pod("p", 500, 2), "gpu-milli")):
        with pytest.raises(ValueError, match=field):
            pod_gpu_ask(make_pod(bad))
    assert parse_index("0-3", "x", 4) == 0b1001 and format_index(0b1001) == "0-3" and format_index(-1) is None
    with pytest.raises(ValueError, match="device 4 is not on the node"):
        parse_index("4", "x", 4)


def test_check_plugin():
    nodes = [gpu_node("a", 2), gpu_node("b", 8, "T4"), gpu_node("c", 1, "")]
    running = [gpu_pod("r1", 300, node="a", index="1")]
    pods = [make_pod(gpu_pod(f"p{i}", m, c, models=s)) for i, (m, c, s) in enumerate(
        [(500, 1, ""), (1000, 2, ""), (1000, 1, "T4"), (0, 0, ""), (800, 1, "V100")])]
    check_plugin(GpuShare, clusters=[make_cluster(nodes, running)], pods=pods, examples=10)


def test_batch_schedule_shares_devices():
    scheduler = Scheduler(parse_config(SHARE_CONFIG))
    cluster = make_cluster([gpu_node("a", 1)])
    pods = [make_pod(gpu_pod(f"p{i}", 300)) for i in range(4)]
    result = scheduler.schedule(cluster, pods)
    placed = [a.node for a in result.assignments]
    assert placed == ["a", "a", "a", None]  # three shares of 300 on the one device, the fourth does not fit


@pytest.mark.parametrize("choice", ["best", "worst", "first"])
def test_sample_replay_keeps_device_invariants(choice):
    config = {**SHARE_CONFIG, "profiles": [{**SHARE_CONFIG["profiles"][0], "pluginConfig": [
        *SHARE_CONFIG["profiles"][0]["pluginConfig"], {"name": "GpuShare", "args": {"deviceChoice": choice}}]}]}
    workload, _ = load_trace(SAMPLE)
    result = replay(Scheduler(parse_config(config)), workload, seed=1)
    frame = placements(result)
    assert check_device_invariants(frame, workload) > 1000
