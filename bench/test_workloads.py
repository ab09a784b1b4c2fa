"""The batch loop per upstream workload, at 500 and 5000 nodes (adaptive percentageOfNodesToScore).
Each round schedules the workload's measured pods and checks the schedule."""

from __future__ import annotations

import pytest

from bench.conftest import timing

from schedkit.benchmark import check_schedule
from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.workloads import WORKLOADS, config_with_percentage


@pytest.mark.parametrize("nodes", [500, 5000])
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workload(benchmark, name, nodes, request):
    if nodes == 5000 and not timing(request.config):
        pytest.skip("5000-node workloads only when timing (--benchmark-enable)")
    benchmark.group = f"workload-{nodes}"
    workload = WORKLOADS[name].make(nodes)
    scheduler = Scheduler(parse_config(config_with_percentage(None)))
    scheduler.schedule(workload.cluster, workload.measured[:1])  # compile or load the loop outside timing
    result = benchmark(scheduler.schedule, workload.cluster, workload.measured)
    check_schedule(workload, result)
