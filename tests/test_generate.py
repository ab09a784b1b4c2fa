"""The openb-like trace generator: determinism, the schedkit trace schema, the fitted statistics, and
(when ../shared/traces/openb exists) closeness to the real trace it was fitted to."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

import numpy as np
import pandas as pd
import pytest

from schedkit.objects import parse_node, parse_pod
from schedkit.traces.generate import (
    COMMON_SHAPES,
    DEFAULT_LOAD,
    GPU_SPECS,
    NODE_TYPES,
    SHAPES,
    TAIL_PODS,
    arrival_rate,
    generate_like_openb,
    gpus_per_node,
    mean_duration,
    mean_gpu_request,
    write_trace,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "traces", "sample")
OPENB = os.path.join(os.path.dirname(REPO), "shared", "traces", "openb")
needs_trace = pytest.mark.skipif(not os.path.isdir(OPENB), reason=f"openb trace not found at {OPENB}")

GPU = "nvidia.com/gpu"
NODE_COLUMNS = ["name", "cpu", "memory", "pods", GPU, "labels"]
POD_COLUMNS = ["name", "arrival", "duration", "cpu", "memory", GPU, "annotations"]
SCHEMA_POD_COLUMNS = {"name", "namespace", "arrival", "duration", "end", "cpu", "memory", "ephemeral-storage",
                      "priority", "labels", "annotations", "node_selector", "tolerations", "affinity",
                      "topology_spread_constraints", "owner", "scheduler_name"}
SCHEMA_NODE_COLUMNS = {"name", "cpu", "memory", "pods", "ephemeral-storage", "labels", "taints"}


def _bytes(directory) -> tuple[bytes, bytes]:
    with open(os.path.join(directory, "nodes.csv"), "rb") as n, open(os.path.join(directory, "pods.csv"), "rb") as p:
        return n.read(), p.read()


def _milli(pods: pd.DataFrame) -> np.ndarray:
    return pods["annotations"].astype(str).map(lambda a: int(json.loads(a)["alibabacloud.com/gpu-milli"])).to_numpy()


def _int(column: pd.Series, suffix: str) -> np.ndarray:
    return column.astype(str).str.removesuffix(suffix).astype(np.int64).to_numpy()


def _gpus(table: pd.DataFrame) -> np.ndarray:
    return table[GPU].fillna(0).to_numpy(dtype=np.int64)


@pytest.fixture(scope="module")
def big():
    """Enough pods and nodes that sampling noise is well inside the tolerances below."""
    return generate_like_openb(nodes=20_000, pods=200_000, seed=11)


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    write_trace(*generate_like_openb(nodes=50, pods=700, seed=5), tmp_path / "a")
    write_trace(*generate_like_openb(nodes=50, pods=700, seed=5), tmp_path / "b")
    write_trace(*generate_like_openb(nodes=50, pods=700, seed=6), tmp_path / "c")
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert _bytes(tmp_path / "a")[1] != _bytes(tmp_path / "c")[1]


def test_the_bundled_sample_is_the_generator_output_byte_for_byte(tmp_path):
    write_trace(*generate_like_openb(nodes=200, pods=3000, seed=1), tmp_path)
    assert _bytes(tmp_path) == _bytes(SAMPLE), "regenerate traces/sample (see traces/README.md)"
    assert sum(len(b) for b in _bytes(SAMPLE)) < 400_000


def test_write_trace_leaves_no_temporary_files_and_plain_csv(tmp_path):
    write_trace(*generate_like_openb(nodes=3, pods=4, seed=0), tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["nodes.csv", "pods.csv"]
    nodes, pods = _bytes(tmp_path / "out")
    assert b"\r" not in nodes + pods
    assert pods.splitlines()[0] == b"name,arrival,duration,cpu,memory,nvidia.com/gpu,annotations"
    assert nodes.splitlines()[0] == b"name,cpu,memory,pods,nvidia.com/gpu,labels"


def test_tables_have_the_schema_columns_and_the_requested_counts():
    nodes, pods = generate_like_openb(nodes=123, pods=4567, seed=2)
    assert list(nodes.columns) == NODE_COLUMNS and list(pods.columns) == POD_COLUMNS
    assert (len(nodes), len(pods)) == (123, 4567)
    for table, allowed in ((nodes, SCHEMA_NODE_COLUMNS), (pods, SCHEMA_POD_COLUMNS)):
        extra = [c for c in table.columns if c not in allowed and "/" not in c]
        assert not extra, f"not schema columns: {extra}"
    assert not {"duration", "end"} <= set(pods.columns)
    assert nodes["name"].tolist() == [f"node-{i:05d}" for i in range(123)]
    assert pods["name"].tolist() == [f"pod-{i:07d}" for i in range(4567)]
    assert pods["name"].is_unique and nodes["name"].is_unique


def test_names_grow_wider_only_past_the_padding():
    nodes, pods = generate_like_openb(nodes=100_001, pods=2, seed=0)
    assert nodes["name"].iloc[-1] == "node-100000" and nodes["name"].iloc[0] == "node-000000"
    assert pods["name"].tolist() == ["pod-0000000", "pod-0000001"]


def test_zero_pods_and_bad_arguments():
    nodes, pods = generate_like_openb(nodes=1, pods=0, seed=0)
    assert len(nodes) == 1 and len(pods) == 0 and list(pods.columns) == POD_COLUMNS
    for kwargs in ({"nodes": 0, "pods": 1}, {"nodes": 1, "pods": -1}):
        with pytest.raises(ValueError):
            generate_like_openb(seed=0, **kwargs)
    with pytest.raises(ValueError):
        generate_like_openb(1, 1, 0, load=0)
    with pytest.raises(ValueError):
        generate_like_openb(1, 1, 0, gpu_spec_share=1.5)


def test_every_distinct_row_is_a_valid_node_or_pod_manifest():
    nodes, pods = generate_like_openb(nodes=300, pods=20_000, seed=3, gpu_spec_share=0.5)
    for row in nodes.drop_duplicates(["cpu", "memory", GPU]).itertuples(index=False):
        allocatable = {"cpu": row.cpu, "memory": row.memory, "pods": str(row.pods)}
        if not pd.isna(row[4]):
            allocatable[GPU] = str(row[4])
        node = parse_node({"kind": "Node", "metadata": {"name": row.name, "labels": json.loads(row.labels)},
                           "status": {"allocatable": allocatable}})
        assert min(node.allocatable.values()) >= 0
    columns = ["cpu", "memory", GPU, "annotations", "affinity"]
    for row in pods.drop_duplicates(columns)[["name", *columns]].itertuples(index=False):
        requests = {"cpu": row[1], "memory": row[2]}
        if not pd.isna(row[3]):
            requests[GPU] = str(row[3])
        spec = {"containers": [{"name": "main", "resources": {"requests": requests}}]}
        if row[5]:
            spec["affinity"] = json.loads(row[5])
        pod = parse_pod({"kind": "Pod", "metadata": {"name": row[0], "annotations": json.loads(row[4])},
                         "spec": spec})
        assert min(pod.requests.values()) >= 0


def test_no_negative_values_and_arrivals_in_milliseconds():
    nodes, pods = generate_like_openb(nodes=500, pods=50_000, seed=4)
    arrival = pods["arrival"].to_numpy()
    assert arrival.min() >= 0 and np.all(np.diff(arrival) >= 0)
    assert np.allclose(arrival * 1000, np.rint(arrival * 1000), atol=1e-6)
    assert pods["duration"].dtype == np.int64 and pods["duration"].min() >= 1
    for table in (nodes, pods):
        assert _int(table["cpu"], "m").min() >= 0 and _int(table["memory"], "Mi").min() >= 0
        assert table[GPU].dropna().min() >= 1  # 0 is written as an empty cell
    assert (_milli(pods) >= 0).all() and (nodes["pods"] == 1001).all()


def test_gpu_nodes_carry_the_card_model_label_and_cpu_nodes_do_not():
    nodes, _ = generate_like_openb(nodes=2000, pods=0, seed=6)
    for name, gpus, labels in zip(nodes["name"], _gpus(nodes), nodes["labels"]):
        labels = json.loads(labels)
        assert labels["kubernetes.io/hostname"] == name
        assert ("alibabacloud.com/gpu-card-model" in labels) == (gpus > 0)


def test_node_mix_matches_the_real_node_list(big):
    nodes, _ = big
    gpus = _gpus(nodes)
    assert abs((gpus > 0).mean() - 1213 / 1523) < 0.01
    assert abs(gpus.mean() - 6212 / 1523) < 0.05
    assert abs(_int(nodes["cpu"], "m").mean() / 1000 - 125_514 / 1523) < 1.0
    models = nodes["labels"].map(lambda s: json.loads(s).get("alibabacloud.com/gpu-card-model", ""))
    assert abs((models == "G2").mean() - 549 / 1523) < 0.01
    assert abs((models == "T4").mean() - 404 / 1523) < 0.01


def test_pod_requests_match_the_published_statistics(big):
    _, pods = big
    gpus, milli = _gpus(pods), _milli(pods)
    cpu, memory = _int(pods["cpu"], "m"), _int(pods["memory"], "Mi")
    assert abs((gpus == 0).mean() - 0.133) < 0.005  # CPU-only pods
    gpu_pods = gpus > 0
    sharing = (gpus == 1) & (milli < 1000)
    assert abs(sharing.sum() / gpu_pods.sum() - 0.436) < 0.01  # GPU-sharing pods among GPU pods
    demand = np.where(gpus == 1, milli, gpus * 1000)
    assert abs(demand[sharing].sum() / demand.sum() - 0.285) < 0.01  # GPU demand from sharing pods
    assert abs(demand[gpus > 1].sum() / demand.sum() - 0.073) < 0.01  # GPU demand from multi-GPU pods
    assert set(np.unique(gpus)) == {0, 1, 2, 4, 8}
    assert (milli[gpus > 1] == 1000).all() and (milli[gpus == 0] == 0).all()
    assert abs(cpu.mean() - 10_480) / 10_480 < 0.02
    assert abs(memory.mean() - 37_236) / 37_236 < 0.02
    assert abs(np.median(cpu) - 11_300) <= 200 and abs(np.median(memory) - 41_560) <= 2_000
    assert abs(np.median(milli[sharing]) - 470) <= 20


def test_request_shapes_stay_few():
    _, pods = generate_like_openb(nodes=100, pods=300_000, seed=7, gpu_spec_share=1.0)
    shapes = pods.drop_duplicates(["cpu", "memory", GPU, "annotations"])
    assert len(shapes) <= len(SHAPES) * (len(GPU_SPECS) + 1)
    assert pods.drop_duplicates(["cpu", "memory", GPU])["cpu"].size <= len(SHAPES)


def test_every_shape_fits_on_some_real_node_type():
    for cpu, memory, gpus, _ in SHAPES.tolist():
        assert any(t[1] >= gpus and t[2] >= cpu and t[3] >= memory for t in NODE_TYPES), (cpu, memory, gpus)


def test_gpu_specs_become_annotation_and_a_deduplicated_required_node_affinity():
    _, pods = generate_like_openb(nodes=100, pods=20_000, seed=8, gpu_spec_share=0.3)
    gpus, spec_pods = _gpus(pods), pods["affinity"].astype(str) != ""
    assert abs(spec_pods[gpus > 0].mean() - 0.3) < 0.02 and not spec_pods[gpus == 0].any()
    cpu, memory = _int(pods["cpu"], "m"), _int(pods["memory"], "Mi")
    for i in np.flatnonzero(spec_pods.to_numpy())[:2000]:
        spec = json.loads(pods["annotations"].iloc[i])["alibabacloud.com/gpu-card-model"]
        term = json.loads(pods["affinity"].iloc[i])["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        (expression,) = term["nodeSelectorTerms"][0]["matchExpressions"]
        assert expression["key"] == "alibabacloud.com/gpu-card-model" and expression["operator"] == "In"
        assert expression["values"] == list(dict.fromkeys(spec.split("|")))
        assert any(t[0] in expression["values"] and t[1] >= gpus[i] and t[2] >= cpu[i] and t[3] >= memory[i]
                   for t in NODE_TYPES), "a spec must leave the pod some node type to run on"


def test_arrivals_are_poisson_at_a_rate_proportional_to_nodes(big):
    assert arrival_rate(2000) == pytest.approx(10 * arrival_rate(200))
    _, pods = big
    arrival = pods["arrival"].to_numpy()
    fresh = arrival[arrival > 0]
    gaps = np.diff(fresh)
    assert abs(gaps.mean() * arrival_rate(20_000) - 1) < 0.02
    assert abs(np.std(gaps) / gaps.mean() - 1) < 0.05  # exponential: coefficient of variation 1


def test_durations_follow_the_fitted_lifetimes(big):
    _, pods = big
    fresh = pods["duration"].to_numpy()[pods["arrival"].to_numpy() > 0]
    p25, p50, p75, p90 = np.quantile(fresh, [0.25, 0.5, 0.75, 0.9])
    assert abs(p25 - 167) / 167 < 0.1 and abs(p50 - 540) / 540 < 0.1
    assert abs(p75 - 1972) / 1972 < 0.1 and abs(p90 - 6573) / 6573 < 0.1
    assert fresh.max() <= 86_400 and abs(fresh.mean() - mean_duration()) / mean_duration() < 0.05
    _, uncapped = generate_like_openb(nodes=10, pods=50_000, seed=9, max_duration=None, warm_start=False)
    assert uncapped["duration"].max() > 86_400


def _live_gpu_share(nodes: pd.DataFrame, pods: pd.DataFrame, capacity: float | None = None) -> np.ndarray:
    """Requested nvidia.com/gpu of the pods alive at 400 instants over the trace, over the capacity."""
    gpus = _gpus(pods)
    start = pods["arrival"].to_numpy()
    end = start + pods["duration"].to_numpy()
    instants = np.linspace(0, start.max(), 400)
    live = np.array([gpus[(start <= t) & (end > t)].sum() for t in instants])
    return live / (capacity if capacity is not None else _gpus(nodes).sum())


def test_offered_load_is_the_target_from_the_first_second(big):
    nodes, pods = big
    share = _live_gpu_share(nodes, pods, capacity=len(nodes) * gpus_per_node())
    assert abs(share.mean() - DEFAULT_LOAD) < 0.02 and share.min() > DEFAULT_LOAD - 0.05
    cold = _live_gpu_share(*generate_like_openb(nodes=200, pods=3000, seed=1, warm_start=False))
    assert cold[0] == 0 and cold.mean() < 0.5  # without a warm start the trace ramps up slowly


def test_the_sample_keeps_its_cluster_busy_but_not_overloaded():
    nodes = pd.read_csv(os.path.join(SAMPLE, "nodes.csv"), keep_default_na=False, na_values={GPU: [""]})
    pods = pd.read_csv(os.path.join(SAMPLE, "pods.csv"), keep_default_na=False, na_values={GPU: [""]})
    share = _live_gpu_share(nodes, pods)
    assert 0.5 <= share.mean() <= 0.8 and share.max() < 0.9
    expected = arrival_rate(200) * mean_duration() * mean_gpu_request() / (200 * gpus_per_node())
    assert expected == pytest.approx(DEFAULT_LOAD)


def test_a_million_pods_on_ten_thousand_nodes_is_quick():
    started = time.perf_counter()
    _, pods = generate_like_openb(nodes=10_000, pods=1_000_000, seed=0)
    assert time.perf_counter() - started < 20 and len(pods) == 1_000_000


# --- against the real trace --------------------------------------------------------------------

def _real(name: str, sha256_prefix: str) -> pd.DataFrame:
    path = os.path.join(OPENB, name)
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    if not digest.startswith(sha256_prefix):
        pytest.skip(f"{name} is not the documented file (sha256 {digest[:16]})")
    return pd.read_csv(path, dtype={"gpu_spec": str, "model": str}, keep_default_na=False,
                       na_values={"scheduled_time": [""]})


def _total_variation(a: pd.Series, b: pd.Series) -> float:
    p, q = a.value_counts(normalize=True), b.value_counts(normalize=True)
    return float(p.sub(q, fill_value=0).abs().sum() / 2)


@needs_trace
def test_fitted_tables_are_the_real_counts():
    real = _real("openb_pod_list_default.csv", "1ee7ed79c27a3b08")
    counts = real.groupby(["cpu_milli", "memory_mib", "num_gpu", "gpu_milli"]).size()
    assert {s[:4]: s[4] for s in COMMON_SHAPES} == counts[counts >= 3].to_dict()
    assert counts[counts < 3].sum() == TAIL_PODS
    nodes = _real("openb_node_list_all_node.csv", "5a85c2af79c66a1e")
    assert {t[:4]: t[4] for t in NODE_TYPES} == nodes.groupby(["model", "gpu", "cpu_milli", "memory_mib"]).size().to_dict()


@needs_trace
def test_generated_shapes_are_close_to_the_real_pod_list(big):
    real = _real("openb_pod_list_default.csv", "1ee7ed79c27a3b08")
    _, pods = big
    gen = pd.DataFrame({"cpu_milli": _int(pods["cpu"], "m"), "memory_mib": _int(pods["memory"], "Mi"),
                        "num_gpu": _gpus(pods), "gpu_milli": _milli(pods)})

    def key(t: pd.DataFrame) -> pd.Series:
        return t["cpu_milli"].astype(str) + "/" + t["memory_mib"].astype(str) + "/" + t["num_gpu"].astype(str) \
            + "/" + t["gpu_milli"].astype(str)

    assert _total_variation(key(gen), key(real)) < 0.03  # whole shapes
    assert _total_variation(gen["num_gpu"], real["num_gpu"]) < 0.01
    def sharing(t: pd.DataFrame) -> pd.Series:
        return t.loc[(t["num_gpu"] == 1) & (t["gpu_milli"] < 1000), "gpu_milli"]

    assert _total_variation(sharing(gen), sharing(real)) < 0.03
    for column in ("cpu_milli", "memory_mib"):
        for q in (0.1, 0.25, 0.5, 0.75, 0.9):
            g, r = np.quantile(gen[column], q), np.quantile(real[column], q)
            assert abs(g - r) / r < 0.1, (column, q, g, r)
    lifetimes = (real["deletion_time"] - real["creation_time"]).to_numpy()
    fresh = pods["duration"].to_numpy()[pods["arrival"].to_numpy() > 0]
    for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.95):
        g, r = np.quantile(fresh, q), max(np.quantile(lifetimes, q), 1)
        assert abs(g - r) / r < 0.15, (q, g, r)


@needs_trace
def test_generated_nodes_are_close_to_the_real_node_list(big):
    real = _real("openb_node_list_all_node.csv", "5a85c2af79c66a1e")
    nodes, _ = big
    model = nodes["labels"].map(lambda s: json.loads(s).get("alibabacloud.com/gpu-card-model", ""))
    gen_key = model + "/" + pd.Series(_gpus(nodes)).astype(str) + "/" + nodes["cpu"].astype(str) + "/" \
        + nodes["memory"].astype(str)
    real_key = real["model"] + "/" + real["gpu"].astype(str) + "/" + real["cpu_milli"].astype(str) + "m/" \
        + real["memory_mib"].astype(str) + "Mi"
    assert _total_variation(gen_key, real_key) < 0.02


def test_generated_nodes_names_look_like_dns_names():
    nodes, pods = generate_like_openb(nodes=3, pods=3, seed=0)
    pattern = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    assert all(pattern.match(n) for n in [*nodes["name"], *pods["name"]])
