"""Replay with preemption: victims terminate on the simulated clock, then leave; owners recreate them;
nominated pods hold their room. The plain-Python replay that does it is checked against the compiled
driver where nobody can preempt, and on random traces against invariants any preemption must keep."""

from __future__ import annotations

import json
import os
import random

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedkit.cli import main
from schedkit.framework.scheduler import Scheduler
from schedkit.replay import report
from schedkit.replay.engine import replay
from schedkit.replay.preempting import needs_python_replay, python_replay
from schedkit.traces import load_trace

NO_VICTIMS = ("no new claims to deallocate, preemption: 0/1 nodes are available: 1 No preemption victims found "
              "for incoming pod.")


def write_trace(folder, nodes: list[dict], pods: list[dict]) -> str:
    os.makedirs(folder, exist_ok=True)
    pd.DataFrame(nodes).to_csv(os.path.join(folder, "nodes.csv"), index=False)
    pd.DataFrame(pods).to_csv(os.path.join(folder, "pods.csv"), index=False)
    return str(folder)


def placements(result) -> pd.DataFrame:
    return report.placements(result).set_index("name")


# -- hand-worked scenarios -------------------------------------------------------------------------------

TWO_LOW_ONE_HIGH = (
    [{"name": "n1", "cpu": "4", "memory": "8Gi"}],
    [{"name": "low-a", "arrival": 0, "duration": 100, "cpu": "2", "memory": "1Gi", "priority": 0, "recreate": "true"},
     {"name": "low-b", "arrival": 0, "duration": 100, "cpu": "2", "memory": "1Gi", "priority": 0, "recreate": ""},
     {"name": "high", "arrival": 10, "duration": 50, "cpu": "3", "memory": "1Gi", "priority": 100, "recreate": ""}],
)


def test_victims_keep_their_node_for_the_grace_period_then_the_preemptor_binds(tmp_path):
    """high (3 cpu) needs both low pods gone (2 + 2 of 4 cpu). It preempts at 10; the victims terminate for
    30 s (the API default); high binds when they leave, at 40. low-a's owner recreates it at 10: the
    replacement waits (nothing it may preempt) until high leaves at 90."""
    workload, _ = load_trace(write_trace(tmp_path, *TWO_LOW_ONE_HIGH))
    assert needs_python_replay(Scheduler(), workload)
    result = replay(Scheduler(), workload)
    frame = placements(result)
    assert frame.index.tolist() == ["low-a", "low-b", "high", "low-a-recreated-1"]
    assert frame["outcome"].tolist() == ["preempted", "preempted", "finished", "finished"]
    assert frame["preempted_by"].tolist()[:2] == ["default/high", "default/high"]
    assert frame["preempted_by"].isna().tolist()[2:] == [True, True]
    assert frame["end"].tolist() == [40.0, 40.0, 90.0, 190.0]
    assert frame["scheduled"].tolist() == [0.0, 0.0, 40.0, 90.0]
    assert frame["arrival"].tolist() == [0.0, 0.0, 10.0, 10.0]
    # high's last failed attempt is the one that preempted: PostFilter succeeded, so no PostFilter part.
    assert frame.loc["high", "message"] == "0/1 nodes are available: 1 Insufficient cpu."
    assert frame.loc["high", "attempts"] == 2
    assert frame.loc["low-a-recreated-1", "message"] == "0/1 nodes are available: 1 Insufficient cpu. " + NO_VICTIMS
    timeline = report.timeline(result)
    # (no row at 100, when the victims would have finished: they were gone)
    assert timeline["time"].tolist() == [0.0, 10.0, 40.0, 90.0, 190.0]
    assert timeline["allocated_cpu_milli"].tolist() == [4000, 4000, 3000, 2000, 0]
    assert timeline["running"].tolist() == [2, 2, 1, 1, 0]
    summary = report.summary(result, mode="timed", seed=0, trace="t", config=None)
    assert summary["pods"]["preempted"] == 2 and summary["pods"]["recreated"] == 1
    assert summary["engine"] == "compiled cycles, DefaultPreemption in plain Python (some pod may preempt)"


def test_grace_period_zero_makes_victims_leave_at_once(tmp_path):
    workload, _ = load_trace(write_trace(tmp_path, *TWO_LOW_ONE_HIGH))
    frame = placements(replay(Scheduler(), workload, grace="0"))
    assert frame["end"].tolist() == [10.0, 10.0, 60.0, 160.0]
    assert frame["scheduled"].tolist() == [0.0, 0.0, 10.0, 60.0]


def test_each_victim_terminates_for_its_own_grace_period(tmp_path):
    nodes, pods = TWO_LOW_ONE_HIGH
    pods = [dict(p, termination_grace_period=g) for p, g in zip(pods, (5, 12, ""))]
    workload, _ = load_trace(write_trace(tmp_path, nodes, pods))
    frame = placements(replay(Scheduler(), workload))
    assert frame["end"].tolist()[:2] == [15.0, 22.0]
    assert frame.loc["high", "scheduled"] == 22.0  # it needs both gone


def test_preemption_policy_never_waits_instead(tmp_path):
    nodes, pods = TWO_LOW_ONE_HIGH
    pods = [dict(p, preemption_policy="Never" if p["name"] == "high" else "") for p in pods]
    workload, _ = load_trace(write_trace(tmp_path, nodes, pods))
    assert not needs_python_replay(Scheduler(), workload)
    frame = placements(replay(Scheduler(), workload))
    assert frame["outcome"].tolist() == ["finished", "finished", "finished"]
    assert frame.loc["high", "scheduled"] == 100.0
    assert frame.loc["high", "message"] == ("0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, "
                                            "preemption: not eligible due to preemptionPolicy=Never.")


NODE = """
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
---
"""

MANIFESTS = NODE + """apiVersion: v1
kind: Pod
metadata: {name: old, namespace: default, annotations: {schedkit.io/recreate: "true"}}
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 7
  containers: [{name: c, resources: {requests: {cpu: "3"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: urgent, namespace: default, annotations: {schedkit.io/arrival: "2", schedkit.io/duration: "10"}}
spec:
  priority: 1000
  containers: [{name: c, resources: {requests: {cpu: "2"}}}]
"""


def test_a_pod_running_before_the_replay_can_be_preempted(tmp_path):
    path = tmp_path / "cluster.yaml"
    path.write_text(MANIFESTS)
    workload, _ = load_trace(str(path))
    result = replay(Scheduler(), workload)
    frame = placements(result)
    assert frame.loc["urgent", "scheduled"] == 9.0  # old's 7 s of grace from 2
    assert result.preempted_at_start == ["default/old"]
    summary = report.summary(result, mode="timed", seed=0, trace="t", config=None)
    assert summary["pods"]["preemptedRunningAtStart"] == 1
    assert summary["preemptedRunningAtStart"] == ["default/old"]
    # Its owner recreates it at once (the annotation): the replacement waits for urgent to leave.
    assert frame.loc["old-recreated-1", ["arrival", "scheduled"]].tolist() == [2.0, 19.0]
    timeline = report.timeline(result)
    assert timeline["time"].tolist() == [2.0, 9.0, 19.0]
    assert timeline["allocated_cpu_milli"].tolist() == [3000, 2000, 3000]


def test_a_bad_recreate_annotation_on_a_running_pod_is_refused(tmp_path):
    path = tmp_path / "cluster.yaml"
    path.write_text(MANIFESTS.replace('schedkit.io/recreate: "true"', 'schedkit.io/recreate: "maybe"'))
    run = CliRunner().invoke(main, ["replay", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    assert run.exit_code == 2 and "Traceback" not in run.output
    assert 'pod default/old: metadata.annotations[schedkit.io/recreate]: must be "true" or "false"' in run.output


NOMINATED = NODE + """apiVersion: v1
kind: Pod
metadata: {name: leaving, namespace: default, deletionTimestamp: "2026-01-01T00:00:00Z"}
spec: {nodeName: n1, priority: 0, containers: [{name: c, resources: {requests: {cpu: "2"}}}]}
status:
  conditions: [{type: DisruptionTarget, status: "True", reason: PreemptionByScheduler}]
---
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: default, annotations: {schedkit.io/arrival: "0"}}
spec: {priority: 10, containers: [{name: c, resources: {requests: {cpu: "3"}}}]}
status: {nominatedNodeName: n1}
---
apiVersion: v1
kind: Pod
metadata: {name: small, namespace: default, annotations: {schedkit.io/arrival: "1"}}
spec: {priority: 5, containers: [{name: c, resources: {requests: {cpu: "2"}}}]}
"""


def test_a_nominated_pod_holds_its_room_from_lower_priority_pods(tmp_path):
    """big waits for its victim (terminating on its nominated node: not eligible to preempt again, so
    it keeps the nomination); small would fit in the 2 free cpu, but big's room on n1 counts first."""
    path = tmp_path / "cluster.yaml"
    path.write_text(NOMINATED)
    workload, _ = load_trace(str(path))
    result = replay(Scheduler(), workload)
    frame = placements(result)
    assert frame["scheduled"].isna().tolist() == [True, True]
    assert frame.loc["big", "nominated_node"] == "n1"
    assert frame.loc["big", "message"].endswith(
        "preemption: not eligible due to a terminating pod on the nominated node.")
    assert frame.loc["small", "message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")


# -- the plain-Python replay against the compiled driver where nobody can preempt ---------------------


@st.composite
def workloads(draw, never: bool):
    rng = random.Random(draw(st.integers(0, 2**32)))
    nodes = [{"name": f"n{i}", "cpu": f"{rng.choice([2, 4, 8])}", "memory": f"{rng.choice([4, 8])}Gi",
              "pods": rng.choice([3, 110]), "labels": json.dumps({"zone": rng.choice("ab")})}
             for i in range(rng.randint(1, 4))]
    timing = rng.choice(["duration", "end"])
    pods = []
    for i in range(rng.randint(1, 30)):
        arrival = rng.choice([0, rng.randint(0, 50), rng.randint(0, 50) + 0.5])
        row = {"name": f"p{i}", "arrival": arrival, "cpu": f"{rng.choice([500, 1000, 2000, 3000])}m",
               "memory": f"{rng.choice([256, 1024, 4096])}Mi", "priority": rng.choice([0, 0, 5, 9]),
               "node_selector": json.dumps({"zone": rng.choice("ab")}) if rng.random() < 0.2 else "",
               "preemption_policy": "Never" if never or rng.random() < 0.2 else "",
               "termination_grace_period": rng.choice(["", 0, 3, 45]),
               "recreate": rng.choice(["", "true"])}
        length = rng.choice([1, 5, 30, 400, None])
        row[timing] = "" if length is None else (length if timing == "duration" else arrival + length)
        pods.append(row)
    return nodes, pods


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workloads(never=True), st.integers(0, 3))
def test_python_replay_matches_the_compiled_driver_when_nobody_may_preempt(tmp_path_factory, case, seed):
    workload, _ = load_trace(write_trace(tmp_path_factory.mktemp("trace"), *case))
    assert not needs_python_replay(Scheduler(), workload)
    compiled = replay(Scheduler(), workload, seed=seed)
    python = python_replay(Scheduler(), workload, seed=seed)
    pd.testing.assert_frame_equal(report.placements(python), report.placements(compiled))
    pd.testing.assert_frame_equal(report.timeline(python), report.timeline(compiled))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workloads(never=False), st.integers(0, 3), st.sampled_from(["pod", "0"]))
def test_compiled_cycles_where_exact_decide_as_plain_python(tmp_path_factory, case, seed, grace):
    """HybridCycles (compiled attempts where no pod is nominated and no failure may preempt) against
    PythonCycles alone: the same placements, victims, messages and timeline."""
    workload, _ = load_trace(write_trace(tmp_path_factory.mktemp("trace"), *case))
    hybrid = python_replay(Scheduler(), workload, seed=seed, grace=grace)
    python = python_replay(Scheduler(), workload, seed=seed, grace=grace, hybrid=False)
    assert hybrid.hybrid and not python.hybrid
    pd.testing.assert_frame_equal(report.placements(hybrid), report.placements(python))
    pd.testing.assert_frame_equal(report.timeline(hybrid), report.timeline(python))


def test_a_trace_with_inter_pod_affinity_replays_in_plain_python(tmp_path):
    """Outside what HybridCycles covers (here a pod with pod anti-affinity), PythonCycles runs alone."""
    nodes, pods = TWO_LOW_ONE_HIGH
    pods = [dict(p, affinity="") for p in pods]
    pods[0]["affinity"] = json.dumps({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": "kubernetes.io/hostname"}]}})
    workload, _ = load_trace(write_trace(tmp_path / "t", nodes, pods))
    result = python_replay(Scheduler(), workload)
    assert result.python and not result.hybrid
    assert (placements(result)["outcome"] == "preempted").any()


def _capacity_kept(frame: pd.DataFrame, nodes: list[dict]) -> None:
    """At every moment, the pods holding a node (bound, not yet left; a victim holds it while it
    terminates) fit its cpu."""
    cpu = {n["name"]: int(n["cpu"]) * 1000 for n in nodes}
    bound = frame[frame["scheduled"].notna()]
    for t in sorted(set(bound["scheduled"]) | set(bound["end"].dropna())):
        here = bound[(bound["scheduled"] <= t) & (bound["end"].isna() | (bound["end"] > t))]
        for node, used in here.groupby("node")["request_cpu_milli"].sum().items():
            assert used <= cpu[node], (t, node, used)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workloads(never=False), st.integers(0, 3), st.sampled_from(["pod", "0"]))
def test_preemption_keeps_capacity_and_only_takes_lower_priority_pods(tmp_path_factory, case, seed, grace):
    nodes, pods = case
    workload, _ = load_trace(write_trace(tmp_path_factory.mktemp("trace"), nodes, pods))
    result = replay(Scheduler(), workload, seed=seed, grace=grace)
    frame = report.placements(result).set_index("name", drop=False)
    priority = {p["name"]: p["priority"] for p in pods}
    priority.update({name: priority[name.split("-recreated-")[0]] for name in frame.index})
    _capacity_kept(frame, nodes)
    victims = frame[frame["outcome"] == "preempted"]
    for name, row in victims.iterrows():
        preemptor = row["preempted_by"].split("/", 1)[1]
        assert priority[preemptor] > priority[name]
        assert pd.notna(row["end"])
    recreated = frame[frame["name"].str.contains("-recreated-")]
    assert len(recreated) == result.recreated
    again = replay(Scheduler(), workload, seed=seed, grace=grace)
    pd.testing.assert_frame_equal(report.placements(again), report.placements(result))


# -- the command line -------------------------------------------------------------------------------------


def test_cli_replays_with_preemption_and_grace_period_zero(tmp_path):
    trace = write_trace(tmp_path / "trace", *TWO_LOW_ONE_HIGH)
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["replay", trace, "--out", str(out), "--grace-period", "0", "--quiet"])
    assert run.exit_code == 0, run.output
    assert "preempted                  2; 1 recreated by their owners" in run.output
    frame = pd.read_parquet(out / "placements.parquet")
    assert frame["outcome"].tolist() == ["preempted", "preempted", "finished", "finished"]
    assert frame["preempted_by"].tolist()[:2] == ["default/high"] * 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gracePeriod"] == "0" and summary["pods"]["preempted"] == 2


@pytest.mark.parametrize("column, value, expected", [
    ("recreate", "yes", "pods.csv: row 2, column recreate: must be true or false, got 'yes'"),
    ("termination_grace_period", "-1", "pods.csv: row 2, column termination_grace_period: must be a whole number"),
    ("termination_grace_period", "2.5", "pods.csv: row 2, column termination_grace_period: must be a whole number "
                                        "of seconds, at least 0, got '2.5'"),
    ("preemption_policy", "Sometimes", "pods.csv: row 2, column preemption_policy: must be PreemptLowerPriority or "
                                       "Never, got 'Sometimes'"),
])
def test_bad_preemption_columns_are_one_line_errors(tmp_path, column, value, expected):
    nodes, pods = TWO_LOW_ONE_HIGH
    pods = [dict(p, **{column: value if i == 0 else ""}) for i, p in enumerate(pods)]
    trace = write_trace(tmp_path / "trace", nodes, pods)
    run = CliRunner().invoke(main, ["replay", trace, "--out", str(tmp_path / "out"), "--quiet"])
    assert run.exit_code == 2
    assert expected in run.output and "Traceback" not in run.output
    assert not (tmp_path / "out").exists()
