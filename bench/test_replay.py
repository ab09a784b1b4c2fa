"""Trace replay: the bundled sample (timed) and a generated backlog (timed: 2.7 million attempts, most of
them failing retries made in groups) always; openb in fill mode to 130% GPU demand (the issue's
bar: under 2 s wall after compile) when ../shared/traces/openb is present. Each round's result is checked:
every pod accounted for once, no node over its allocatable."""

from __future__ import annotations

import os

import numpy as np
import pytest

from schedkit.benchmark import check_replay as check_final_usage
from schedkit.benchmark import openb_fill_workload
from schedkit.framework.scheduler import Scheduler
from schedkit.replay.engine import replay
from schedkit.replay.run import SAMPLE_TRACE
from schedkit.replay import queue
from schedkit.traces import load_trace
from schedkit.traces.generate import generate_like_openb, write_trace

OPENB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "traces", "openb")


def test_sample_timed(benchmark):
    benchmark.group = "replay"
    workload, _ = load_trace(SAMPLE_TRACE)
    scheduler = Scheduler()
    replay(scheduler, workload.take(np.arange(10)))  # compile or load outside timing
    result = benchmark(replay, scheduler, workload)
    assert result.workload.num_pods == 3000
    check_final_usage(result)


def test_generated_backlog_timed(benchmark, tmp_path):
    benchmark.group = "replay"
    nodes, pods = generate_like_openb(nodes=300, pods=30000, seed=7)  # load 0.65: 8-GPU pods wait long
    workload, _ = load_trace(write_trace(nodes, pods, str(tmp_path))[1])
    scheduler = Scheduler()
    replay(scheduler, workload.take(np.arange(10)))
    result = benchmark(replay, scheduler, workload)
    check_final_usage(result)
    assert result.cycles > 2_000_000 and result.group_attempts > 0.9 * result.cycles
    assert int(result.counters[queue.C_CYCLES]) < result.cycles / 10


@pytest.mark.skipif(not os.path.isdir(OPENB), reason="../shared/traces/openb not present")
def test_openb_fill_130(benchmark):
    benchmark.group = "replay"
    submitted, info = openb_fill_workload(OPENB)  # the same run as `schedkit bench OpenbFill`
    scheduler = Scheduler()
    replay(scheduler, submitted.take(np.arange(10)))
    result = benchmark(replay, scheduler, submitted)
    assert 1.29 < info["submittedDemand"] <= 1.3
    check_final_usage(result)
