"""The CI pass with numba off: a fast subset of the suite runs again in a child process with
NUMBA_DISABLE_JIT=1, so every built-in plugin's kernels, the batch, explain and replay loops and the
replay's queue helpers keep working as plain Python: what a plugin author steps through in a debugger
(docs/plugins.md, "Debugging a plugin"). Being a test itself, it runs with the README's one test command.

To run the subset by hand:  NUMBA_DISABLE_JIT=1 python -m pytest -q <the paths in SUBSET>
"""

from __future__ import annotations

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Relative to the checkout's root. What each part runs as Python:
SUBSET = [
    # The batch loop and explain's loop, generated, against the reference under configurations drawn from
    # strategies.CONFIGS and TOPOLOGY_CONFIGS (every built-in plugin's kernels, Reserve included), with a
    # tenth of the examples (strategies.examples), and the hand-written batches.
    "tests/test_differential.py",
    # Every kernel of every built-in plugin on upstream's unit-test cases.
    "tests/test_upstream_tables.py",
    # check_plugin over every built-in plugin, a third-party plugin's cycle, Reserve and Permit.
    "tests/test_plugin_api.py::test_the_documented_example_plugin_filters_scores_and_explains",
    "tests/test_plugin_api.py::test_check_plugin_accepts_every_builtin_and_the_example",
    "tests/test_plugin_api.py::test_the_framework_rejects_a_score_outside_0_100_like_upstream",
    "tests/test_plugin_api.py::test_reserve_updates_plugin_owned_state_between_pods_in_a_batch",
    "tests/test_plugin_api.py::test_batch_state_is_not_left_changed_in_the_cluster_objects",
    "tests/test_plugin_api.py::test_permit_rejection_unreserves_and_reports_like_upstream",
    # A cycle's error paths (Filter or Score without their pre-state), in schedule, explain and replay.
    "tests/test_extension_points.py",
    # The replay driver and its queue helpers against the plain-Python reference replay.
    "tests/test_replay.py::test_pod_waits_for_room_and_is_retried_when_a_pod_leaves",
    "tests/test_replay.py::test_affinity_rejection_is_not_retried_on_pod_delete",
    "tests/test_replay.py::test_priority_orders_the_queue",
    "tests/test_replay.py::test_deadline_deletes_a_pending_pod",
    "tests/test_replay.py::test_driver_matches_reference",
    "tests/test_replay.py::test_groups_match_reference_on_backlogs",
    "tests/test_replay.py::test_groups_fail_many_attempts_at_once",
    "tests/test_replay.py::test_incremental_failure_check_keeps_decisions",
    # Whole batches of spreading and pod (anti-)affinity pods: the memoized PodTopologySpread counts and
    # InterPodAffinity state kept current at Reserve.
    "tests/test_topology_batches.py",
]
# Left out, and why:
# - tests of compiled code as such, which fail or mean nothing with numba off: test_compile_feedback,
#   test_config_as_data (configurations sharing one compiled loop), bench/test_compile.py, and the
#   compiled-versus-Python comparisons in test_plugin_api and test_plugin_mistakes (they read a kernel's
#   .py_func and assert `compiled`, which numba-off kernels do not have);
# - test_plugin_debugging: it already runs explain, schedule and a third-party plugin with numba off and
#   compares them with compiled runs (compiling takes most of a minute);
# - the CLI, configuration and input checks: they reach the same loops and kernels through other doors;
# - the slow ones as Python: the larger Hypothesis runs (the same comparisons run here with fewer
#   examples: strategies.examples), whole-trace replays (test_replay's determinism and openb tests,
#   test_cli, test_generate) and the 500/5000-node benchmarks in bench/.
# With this subset, every function in plugins/ runs at least once (checked by tracing calls).


def test_the_subset_passes_with_numba_off():
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    # -p no:cacheprovider: the child leaves the parent's last-failed record alone.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUBSET],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"with NUMBA_DISABLE_JIT=1:\n{done.stdout[-20000:]}\n{done.stderr[-4000:]}"
