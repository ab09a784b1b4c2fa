"""schedkit replay: queue semantics against a plain-Python reference, hand-worked scenarios, real openb
traces (when ../shared is present), determinism, outputs and bad input."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedkit import Kernels, Plugin
from schedkit.cli import main
from schedkit.framework.config import parse_config
from schedkit.framework.registry import Registry
from schedkit.framework.scheduler import Scheduler
from schedkit.replay import queue
from schedkit.replay.engine import _event_masks, replay
from schedkit.replay.output import write_outputs
from schedkit.replay.reference import reference_replay
from schedkit.traces import load_trace

OPENB = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "traces", "openb")
needs_openb = pytest.mark.skipif(not os.path.isdir(OPENB), reason="../shared/traces/openb not present")


def write_trace(folder, nodes: list[dict], pods: list[dict]) -> str:
    os.makedirs(folder, exist_ok=True)
    pd.DataFrame(nodes).to_csv(os.path.join(folder, "nodes.csv"), index=False)
    pd.DataFrame(pods).to_csv(os.path.join(folder, "pods.csv"), index=False)
    return str(folder)


def run(folder, seed: int = 0):
    workload, _ = load_trace(folder)
    return replay(Scheduler(), workload, seed=seed), workload


# -- hand-worked scenarios -------------------------------------------------------------------------------


def test_pod_waits_for_room_and_is_retried_when_a_pod_leaves(tmp_path):
    folder = write_trace(tmp_path, [{"name": "n1", "cpu": "1", "memory": "1Gi"}], [
        {"name": "a", "arrival": 0, "duration": 10, "cpu": "1", "memory": "100Mi"},
        {"name": "b", "arrival": 1, "duration": 5, "cpu": "1", "memory": "100Mi"},
    ])
    result, _ = run(folder)
    R = result.arrays
    assert R.scheduled.tolist() == [0.0, 10.0]  # b binds the moment a leaves (AssignedPodDelete)
    assert R.left.tolist() == [10.0, 15.0]
    assert R.attempts.tolist() == [1, 2]
    assert result.messages[1] == ("0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, "
                                  "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")
    assert result.messages[0] is None


def test_affinity_rejection_is_not_retried_on_pod_delete(tmp_path):
    # NodeAffinity registers only for node events: a departure does not requeue the pod; the 5-minute
    # leftover flush does, while something can still happen.
    nodes = [{"name": "n1", "cpu": "4", "memory": "1Gi", "labels": json.dumps({"zone": "a"})}]
    pods = [
        {"name": "a", "arrival": 0, "duration": 1000, "cpu": "1", "memory": "1Mi", "node_selector": ""},
        {"name": "b", "arrival": 0, "duration": 5, "cpu": "1", "memory": "1Mi",
         "node_selector": json.dumps({"zone": "b"})},
    ]
    result, _ = run(write_trace(tmp_path, nodes, pods))
    R = result.arrays
    assert np.isnan(R.scheduled[1])
    # attempts: at arrival (t=0), leftover flushes at t=300, 600, 900 (a still running, so the cluster
    # can change); none after a leaves at 1000.
    assert R.attempts[1] == 4
    assert result.messages[1] == ("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                                  "no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption "
                                  "is not helpful for scheduling.")


def test_priority_orders_the_queue(tmp_path):
    nodes = [{"name": "n1", "cpu": "1", "memory": "1Gi"}]
    pods = [
        {"name": "low", "arrival": 0, "duration": 10, "cpu": "1", "memory": "1Mi", "priority": 0},
        {"name": "high", "arrival": 0, "duration": 10, "cpu": "1", "memory": "1Mi", "priority": 10},
    ]
    result, _ = run(write_trace(tmp_path, nodes, pods))
    assert result.arrays.scheduled.tolist() == [10.0, 0.0]


def test_deadline_deletes_a_pending_pod(tmp_path):
    nodes = [{"name": "n1", "cpu": "1", "memory": "1Gi"}]
    pods = [
        {"name": "a", "arrival": 0, "end": 100, "cpu": "1", "memory": "1Mi"},
        {"name": "b", "arrival": 1, "end": 50, "cpu": "1", "memory": "1Mi"},
    ]
    result, _ = run(write_trace(tmp_path, nodes, pods))
    R = result.arrays
    assert R.status.tolist() == [queue.DONE, queue.DELETED]
    assert R.left.tolist() == [100.0, 50.0]
    assert np.isnan(R.scheduled[1])


def test_k8s_manifests_with_arrival_annotations(tmp_path):
    manifest = tmp_path / "scenario.yaml"
    manifest.write_text("""
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "2", memory: 1Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata: {name: running, namespace: default}
spec: {nodeName: n1, containers: [{name: c, resources: {requests: {cpu: "1"}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: first, annotations: {schedkit.io/arrival: "5", schedkit.io/duration: "20"}}
spec: {containers: [{name: c, resources: {requests: {cpu: "1"}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: second, annotations: {schedkit.io/arrival: "6"}}
spec: {containers: [{name: c, resources: {requests: {cpu: "1"}}}]}
""")
    workload, fmt = load_trace(str(manifest))
    assert fmt == "k8s" and [p.name for p in workload.running] == ["running"]
    result = replay(Scheduler(), workload)
    assert result.arrays.scheduled.tolist() == [5.0, 25.0]


# -- differential: compiled driver vs the plain-Python reference -------------------------------------------


def assert_same_as_reference(result, expected) -> None:
    """Every pod's node, scheduled and left times, attempts and last message equal the reference replay's."""
    R = result.arrays
    assert R.node.tolist() == expected["node"].tolist()
    np.testing.assert_array_equal(R.scheduled, expected["scheduled"])
    np.testing.assert_array_equal(R.left, expected["left"])
    assert R.attempts.tolist() == expected["attempts"].tolist()
    assert result.messages == expected["messages"]


# -- requeue events: declared by each plugin (Plugin.requeue_events) -------------------------------------

# The table engine.py kept before the plugins declared their own events (issue #11); not listed: every
# event.
REQUEUE_TABLE_BEFORE = {
    "NodeResourcesFit": ("pod_delete", "node_add"),
    "NodePorts": ("pod_delete", "node_add"),
    "NodeAffinity": ("node_add",),
    "TaintToleration": ("node_add",),
    "NodeUnschedulable": ("node_add",),
    "NodeName": ("node_add",),
    "InterPodAffinity": ("pod_add", "pod_delete", "node_add"),
    "PodTopologySpread": ("pod_add", "pod_delete", "node_add"),
}


def test_the_default_profile_requeues_on_the_same_events_as_before():
    profile = Scheduler().profiles["default-scheduler"]
    expected = np.zeros(3, dtype=np.int64)
    for i, plugin in enumerate(profile.plugins):
        for event in REQUEUE_TABLE_BEFORE.get(plugin.name, ("pod_delete", "pod_add", "node_add")):
            expected[queue.EVENT_NAMES[event]] |= 1 << i
    assert _event_masks(profile).tolist() == expected.tolist()
    # The compiled driver's event numbers are unchanged too.
    assert (queue.EV_POD_DELETE, queue.EV_POD_ADD, queue.EV_NODE_ADD) == (0, 1, 2)


def _one_pod_per_node(nodes, pods, p, n, state):
    return 1 if nodes.pod_count[n] > 0 else 0


class OnePodPerNode(Plugin):
    """A third-party Filter that says only a node added can help a pod it rejected (a departure would)."""

    name = "OnePodPerNode"
    kernels = Kernels(filter=_one_pod_per_node)
    reason_table = {1: "node(s) already run a pod"}
    requeue_events = ("node_add",)


# The differential tests below check the compiled driver: with DefaultPreemption on, their traces' mixed
# priorities would send the replay to the plain-Python one with preemption (test_replay_preemption.py).
NO_PREEMPTION = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
                 "profiles": [{"plugins": {"postFilter": {"disabled": [{"name": "DefaultPreemption"}]}}}]}


def without_preemption() -> Scheduler:
    return Scheduler(parse_config(NO_PREEMPTION))


def _only(cls) -> Scheduler:
    enabled = [{"name": "PrioritySort"}, {"name": "DefaultBinder"}, {"name": cls.name}]
    config = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
              "profiles": [{"plugins": {"multiPoint": {"enabled": enabled, "disabled": [{"name": "*"}]}}}]}
    return Scheduler(parse_config(config), Registry.with_builtins(cls))


def test_a_plugin_declaring_only_node_add_is_not_retried_when_a_pod_leaves(tmp_path):
    nodes = [{"name": "n1", "cpu": "4", "memory": "1Gi"}]
    pods = [{"name": "a", "arrival": 0, "duration": 10, "cpu": "1", "memory": "1Mi"},
            {"name": "b", "arrival": 1, "duration": 5, "cpu": "1", "memory": "1Mi"}]
    workload, _ = load_trace(write_trace(tmp_path, nodes, pods))
    result = replay(_only(OnePodPerNode), workload)
    R = result.arrays
    # b fails at arrival; a leaving at t=10 does not requeue it, and after that nothing can change.
    assert R.attempts.tolist() == [1, 1]
    assert np.isnan(R.scheduled[1])
    assert result.messages[1] == "0/1 nodes are available: 1 node(s) already run a pod."
    assert_same_as_reference(result, reference_replay(_only(OnePodPerNode), workload))
    # The same plugin declaring nothing (every event) has b retried, and bound, when a leaves.
    every_event = type("EveryEvent", (OnePodPerNode,), {"name": "EveryEvent", "requeue_events": None})
    result = replay(_only(every_event), workload)
    assert result.arrays.scheduled.tolist() == [0.0, 10.0]
    assert result.arrays.attempts.tolist() == [1, 2]
    assert_same_as_reference(result, reference_replay(_only(every_event), workload))

@st.composite
def workloads(draw):
    rng = random.Random(draw(st.integers(0, 2**32)))
    num_nodes = rng.randint(1, 5)
    nodes = [{"name": f"n{i}", "cpu": f"{rng.choice([2, 4, 8])}", "memory": f"{rng.choice([4, 8])}Gi",
              "pods": rng.choice([3, 110]), "labels": json.dumps({"zone": rng.choice("ab")})}
             for i in range(num_nodes)]
    timing = rng.choice(["duration", "end"])
    pods = []
    for i in range(rng.randint(1, 40)):
        arrival = rng.choice([0, rng.randint(0, 50), rng.randint(0, 50) + 0.5])
        row = {"name": f"p{i}", "arrival": arrival, "cpu": f"{rng.choice([500, 1000, 2000, 3000])}m",
               "memory": f"{rng.choice([256, 1024, 4096])}Mi", "priority": rng.choice([0, 0, 5]),
               "node_selector": json.dumps({"zone": rng.choice("ab")}) if rng.random() < 0.2 else ""}
        length = rng.choice([1, 5, 30, 400, None])
        row[timing] = "" if length is None else (length if timing == "duration" else arrival + length)
        pods.append(row)
    return nodes, pods


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workloads(), st.integers(0, 3))
def test_driver_matches_reference(tmp_path_factory, case, seed):
    nodes, pods = case
    folder = write_trace(tmp_path_factory.mktemp("trace"), nodes, pods)
    workload, _ = load_trace(folder)
    expected = reference_replay(without_preemption(), workload, seed=seed)
    assert_same_as_reference(replay(without_preemption(), workload, seed=seed), expected)


@st.composite
def backlogs(draw):
    """Few nodes, many pods of few shapes, integer times: long queues of pods failing together at every
    departure (groups, queue.py), with same-time ties, priorities, deadlines and pods no node takes."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    nodes = [{"name": f"n{i}", "cpu": f"{rng.choice([4, 8])}", "memory": "16Gi", "pods": rng.choice([4, 110]),
              "labels": json.dumps({"zone": rng.choice("aac")})} for i in range(rng.randint(1, 4))]
    timing = rng.choice(["duration", "end"])
    pods = []
    horizon = rng.choice([60, 300, 900])
    step = rng.choice([1, 10])  # coarse times: departures, deadlines and backoff expiries coincide
    for i in range(rng.randint(20, 90)):
        arrival = step * rng.randint(0, horizon // step)
        cpu = rng.choice(["1", "2", "2", "4", "4", "8"])
        row = {"name": f"p{i}", "arrival": arrival, "cpu": cpu, "memory": "1Gi",
               "priority": rng.choice([0, 0, 0, 3]),
               "node_selector": json.dumps({"zone": "b"}) if rng.random() < 0.05 else "",
               "labels": "", "topology_spread_constraints": "", "affinity": ""}
        kind = rng.random()
        if kind < 0.1:  # spread over zones: PodTopologySpread runs, and requeues on pods bound
            row["labels"] = json.dumps({"app": "spread"})
            row["topology_spread_constraints"] = json.dumps([{
                "maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "spread"}}}])
        elif kind < 0.15:  # one per zone: InterPodAffinity runs
            row["labels"] = json.dumps({"app": "alone"})
            row["affinity"] = json.dumps({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "alone"}}}]}})
        length = step * rng.choice([1, 2, 7, 20, 60])
        if timing == "duration":
            row["duration"] = length if rng.random() < 0.95 else ""
        else:
            row["end"] = arrival + length * rng.choice([1, 3])
        pods.append(row)
    return nodes, pods


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(backlogs(), st.integers(0, 2))
def test_groups_match_reference_on_backlogs(tmp_path_factory, case, seed):
    nodes, pods = case
    folder = write_trace(tmp_path_factory.mktemp("trace"), nodes, pods)
    workload, _ = load_trace(folder)
    expected = reference_replay(without_preemption(), workload, seed=seed)
    assert_same_as_reference(replay(without_preemption(), workload, seed=seed), expected)


def test_groups_fail_many_attempts_at_once(tmp_path):
    """Big pods queued behind small ones on one node: every departure retries the whole queue. Groups
    make most of those attempts in bulk, with the outcome of one cycle per pod."""
    rng = random.Random(3)
    nodes = [{"name": "n0", "cpu": "8", "memory": "16Gi"}, {"name": "n1", "cpu": "8", "memory": "16Gi"}]
    pods = [{"name": f"p{i}", "arrival": i // 3, "duration": rng.choice([5, 20, 40]),
             "cpu": rng.choice(["1", "1", "2", "8"]), "memory": "1Gi"} for i in range(240)]
    folder = write_trace(tmp_path, nodes, pods)
    workload, _ = load_trace(folder)
    grouped = replay(Scheduler(), workload)
    single = replay(Scheduler(), workload, groups=False)
    expected = reference_replay(Scheduler(), workload)
    for result in (grouped, single):
        assert result.arrays.node.tolist() == expected["node"].tolist()
        np.testing.assert_array_equal(result.arrays.scheduled, expected["scheduled"])
        assert result.arrays.attempts.tolist() == expected["attempts"].tolist()
        assert result.messages == expected["messages"]
    assert int(single.counters[queue.C_GROUP_ATTEMPTS]) == 0
    bulk = int(grouped.counters[queue.C_GROUP_ATTEMPTS])
    assert bulk > grouped.arrays.attempts.sum() / 2, (bulk, grouped.arrays.attempts.sum())


def test_incremental_failure_check_keeps_decisions(tmp_path):
    """A backlog of big pods retried at every departure: the per-signature shortcut must give the same
    replay as the reference that runs every filter every time."""
    rng = random.Random(7)
    nodes = [{"name": f"n{i}", "cpu": "8", "memory": "32Gi"} for i in range(6)]
    pods = [{"name": f"p{i}", "arrival": i * 0.5, "duration": rng.choice([3, 10, 60]),
             "cpu": rng.choice(["1", "2", "8"]), "memory": "1Gi"} for i in range(150)]
    folder = write_trace(tmp_path, nodes, pods)
    workload, _ = load_trace(folder)
    result = replay(Scheduler(), workload)
    expected = reference_replay(Scheduler(), workload)
    assert result.arrays.node.tolist() == expected["node"].tolist()
    assert result.arrays.attempts.tolist() == expected["attempts"].tolist()
    assert result.messages == expected["messages"]
    assert result.arrays.attempts.sum() > 300  # the shortcut was exercised: many failing retries
    assert int(result.counters[queue.C_SLOTS]) >= 1


# -- determinism -----------------------------------------------------------------------------------------


def test_same_seed_same_bytes_and_seeds_differ_only_in_ties(tmp_path):
    runner = CliRunner()
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        out = runner.invoke(main, ["replay", "--quiet", "--seed", str(seed), "--out", str(tmp_path / name)])
        assert out.exit_code == 0, out.output
    read = lambda name: (tmp_path / name / "placements.parquet").read_bytes()  # noqa: E731
    assert read("a") == read("b")
    a = pd.read_parquet(tmp_path / "a" / "placements.parquet")
    c = pd.read_parquet(tmp_path / "c" / "placements.parquet")
    assert (a["node"] != c["node"]).any()  # ties broken differently
    assert a["name"].tolist() == c["name"].tolist()


# -- real openb traces -----------------------------------------------------------------------------------


def check_never_over_allocatable(placements: pd.DataFrame, nodes: pd.DataFrame) -> None:
    """From placements.parquet alone: at every moment each node's running requests fit its allocatable."""
    placed = placements[placements["node"].notna()]
    events = pd.concat([
        placed.assign(time=placed["scheduled"], sign=1),
        placed[placed["end"].notna()].assign(time=placed["end"], sign=-1),
    ])
    events = events.sort_values(["time", "sign"], kind="stable")  # departures first at equal times
    capacity = nodes.set_index("sn")
    for column, limit in (("request_cpu_milli", "cpu_milli"), ("request_nvidia.com/gpu", "gpu")):
        running = (events[column] * events["sign"]).groupby(events["node"]).cumsum()
        allowed = events["node"].map(capacity[limit] if limit == "gpu" else capacity[limit])
        assert (running <= allowed).all(), column


@needs_openb
def test_openb_gpuspec33_timed(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["replay", os.path.join(OPENB, "openb_pod_list_gpuspec33.csv"), "--nodes",
                                       os.path.join(OPENB, "openb_node_list_all_node.csv"), "--quiet", "--out",
                                       str(out)])
    assert result.exit_code == 0, result.output
    placements = pd.read_parquet(out / "placements.parquet")
    source = pd.read_csv(os.path.join(OPENB, "openb_pod_list_gpuspec33.csv"))
    assert sorted(placements["name"]) == sorted(source["name"])  # every pod exactly once
    assert placements["name"].is_unique
    nodes = pd.read_csv(os.path.join(OPENB, "openb_node_list_all_node.csv"))
    check_never_over_allocatable(placements, nodes)
    stuck = placements.set_index("name").loc["openb-pod-1639"]
    assert pd.isna(stuck["node"]) and stuck["outcome"] == "deleted-pending"
    assert "node(s) didn't match Pod's node affinity/selector" in stuck["message"]
    assert stuck["message"].startswith("0/1523 nodes are available:")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pods"]["total"] == 8152 and summary["pods"]["neverScheduled"] == 1


@needs_openb
def test_openb_fill_to_130_percent_gpu(tmp_path):
    out = tmp_path / "fill"
    result = CliRunner().invoke(main, ["replay", os.path.join(OPENB, "openb_pod_list_default.csv"), "--mode", "fill",
                                       "--target-demand", "1.3", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # Tuned as the FGD simulator tunes: copies drawn until the next one would pass the target.
    assert 1.29 < summary["fill"]["submittedDemand"] <= 1.3
    assert summary["fill"]["tunedUp"] > 0 and summary["fill"]["tunedDown"] == 0
    assert summary["nodes"] == 1213  # openb_node_list_gpu_node.csv beside the trace
    placements = pd.read_parquet(out / "placements.parquet")
    assert placements["name"].is_unique
    used = placements.groupby("node")["request_nvidia.com/gpu"].sum()
    nodes = pd.read_csv(os.path.join(OPENB, "openb_node_list_gpu_node.csv")).set_index("sn")
    assert (used <= nodes.loc[used.index, "gpu"]).all()
    assert summary["allocation"]["nvidia.com/gpu"]["end"] > 0.9


# -- outputs and bad input -------------------------------------------------------------------------------


def test_default_replay_writes_complete_outputs(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = runner.invoke(main, ["replay", "--quiet"])
        assert result.exit_code == 0, result.output
        folders = [f for f in os.listdir(".") if f.startswith("replay-sample-")]
        assert len(folders) == 1
        files = sorted(os.listdir(folders[0]))
        assert files == ["placements.parquet", "summary.json", "timeline.parquet"]
        summary = json.load(open(os.path.join(folders[0], "summary.json")))
        assert summary["pods"]["total"] == 3000
        assert summary["performance"]["decisions"] >= 3000
        timeline = pd.read_parquet(os.path.join(folders[0], "timeline.parquet"))
        assert (timeline["allocated_nvidia.com/gpu"] <= timeline["allocatable_nvidia.com/gpu"]).all()
        assert timeline["time"].is_monotonic_increasing
        assert "scheduled" in result.output and "decisions/s" in result.output


def test_interrupted_write_leaves_nothing(tmp_path):
    folder = tmp_path / "out"

    def boom(path):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_outputs(str(folder), {"placements.parquet": lambda p: open(p, "w").write("x"),
                                    "summary.json": boom})
    assert not folder.exists()


@pytest.mark.parametrize("pods, fragment", [
    ({"name": ["a"], "cpu": ["1"]}, "missing column(s) arrival"),
    ({"name": ["a"], "arrival": ["0"], "cpu": ["-1"]}, "row 2, column cpu: must be greater than or equal to 0"),
    ({"name": ["a"], "arrival": ["soon"], "cpu": ["1"]}, "row 2, column arrival: not a number: 'soon'"),
    ({"name": ["a"], "arrival": ["0"], "cpu": ["1x"]}, "row 2, column cpu:"),
    ({"name": ["a"], "arrival": ["0"], "colour": ["red"]}, "unknown column(s) 'colour'"),
    ({"name": ["a", "b"], "arrival": ["0", "1"], "end": ["5", "0"]}, "row 3, column end: end 0 is before arrival 1"),
    ({"name": ["a", "Bad_Name"], "arrival": ["0", "0"]}, "row 3, column name: 'Bad_Name': a lowercase RFC 1123 subdomain"),
    ({"name": ["a"], "namespace": ["team.a"], "arrival": ["0"]}, "row 2, column namespace: 'team.a': a lowercase RFC 1123 label"),
])
def test_bad_traces_are_one_line_errors_and_write_nothing(tmp_path, pods, fragment):
    folder = tmp_path / "t"
    folder.mkdir()
    pd.DataFrame({"name": ["n1"], "cpu": ["1"], "memory": ["1Gi"]}).to_csv(folder / "nodes.csv", index=False)
    pd.DataFrame(pods).to_csv(folder / "pods.csv", index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["replay", str(folder), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("schedkit: error: ")
    assert "pods.csv" in lines[0] and fragment in lines[0], lines[0]
    assert not out.exists()


def test_unknown_format_and_missing_nodes(tmp_path):
    odd = tmp_path / "trace.txt"
    odd.write_text("hello\n")
    result = CliRunner().invoke(main, ["replay", str(odd), "--quiet"])
    assert result.exit_code == 2 and "cannot tell the trace format" in result.output
    lonely = tmp_path / "pods.csv"
    lonely.write_text("name,arrival\na,0\n")
    result = CliRunner().invoke(main, ["replay", str(lonely), "--quiet"])
    assert result.exit_code == 2 and "pass --nodes" in result.output


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("schedkit: error: "), result.output
    return lines[0]


def test_wrong_format_or_a_folder_of_openb_lists_say_so(tmp_path):
    sample = os.path.join(os.path.dirname(__file__), "..", "traces", "sample")
    openb = tmp_path / "openb"
    openb.mkdir()
    (openb / "openb_pod_list_default.csv").write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,"
                                                     "qos,pod_phase,creation_time,deletion_time,scheduled_time\n")
    (openb / "openb_node_list_gpu_node.csv").write_text("sn,cpu_milli,memory_mib,gpu,model\n")
    runner = CliRunner()
    for args in ([str(openb)], [str(openb), "--format", "openb"]):
        line = one_line_error(runner.invoke(main, ["replay", *args, "--quiet"]))
        assert "holds openb pod lists (openb_pod_list_default.csv); give one of them" in line
    line = one_line_error(runner.invoke(main, ["replay", sample, "--format", "openb", "--quiet"]))
    assert "is a folder; --format openb reads one openb pod list file" in line
    line = one_line_error(runner.invoke(main, ["replay", str(openb / "openb_pod_list_default.csv"), "--format",
                                               "schedkit", "--quiet"]))
    assert "not a schedkit pod table: no 'arrival' column (it is an openb pod list: --format openb)" in line
    line = one_line_error(runner.invoke(main, ["replay", os.path.join(sample, "pods.csv"), "--format", "openb",
                                               "--quiet"]))
    assert "not an openb pod list" in line


@pytest.mark.parametrize("target, fragment", [
    ("nan", "--target-demand must be a finite number above 0, got nan"),
    ("inf", "--target-demand must be a finite number above 0, got inf"),
    ("-1", "--target-demand must be a finite number above 0, got -1"),
    ("1e9", "pods, more than a replay here holds (5,000,000)"),
])
def test_fill_targets_out_of_reach_are_refused(tmp_path, target, fragment):
    out = tmp_path / "out"
    line = one_line_error(CliRunner().invoke(main, ["replay", "--mode", "fill", "--target-demand", target,
                                                    "--out", str(out), "--quiet"]))
    assert fragment in line
    assert not out.exists()


def test_out_folder_with_other_files_is_refused_and_left_alone(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine\n")
    line = one_line_error(CliRunner().invoke(main, ["replay", "--out", str(taken), "--quiet"]))
    assert "folder holds other files (notes.txt); give a new or empty folder" in line
    assert sorted(os.listdir(taken)) == ["notes.txt"]
    line = one_line_error(CliRunner().invoke(main, ["trace", "generate", "--nodes", "5", "--pods", "10",
                                                    "--out", str(taken)]))
    assert "folder holds other files (notes.txt)" in line


def test_default_out_folders_never_collide(tmp_path, monkeypatch):
    import datetime

    from schedkit.replay import output

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 27, 12, 0, 0)

    monkeypatch.setattr(output.datetime, "datetime", Frozen)  # three replays started in the same second
    monkeypatch.chdir(tmp_path)
    made = [output.new_out_dir("traces/sample") for _ in range(3)]
    assert made[0] == "replay-sample-20261127-120000"
    assert len(set(made)) == 3 and all(os.path.isdir(path) for path in made)
    assert made[1] == made[0] + "-2" and made[2] == made[0] + "-3"


def test_trace_generate_cli(tmp_path):
    out = tmp_path / "gen"
    result = CliRunner().invoke(main, ["trace", "generate", "--nodes", "20", "--pods", "100", "--seed", "3",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    workload, fmt = load_trace(str(out))
    assert fmt == "schedkit" and workload.num_pods == 100 and len(workload.nodes) == 20
    # traces/README.md's command regenerates the bundled sample byte for byte
    sample = os.path.join(os.path.dirname(__file__), "..", "traces", "sample")
    again = tmp_path / "again"
    result = CliRunner().invoke(main, ["trace", "generate", "--like", "openb", "--nodes", "200", "--pods", "3000",
                                       "--seed", "1", "--out", str(again)])
    assert result.exit_code == 0, result.output
    for name in ("nodes.csv", "pods.csv"):
        assert (again / name).read_bytes() == open(os.path.join(sample, name), "rb").read()
