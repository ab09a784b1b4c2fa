"""`schedkit bench`: the table, the --json shape, --baseline regression flags and bad arguments."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from schedkit.benchmark import check_replay, check_schedule
from schedkit.cli import main
from schedkit.framework.scheduler import Assignment, ScheduleResult
from schedkit.workloads import WORKLOADS

KEYS = {"workload", "nodes", "initPods", "measuredPods", "scoring", "podsPerSecond", "compileSeconds",
        "cachedCompileSeconds", "referencePodsPerSecond", "upstreamFloor", "scheduled"}


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_bench_writes_the_documented_json_and_a_table(tmp_path):
    out = tmp_path / "bench.json"
    result = run("bench", "SchedulingBasic", "SchedulingPodAntiAffinity", "--nodes", "200", "--scoring", "both",
                 "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "SchedulingPodAntiAffinity" in result.stdout and "includes API-server binding" in result.stdout
    data = json.loads(out.read_text())
    assert set(data["machine"]) == {"cpu", "cores", "python", "numba"}
    assert [(r["workload"], r["scoring"]) for r in data["results"]] == [
        ("SchedulingBasic", "adaptive"), ("SchedulingBasic", "full"),
        ("SchedulingPodAntiAffinity", "adaptive"), ("SchedulingPodAntiAffinity", "full")]
    for r in data["results"]:
        assert set(r) == KEYS
        assert r["nodes"] == 200 and r["scheduled"] == r["measuredPods"] > 0
        assert r["upstreamFloor"] == WORKLOADS[r["workload"]].floor
        assert r["podsPerSecond"] > r["referencePodsPerSecond"] > 0
    basic = data["results"][0]
    assert (basic["initPods"], basic["measuredPods"]) == (40, 400)  # 1000 / 10000 scaled to 200 nodes


def test_baseline_flags_a_regression_and_exits_1(tmp_path):
    out = tmp_path / "bench.json"
    assert run("bench", "SchedulingBasic", "--nodes", "100", "--scoring", "adaptive", "--quick",
               "--json", str(out)).exit_code == 0
    data = json.loads(out.read_text())
    data["results"][0]["podsPerSecond"] *= 1000  # a baseline no machine can match
    out.write_text(json.dumps(data))
    result = run("bench", "SchedulingBasic", "--nodes", "100", "--scoring", "adaptive", "--quick",
                 "--baseline", str(out))
    assert result.exit_code == 1
    assert "REGRESSION SchedulingBasic (adaptive, 100 nodes)" in result.stdout


def test_unknown_workload_and_bad_baseline_are_one_line_errors(tmp_path):
    result = run("bench", "NoSuchWorkload", "--quick")
    assert result.exit_code == 2
    assert result.stderr.startswith("schedkit: error: unknown workload 'NoSuchWorkload'; available: SchedulingBasic")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = run("bench", "SchedulingBasic", "--nodes", "50", "--quick", "--baseline", str(bad))
    assert result.exit_code == 2 and "not a `schedkit bench --json` file" in result.stderr


def test_check_schedule_rejects_unplaced_pods_and_overcommitted_nodes():
    workload = WORKLOADS["SchedulingBasic"].make(20)
    pods = workload.measured
    ok = ScheduleResult([Assignment(p.key, "scheduler-perf-node-0" if i < 30 else "scheduler-perf-node-1", None)
                         for i, p in enumerate(pods[:60])], 1.0, 0.0, True)
    workload.measured = pods[:60]
    check_schedule(workload, ok)  # 31 pods of 100m / 500Mi per 4-CPU, 32Gi node: within allocatable
    crowded = ScheduleResult([Assignment(p.key, "scheduler-perf-node-0", None) for p in workload.measured],
                             1.0, 0.0, True)
    with pytest.raises(AssertionError, match="scheduler-perf-node-0 is over its allocatable cpu"):
        check_schedule(workload, crowded)  # 60 pods of 100m on one 4-CPU node
    unplaced = ScheduleResult([Assignment(p.key, None, "0/20 nodes are available") for p in workload.measured],
                              1.0, 0.0, True)
    with pytest.raises(AssertionError, match="measured pods not placed"):
        check_schedule(workload, unplaced)


OPENB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "traces", "openb")


@pytest.mark.skipif(not os.path.isdir(OPENB), reason="../shared/traces/openb not present")
def test_openb_fill_row(tmp_path):
    out = tmp_path / "bench.json"
    result = run("bench", "OpenbFill", "--openb", OPENB, "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "OpenbFill" in result.stdout and "FGD paper's Go simulator" in result.stdout
    (row,) = json.loads(out.read_text())["results"]
    assert set(row) == KEYS
    assert row["workload"] == "OpenbFill" and row["nodes"] == 1213 and row["upstreamFloor"] is None
    # Submitted in trace order until GPU requests reach 130% of the GPUs: more pods than fit.
    assert row["measuredPods"] > row["scheduled"] > 0
    assert row["podsPerSecond"] > row["referencePodsPerSecond"] > 0


@pytest.mark.skipif(not os.path.isdir(OPENB), reason="../shared/traces/openb not present")
def test_openb_fgd_row(tmp_path):
    # One run of the FGD paper's study; the bench checks its allocation at 100% demand against the paper's.
    out = tmp_path / "bench.json"
    result = run("bench", "OpenbFGD", "--openb", OPENB, "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "allocation at 100% demand 9" in result.stderr
    (row,) = json.loads(out.read_text())["results"]
    assert row["workload"] == "OpenbFGD" and row["nodes"] == 1213 and row["measuredPods"] > row["scheduled"] > 8000
    assert row["podsPerSecond"] > 0


def test_openb_fill_without_the_trace_is_skipped_or_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ../shared/traces/openb from here
    monkeypatch.delenv("SCHEDKIT_OPENB", raising=False)
    result = run("bench", "OpenbFill")
    assert result.exit_code == 2
    assert result.stderr == "schedkit: error: OpenbFill needs the openb trace: pass --openb DIR or set SCHEDKIT_OPENB\n"
    result = run("bench", "OpenbFill", "--openb", str(tmp_path))
    assert result.exit_code == 2 and "no openb_pod_list_default.csv here" in result.stderr


def test_check_replay_flags_an_overfull_node(tmp_path):
    from schedkit.framework.scheduler import Scheduler
    from schedkit.replay.engine import replay
    from schedkit.replay.run import SAMPLE_TRACE
    from schedkit.traces import load_trace

    workload, _ = load_trace(SAMPLE_TRACE)
    result = replay(Scheduler(), workload.take(np.arange(300), timed=False))  # all still running at the end
    check_replay(result)
    running = np.flatnonzero(result.arrays.status == 4)
    result.arrays.node[running] = result.arrays.node[running[0]]  # every running pod on one node
    with pytest.raises(AssertionError):
        check_replay(result)


def test_baseline_names_the_rows_it_compared_and_says_when_none_match(tmp_path):
    out = tmp_path / "bench.json"
    result = run("bench", "SchedulingBasic", "--nodes", "60", "--scoring", "adaptive", "--json", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    data["results"][0]["podsPerSecond"] = 1.0  # any run beats it: no regression to flag on a busy machine
    out.write_text(json.dumps(data))
    result = run("bench", "SchedulingBasic", "--nodes", "60", "--scoring", "both", "--baseline", str(out))
    assert result.exit_code == 0, result.output
    assert f"compared with {out}: SchedulingBasic (adaptive, 60 nodes)\n" in result.stdout
    # A 5000-node baseline against a --quick run, say: nothing in common, and the run says so.
    result = run("bench", "SchedulingBasic", "--nodes", "50", "--scoring", "adaptive", "--baseline", str(out))
    assert result.exit_code == 0, result.output
    assert (f"no workload compared: {out} has SchedulingBasic (adaptive, 60 nodes), none run here with the "
            "same scoring and node count\n") in result.stdout
    assert "compared with" not in result.stdout


def test_the_cold_compile_is_measured_only_with_cold_compile(tmp_path, monkeypatch):
    import schedkit.benchmark

    calls = []
    monkeypatch.setattr(schedkit.benchmark, "cold_compile_seconds", lambda: calls.append(1) or 46.0)
    out = tmp_path / "bench.json"
    result = run("bench", "SchedulingBasic", "--nodes", "50", "--scoring", "adaptive", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert calls == [] and json.loads(out.read_text())["results"][0]["compileSeconds"] is None
    assert run("bench", "SchedulingBasic", "--nodes", "50", "--scoring", "adaptive", "--cold-compile",
               "--json", str(out)).exit_code == 0
    assert calls == [1] and json.loads(out.read_text())["results"][0]["compileSeconds"] == 46.0


def test_the_cold_compile_child_imports_this_schedkit_copy(tmp_path, monkeypatch):
    """Another schedkit in the child's working folder and on PYTHONPATH must not be the one measured."""
    import schedkit
    import schedkit.plugins
    from schedkit.benchmark import cold_compile_seconds

    for folder in (tmp_path / "cwd", tmp_path / "elsewhere"):
        (folder / "schedkit").mkdir(parents=True)
        (folder / "schedkit" / "__init__.py").write_text("raise ImportError('another schedkit copy')\n")
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    code = ("import schedkit, schedkit.plugins, os; "
            f"assert schedkit.__file__ == {schedkit.__file__!r}, schedkit.__file__; "
            f"assert list(schedkit.plugins.__path__) == {list(schedkit.plugins.__path__)!r}; "
            "cache = os.path.dirname; "
            "same = cache(os.environ['NUMBA_CACHE_DIR']) == cache(os.environ['SCHEDKIT_CACHE_DIR']); "
            "print(1.5 if same else 0.0)")
    assert cold_compile_seconds(code) == 1.5  # and both caches in one temporary folder of its own


def test_kernel_benchmarks_time_enough_work_over_enough_rounds(tmp_path):
    """The micro-benchmarks' figures must be comparable run to run (README's recipe): the compile stays
    out of the timed rounds, and every round does enough work to time."""
    import subprocess
    import sys

    from bench.test_kernels import ROUNDS

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "kernels.json"
    # Not as an xdist worker (pytest-benchmark times nothing there), whatever runs this test.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_XDIST")}
    subprocess.run([sys.executable, "-m", "pytest", "bench/test_kernels.py", "-q", "-p", "no:cacheprovider",
                    "-p", "no:xdist", "-k", "NodeName or NodeUnschedulable", "--benchmark-enable",
                    f"--benchmark-json={out}"], cwd=repo, check=True, capture_output=True, env=env)
    benchmarks = json.loads(out.read_text())["benchmarks"]
    assert len(benchmarks) == 2
    for bench in benchmarks:
        assert bench["stats"]["rounds"] == ROUNDS >= 50
        assert bench["stats"]["min"] > 20e-6  # tens of microseconds at least: well above the timer's noise
        assert bench["stats"]["max"] < 0.5  # no round compiled anything (a compile takes a second or more)


def test_a_build_that_compiled_is_not_reported_as_a_cached_compile(tmp_path, monkeypatch):
    """COMPILE COLD/CACHED: the cached figure is the loop's build time only when numba loaded it."""
    import importlib.util

    from schedkit.benchmark import run_workload
    from schedkit.framework.scheduler import Scheduler

    spec = WORKLOADS["SchedulingBasic"]
    (loaded,) = run_workload(spec, 30, "adaptive", 0, reference=False, cold=None)
    assert loaded.cached_compile_seconds is not None and loaded.compile_seconds is None

    source = tmp_path / "fresh.py"
    source.write_text("from numba import njit\n\n\n@njit(cache=True)\ndef one():\n    return 1\n")
    schedule = Scheduler.schedule

    def compiling_schedule(self, *args, **kwargs):  # as a first run compiles the loop
        module_spec = importlib.util.spec_from_file_location("bench_fresh_compile", source)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        module.one()
        return schedule(self, *args, **kwargs)

    monkeypatch.setattr(Scheduler, "schedule", compiling_schedule)
    (compiled,) = run_workload(spec, 30, "adaptive", 0, reference=False, cold=None)
    assert compiled.cached_compile_seconds is None


def test_bench_runs_the_preemption_rows_and_checks_them(tmp_path):
    out = tmp_path / "bench.json"
    result = run("bench", "PreemptionBasic", "PreemptionAsync", "Unschedulable", "--nodes", "60", "--scoring",
                 "adaptive", "--quick", "--json", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["workload"]: r for r in json.loads(out.read_text())["results"]}
    assert rows["PreemptionBasic"]["upstreamFloor"] is None
    assert (rows["PreemptionAsync"]["upstreamFloor"], rows["Unschedulable"]["upstreamFloor"]) == (570, 590)
    # Unschedulable's 9-cpu pods stay pending; every other measured pod is placed.
    unschedulable = WORKLOADS["Unschedulable"].make(60)
    assert rows["Unschedulable"]["scheduled"] == len(unschedulable.measured) - len(unschedulable.unplaceable) > 0
    assert rows["PreemptionBasic"]["scheduled"] == rows["PreemptionBasic"]["measuredPods"] == 60


def test_preemption_workloads_preempt_as_their_templates_say():
    """PreemptionBasic: each 3-cpu pod takes a node by deleting three of its four 900m pods."""
    from schedkit.framework.scheduler import Scheduler

    workload = WORKLOADS["PreemptionBasic"].make(20)
    result = Scheduler().schedule(workload.cluster, workload.measured)
    check_schedule(workload, result)
    assert result.fast_preemption
    assert len(result.evicted) == 3 * len(workload.measured)
    by_node: dict[str, int] = {}
    for eviction in result.evicted:
        by_node[eviction.node] = by_node.get(eviction.node, 0) + 1
    assert set(by_node.values()) == {3} and len(by_node) == 20
