"""Measure SchedulingBasic (issue #2's bar): `python bench/run_scheduling_basic.py [--nodes N]`.

Prints pods/s for the adaptive default and for percentageOfNodesToScore 100, plus compile/cache-load
time, as JSON. Every measured pod must be placed (the cluster has room for all of them) and no node
may exceed its allocatable: a benchmark of a broken schedule is worthless.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import config_with_percentage, scheduling_basic  # noqa: E402
from schedkit.framework.config import parse_config  # noqa: E402
from schedkit.framework.scheduler import Scheduler  # noqa: E402


def measure(workload, percentage: int | None, repeats: int) -> dict:
    scheduler = Scheduler(parse_config(config_with_percentage(percentage)))
    best = None
    for _ in range(repeats):
        scheduler.next_start_node_index[:] = 0
        result = scheduler.schedule(workload.cluster, workload.measured)
        assert result.scheduled == len(workload.measured), "every SchedulingBasic pod fits somewhere"
        best = result if best is None or result.seconds < best.seconds else best
    per_node: dict[str, int] = {}
    for a in best.assignments:
        per_node[a.node] = per_node.get(a.node, 0) + 1
    running: dict[str, int] = {}
    for pod in workload.cluster.running_pods:
        running[pod.node_name] = running.get(pod.node_name, 0) + 1
    # 4 CPU / 100m = 40 pods of CPU per node; 32Gi / 500Mi = 65; pods 110.
    assert all(count + running.get(node, 0) <= 40 for node, count in per_node.items())
    return {"percentageOfNodesToScore": percentage if percentage is not None else "adaptive",
            "podsPerSecond": round(len(workload.measured) / best.seconds), "seconds": round(best.seconds, 4),
            "compileSeconds": round(best.compile_seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--running", type=int, default=1000)
    parser.add_argument("--measured", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    workload = scheduling_basic(args.nodes, args.running, args.measured)
    build = time.perf_counter() - start
    results = [measure(workload, None, args.repeats), measure(workload, 100, args.repeats)]
    print(json.dumps({"workload": workload.name, "nodes": args.nodes, "running": args.running,
                      "measured": args.measured, "inputSeconds": round(build, 2), "results": results}, indent=2))


if __name__ == "__main__":
    main()
