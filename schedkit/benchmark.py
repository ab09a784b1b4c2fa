"""`schedkit bench`: upstream scheduler_perf workloads through schedkit, next to upstream's CI floors.

Each run checks the schedule it measured: every measured pod is placed (the workloads have room for all
of them) and no node ends up over its allocatable or pod count; a benchmark of a broken schedule is
worthless. Upstream's floors (test/integration/scheduler_perf/*/performance-config.yaml thresholds)
include API-server binding; schedkit's figure is the decision engine alone.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

from .framework.config import parse_config
from .framework.scheduler import ScheduleResult, Scheduler
from .workloads import WORKLOADS, Workload, WorkloadSpec, config_with_percentage

REFERENCE_SUBSET = 1  # pods the pure-Python reference schedules (seconds each at 5000 nodes), for the ratio
REGRESSION = 0.10


@dataclass
class BenchResult:
    workload: str
    nodes: int
    init_pods: int
    measured_pods: int
    scoring: str
    pods_per_second: float
    compile_seconds: float | None
    cached_compile_seconds: float
    reference_pods_per_second: float | None
    upstream_floor: float | None
    scheduled: int

    def json(self) -> dict:
        return {"workload": self.workload, "nodes": self.nodes, "initPods": self.init_pods,
                "measuredPods": self.measured_pods, "scoring": self.scoring,
                "podsPerSecond": round(self.pods_per_second, 1),
                "compileSeconds": None if self.compile_seconds is None else round(self.compile_seconds, 3),
                "cachedCompileSeconds": round(self.cached_compile_seconds, 3),
                "referencePodsPerSecond": (None if self.reference_pods_per_second is None
                                           else round(self.reference_pods_per_second, 2)),
                "upstreamFloor": self.upstream_floor, "scheduled": self.scheduled}


def check_schedule(workload: Workload, result: ScheduleResult) -> None:
    """Every measured pod placed; no node over its allocatable (any resource) or pod count."""
    if result.scheduled != len(workload.measured):
        unplaced = next(a for a in result.assignments if a.node is None)
        raise AssertionError(f"{workload.name}: {result.unschedulable} measured pods not placed, e.g. "
                             f"{unplaced.pod}: {unplaced.message}")
    used: dict[str, dict[str, int]] = {}
    count: dict[str, int] = {}
    placed = {a.pod: a.node for a in result.assignments}
    for pod in workload.cluster.running_pods + workload.measured:
        node = pod.node_name or placed[pod.key]
        count[node] = count.get(node, 0) + 1
        for resource, amount in pod.requests.items():
            used.setdefault(node, {})[resource] = used.get(node, {}).get(resource, 0) + amount
    for node in workload.cluster.nodes:
        if count.get(node.name, 0) > node.allocatable.get("pods", 0):
            raise AssertionError(f"{workload.name}: node {node.name} holds more pods than allowed")
        for resource, amount in used.get(node.name, {}).items():
            if amount > node.allocatable.get(resource, 0):
                raise AssertionError(f"{workload.name}: node {node.name} is over its allocatable {resource}")


def cold_compile_seconds() -> float:
    """Compile the default profile's loop in a fresh process with empty caches."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": os.path.join(cache, "numba"),
               "SCHEDKIT_CACHE_DIR": os.path.join(cache, "schedkit")}
        code = ("from schedkit.workloads import scheduling_basic; from schedkit import Scheduler; "
                "w = scheduling_basic(10, 0, 1); print(Scheduler().schedule(w.cluster, w.measured).compile_seconds)")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


def run_workload(spec: WorkloadSpec, nodes: int | None, scoring: str, seed: int, reference: bool,
                 cold: float | None, progress: Callable[[str], None] | None = None) -> list[BenchResult]:
    workload = spec.make(nodes or spec.nodes)
    results = []
    for percentage, label in ((None, "adaptive"), (100, "full")):
        if scoring not in (label, "both"):
            continue
        scheduler = Scheduler(parse_config(config_with_percentage(percentage)))
        result = scheduler.schedule(workload.cluster, workload.measured, seed=seed)
        check_schedule(workload, result)
        reference_rate = None
        if reference:
            from .reference import reference_schedule

            subset = workload.measured[:REFERENCE_SUBSET]
            start = time.perf_counter()
            reference_schedule(scheduler, workload.cluster, subset, seed=seed)
            reference_rate = len(subset) / (time.perf_counter() - start)
        results.append(BenchResult(
            spec.name, len(workload.cluster.nodes), len(workload.cluster.running_pods), len(workload.measured),
            label, result.pods_per_second, cold, result.compile_seconds, reference_rate, spec.floor,
            result.scheduled))
        if progress:
            progress(f"{spec.name} ({label}): {result.pods_per_second:,.0f} pods/s")
    return results


def machine() -> dict:
    import numba

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numba": numba.__version__}


def table(results: list[BenchResult]) -> str:
    headers = ["WORKLOAD", "SCORING", "NODES", "MEASURED", "PODS/S", "COMPILE COLD/CACHED", "REFERENCE PODS/S",
               "VS REF", "UPSTREAM FLOOR", "VS FLOOR"]
    rows = []
    for r in results:
        rows.append([
            r.workload, r.scoring, str(r.nodes), str(r.measured_pods), f"{r.pods_per_second:,.0f}",
            f"{'-' if r.compile_seconds is None else f'{r.compile_seconds:.1f}s'} / {r.cached_compile_seconds:.2f}s",
            "-" if r.reference_pods_per_second is None else f"{r.reference_pods_per_second:,.1f}",
            "-" if not r.reference_pods_per_second else f"{r.pods_per_second / r.reference_pods_per_second:,.0f}x",
            "-" if r.upstream_floor is None else f"{r.upstream_floor:,.0f}",
            "-" if not r.upstream_floor else f"{r.pods_per_second / r.upstream_floor:,.0f}x",
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.append("")
    lines.append("Pods/s counts measured pods only, compile excluded, one thread. Upstream's floor is its CI "
                 "threshold at 5000 nodes and includes API-server binding; schedkit's figure is the decision "
                 "engine alone.")
    return "\n".join(lines) + "\n"


def compare(results: list[BenchResult], baseline_path: str) -> list[str]:
    """Regressions over 10% against a `--json` file from an earlier run."""
    from .errors import InputError

    try:
        with open(baseline_path) as handle:
            baseline = json.load(handle)
        old = {(r["workload"], r["scoring"], r["nodes"]): r["podsPerSecond"] for r in baseline["results"]}
    except FileNotFoundError:
        raise InputError("no such file or directory", baseline_path) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a `schedkit bench --json` file: {exc}", baseline_path) from None
    flagged = []
    for r in results:
        before = old.get((r.workload, r.scoring, r.nodes))
        if before and r.pods_per_second < before * (1 - REGRESSION):
            flagged.append(f"REGRESSION {r.workload} ({r.scoring}, {r.nodes} nodes): "
                           f"{r.pods_per_second:,.0f} pods/s vs {before:,.0f} in {baseline_path}")
    return flagged


__all__ = ["WORKLOADS", "run_workload", "table", "compare", "machine", "cold_compile_seconds", "check_schedule"]
