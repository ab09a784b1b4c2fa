"""Measure issue #3's topology workloads: `python bench/run_topology.py [--nodes N]`.

Upstream scheduler_perf shapes (performance-config.yaml): SchedulingPodAntiAffinity,
SchedulingPodAffinity, TopologySpreading and MixedSchedulingBasePod, default profile, one thread,
adaptive percentageOfNodesToScore and 100. Every measured pod must be placed (each workload has room
for all of them) and every placement is checked against the required (anti-)affinity and spread
constraints of all pods.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import TOPOLOGY_WORKLOADS, config_with_percentage  # noqa: E402
from schedkit.framework.config import parse_config  # noqa: E402
from schedkit.framework.scheduler import Scheduler  # noqa: E402


def check(workload, result) -> None:
    assert result.scheduled == len(workload.measured), f"{workload.name}: {result.unschedulable} pods not placed"
    node_of = {pod.key: pod.node_name for pod in workload.cluster.running_pods}
    node_of.update({a.pod: a.node for a in result.assignments})
    zone = {n.name: n.labels.get("topology.kubernetes.io/zone") for n in workload.cluster.nodes}
    pods = workload.cluster.running_pods + workload.measured
    green = [node_of[p.key] for p in pods if p.labels.get("color") == "green"]
    assert len(green) == len(set(green)), "two anti-affinity pods share a node"
    if workload.name == "TopologySpreading":
        counts: dict[str, int] = {}
        for p in pods:
            if p.labels.get("foo") == "bar":
                counts[zone[node_of[p.key]]] = counts.get(zone[node_of[p.key]], 0) + 1
        assert max(counts.values()) - min(counts.values()) <= 5, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    report = []
    for name, make in TOPOLOGY_WORKLOADS.items():
        workload = make(nodes=args.nodes) if args.nodes != 5000 else make()
        for percentage in (None, 100):
            scheduler = Scheduler(parse_config(config_with_percentage(percentage)))
            best = None
            for _ in range(args.repeats):
                start = time.perf_counter()
                result = scheduler.schedule(workload.cluster, workload.measured)
                total = time.perf_counter() - start
                check(workload, result)
                if best is None or result.seconds < best[0].seconds:
                    best = (result, total)
            result, total = best
            report.append({"workload": name, "percentageOfNodesToScore": percentage or "adaptive",
                           "measured": len(workload.measured), "podsPerSecond": round(result.pods_per_second),
                           "endToEndSeconds": round(total, 2)})
            print(json.dumps(report[-1]), flush=True)


if __name__ == "__main__":
    main()
