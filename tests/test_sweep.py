"""schedkit sweep and schedkit plot: the sweep file and its errors, the tables' contract, resuming, failed
runs, the local pool against a Dask LocalCluster, and the figures."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from schedkit.cli import main
from schedkit.packaged import examples
from schedkit.sweep.runner import run_sweep
from schedkit.sweep.spec import load_sweep_file

CONFIGS = examples() / "fgd" / "configs"
OPENB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "traces", "openb")


def small_trace(folder) -> str:
    os.makedirs(folder, exist_ok=True)
    nodes = [{"name": f"n{i}", "cpu": "16", "memory": "64Gi", "nvidia.com/gpu": [2, 4, 8][i % 3],
              "labels": json.dumps({"alibabacloud.com/gpu-card-model": "V100"})} for i in range(6)]
    rng = np.random.default_rng(5)
    pods = []
    for j in range(40):
        gpus = int(rng.choice([0, 1, 1, 1, 2]))
        milli = int(rng.choice([250, 500, 1000])) if gpus == 1 else (1000 if gpus else 0)
        pods.append({"name": f"p{j:02d}", "arrival": j, "duration": 50, "cpu": f"{int(rng.integers(1, 6))}",
                     "memory": "1Gi", "nvidia.com/gpu": gpus,
                     "annotations": json.dumps({"alibabacloud.com/gpu-milli": str(milli)})})
    pd.DataFrame(nodes).to_csv(os.path.join(folder, "nodes.csv"), index=False)
    pd.DataFrame(pods).to_csv(os.path.join(folder, "pods.csv"), index=False)
    return str(folder)


def sweep_file(tmp_path, **changes) -> str:
    trace = small_trace(tmp_path / "tiny")
    doc = {
        "configs": [{"name": "BestFit", "config": str(CONFIGS / "best-fit.yaml")},
                    {"name": "FGD", "config": str(CONFIGS / "fgd.yaml")}],
        "traces": [trace],
        "seeds": "1-2",
        "replay": {"mode": "fill", "targetDemand": 1.2, "targetResource": "gpu-milli", "shuffle": True,
                   "ties": "first", "nodeOrder": "shuffled"},
    }
    doc.update(changes)
    path = tmp_path / "sweep.yaml"
    path.write_text(json.dumps(doc))
    return str(path)


def test_sweep_tables_follow_the_contract_and_a_rerun_resumes(tmp_path):
    path = sweep_file(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", path, "--out", str(out), "--workers", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "GPU allocation (% of GPU capacity) at arrived GPU demand" in result.output
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and set(runs["status"]) == {"ok"}
    assert runs[["config", "trace", "seed"]].values.tolist() == [
        ["BestFit", "tiny", 1], ["BestFit", "tiny", 2], ["FGD", "tiny", 1], ["FGD", "tiny", 2]]
    for column in ("wall_seconds", "schedkit_version", "pods.scheduled", "gpu.end.fragmentation",
                   "gpu.allocationAtArrivedDemand.100", "fill.submittedDemand", "performance.decisions"):
        assert column in runs.columns, column
    assert pd.read_csv(out / "runs.csv")["config"].tolist() == runs["config"].tolist()
    curves = pd.read_parquet(out / "curves.parquet")
    assert list(curves.columns) == ["config", "trace", "seed", "arrived_gpu_demand", "gpu_allocation", "fragmentation"]
    for (config, seed), curve in curves.groupby(["config", "seed"]):
        assert curve["arrived_gpu_demand"].is_monotonic_increasing
        assert (curve["gpu_allocation"] <= curve["arrived_gpu_demand"] + 1e-9).all()
        # at least one row per 1% of arrived demand
        assert np.diff(np.concatenate([[0], curve["arrived_gpu_demand"].to_numpy()])).max() <= 0.01 + 0.5
    # A rerun: everything is done already; the tables are the same.
    stamps = {f: os.path.getmtime(out / "runs" / f) for f in os.listdir(out / "runs")}
    again = CliRunner().invoke(main, ["sweep", path, "--out", str(out), "--workers", "1"])
    assert again.exit_code == 0, again.output
    assert "4 of 4 runs already done" in again.output
    assert {f: os.path.getmtime(out / "runs" / f) for f in os.listdir(out / "runs")} == stamps
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs)


def test_an_interrupted_sweep_runs_only_what_is_missing(tmp_path):
    spec = load_sweep_file(sweep_file(tmp_path), None)
    out = tmp_path / "out"
    run_sweep(spec, str(out), workers=1, quiet=True)
    first = pd.read_parquet(out / "runs.parquet")
    # As if interrupted: one run's row never written, the tables not written.
    missing = spec.runs[1]
    os.unlink(out / "runs" / f"{missing.key}.json")
    os.unlink(out / "runs.parquet")
    kept = os.path.getmtime(out / "runs" / f"{spec.runs[0].key}.json")
    files, total, failed = run_sweep(spec, str(out), workers=1, quiet=True)
    assert (total, failed) == (4, 0)
    assert os.path.getmtime(out / "runs" / f"{spec.runs[0].key}.json") == kept
    again = pd.read_parquet(out / "runs.parquet")
    columns = [c for c in first.columns if c not in ("wall_seconds",) and not c.startswith("performance.")]
    pd.testing.assert_frame_equal(again[columns], first[columns])  # same seeds, same results


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path):
    trace = small_trace(tmp_path / "tiny")
    untimed = tmp_path / "untimed.csv"  # an openb list without times: a timed replay refuses it
    untimed.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,1024,1,500\n")
    (tmp_path / "openb_node_list_gpu_node.csv").write_text("sn,cpu_milli,memory_mib,gpu,model\nn1,8000,65536,2,V100\n")
    path = sweep_file(tmp_path, traces=[trace, str(untimed)], replay={"mode": "timed"}, seeds=[3])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", path, "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "2 failed: see the error column" in result.output
    runs = pd.read_parquet(out / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert failed["trace"].tolist() == ["untimed", "untimed"]
    assert failed["error"].str.contains("mode: fill").all()
    assert (runs[runs["status"] == "ok"]["trace"] == "tiny").all()


def test_the_dask_path_gives_the_local_results(tmp_path):
    pytest.importorskip("dask.distributed")
    path = sweep_file(tmp_path, seeds=[7])
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert CliRunner().invoke(main, ["sweep", path, "--out", str(local), "--workers", "1"]).exit_code == 0
    result = CliRunner().invoke(main, ["sweep", path, "--out", str(remote), "--dask", "local", "--workers", "2",
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    a, b = pd.read_parquet(local / "runs.parquet"), pd.read_parquet(remote / "runs.parquet")
    columns = [c for c in a.columns if c not in ("wall_seconds",) and not c.startswith("performance.")]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    pd.testing.assert_frame_equal(pd.read_parquet(local / "curves.parquet"), pd.read_parquet(remote / "curves.parquet"))


@pytest.mark.parametrize("changes, fragment", [
    ({"seeds": "x"}, "seeds: not a seed list"),
    ({"replay": {"mode": "fill", "targetDemnd": 1.3}}, "replay.targetDemnd: unknown field"),
    ({"configs": [{"name": "A", "config": "nowhere.yaml"}]}, "configs[0].config: no such configuration file"),
    ({"configs": [{"name": "A", "config": {"apiVersion": "x"}}]}, "unsupported apiVersion"),
    ({"traces": ["openb_pod_list_nothing"]}, "traces[0]: no trace 'openb_pod_list_nothing'"),
    ({"replay": {"ties": "last"}}, "replay.ties: must be one of random, first"),
])
def test_bad_sweep_files_are_one_line_errors(tmp_path, changes, fragment):
    path = sweep_file(tmp_path, **changes)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", path, "--out", str(out), "--openb", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (out / "runs.parquet").exists()


def test_command_line_sweep_and_plot(tmp_path):
    trace = small_trace(tmp_path / "tiny")
    out = tmp_path / "cli"
    result = CliRunner().invoke(main, ["sweep", "--config", str(CONFIGS / "random.yaml"), "--config",
                                       str(CONFIGS / "gpu-packing.yaml"), "--trace", trace, "--seeds", "1,2",
                                       "--mode", "fill", "--target-demand", "1.1", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out / "runs.parquet")["config"].unique().tolist() == ["random", "gpu-packing"]
    plotted = CliRunner().invoke(main, ["plot", str(out)])
    assert plotted.exit_code == 0, plotted.output
    names = sorted(os.listdir(out / "plots"))
    assert names == ["allocation-at-100.png", "allocation-at-100.svg", "allocation-tiny.png", "allocation-tiny.svg",
                     "fragmentation-tiny.png", "fragmentation-tiny.svg"]
    import matplotlib.image

    image = matplotlib.image.imread(out / "plots" / "allocation-tiny.png")
    assert len(np.unique(image.reshape(-1, image.shape[-1]), axis=0)) > 20  # drawn, not blank
    assert "<svg" in (out / "plots" / "allocation-tiny.svg").read_text()[:2000]
    assert CliRunner().invoke(main, ["plot", str(tmp_path)]).exit_code == 2


@pytest.mark.skipif(not os.path.isdir(OPENB), reason="../shared/traces/openb not present")
def test_the_shipped_study_files_name_existing_traces():
    for name in ("default.yaml", "all.yaml"):
        spec = load_sweep_file(str(examples() / "fgd" / name), OPENB)
        assert {r.config_name for r in spec.runs} == {"Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit",
                                                      "FGD"}
        assert len(spec.runs) == (60 if name == "default.yaml" else 1020)
