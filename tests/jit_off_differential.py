"""test_differential.py's generated comparisons with few examples, for the NUMBA_DISABLE_JIT=1 pass.

tests/test_jit_off.py runs this file in a child process with numba off, where the batch loop and
explain's "compiled" loop (``python=False``) are the generated functions run as plain Python. Same
strategies and assertions as test_differential.py, fewer examples: as Python those loops are slower, and
the full-size runs (compiled) are test_differential.py's. The name does not match ``test_*.py``, so the
normal run does not collect this file; the child names it on its command line.
"""

from __future__ import annotations

import pytest
from checks import assert_same_explain, assert_same_schedule, topology_plugins_registered
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba.core import config as numba_config
from strategies import scenarios, topology_scenarios

FEW = settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])
needs_topology = pytest.mark.skipif(not topology_plugins_registered(),
                                    reason="PodTopologySpread/InterPodAffinity not registered yet")


def test_numba_is_off():
    """This file is the JIT-off pass's: with numba on it would only repeat test_differential.py, smaller."""
    assert numba_config.DISABLE_JIT, "run with NUMBA_DISABLE_JIT=1 (tests/test_jit_off.py does)"


@FEW
@given(scenarios())
def test_schedule_matches_reference(scenario):
    config, cluster, pods, seed = scenario
    assert_same_schedule(config, cluster, pods, seed)


@FEW
@given(scenarios(max_pods=4), st.data())
def test_explain_loop_matches_reference(scenario, data):
    config, cluster, pods, seed = scenario
    assert_same_explain(config, cluster, data.draw(st.sampled_from(pods)), seed, python=False)


# percentageOfNodesToScore's cutoff and the rotating start index (over 100 nodes): a few examples suffice
# to run that path of the loop as Python.
@settings(FEW, max_examples=5)
@given(scenarios(min_nodes=101, max_nodes=140, max_pods=12, configs=("default", "rtcr", "disabled", "no-score", "ignored-groups"), loose=True))
def test_large_cluster_matches_reference(scenario):
    config, cluster, pods, seed = scenario
    assert_same_schedule(config, cluster, pods, seed)


@needs_topology
@FEW
@given(topology_scenarios())
def test_topology_schedule_matches_reference(scenario):
    config, cluster, pods, seed = scenario
    assert_same_schedule(config, cluster, pods, seed)


@needs_topology
@FEW
@given(topology_scenarios(max_pods=3), st.data())
def test_topology_explain_loop_matches_reference(scenario, data):
    config, cluster, pods, seed = scenario
    assert_same_explain(config, cluster, data.draw(st.sampled_from(pods)), seed, python=False)
