"""Each built-in plugin's kernels alone: Filter and Score over every node of a 5000-node cluster for one
pod, through schedkit.testing.run_plugin's calling convention (compiled kernels).

Made to be compared run against run (README: the regression recipe): one pass over the nodes takes
10-80 us, too short to time against a busy machine's noise, so a round makes PASSES of them (about a
millisecond or more); the first call, which compiles the driver for the plugin's kernel, runs before
timing; and a fixed number of rounds follows a few untimed warm-up rounds (pytest-benchmark's own
calibration would see the compile and settle for its minimum of 5 rounds)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from schedkit.plugins import BUILTIN_PLUGINS
from schedkit.state import build_state
from schedkit.workloads import WORKLOADS


PASSES = 100  # passes over the nodes per timed call
ROUNDS = 100
WARMUP_ROUNDS = 5


@njit
def _filter_all(kernel, nodes, pods, state, passes):
    failed = 0
    for _ in range(passes):
        for n in range(nodes.allocatable.shape[0]):
            failed += kernel(nodes, pods, 0, n, state) != 0
    return failed


@njit
def _score_all(kernel, nodes, pods, state, passes):
    total = 0
    for _ in range(passes):
        for n in range(nodes.allocatable.shape[0]):
            total += kernel(nodes, pods, 0, n, state)
    return total


@pytest.fixture(scope="module")
def cluster():
    workload = WORKLOADS["MixedSchedulingBasePod"].make(5000)
    pod = workload.measured[:1]
    state = build_state(workload.cluster, pod)
    return state, pod, state.pod_columns(pod)


@pytest.mark.parametrize("cls", [c for c in BUILTIN_PLUGINS if c.kernels.filter or c.kernels.score],
                         ids=lambda c: c.name)
def test_kernel(benchmark, cls, cluster):
    state, pods, columns = cluster
    plugin = cls({})
    prepared = plugin.prepare(state, pods, columns)
    kernels = plugin.kernels
    mask = np.zeros(state.num_nodes, dtype=np.uint8)
    if kernels.pre_filter is not None:
        kernels.pre_filter(state.nodes, columns, 0, prepared, mask)
    feasible = np.arange(state.num_nodes, dtype=np.int64)
    if kernels.pre_score is not None:
        kernels.pre_score(state.nodes, columns, 0, feasible, state.num_nodes, prepared)
    benchmark.group = "kernels (5000 nodes, one pod)"

    def run(passes=PASSES):
        out = 0
        if kernels.filter is not None:
            out += _filter_all(kernels.filter, state.nodes, columns, prepared, passes)
        if kernels.score is not None:
            out += _score_all(kernels.score, state.nodes, columns, prepared, passes)
        return out

    once = run(1)  # compiles the drivers for this plugin's kernels, outside timing
    assert once >= 0
    assert benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS) == once * PASSES
