"""The `schedkit` command as an operator uses it: explain and schedule, every output format.

Small clusters are written to ``tmp_path``; expected scores are computed by hand in the comments
(upstream v1.36 integer arithmetic: LeastAllocated, MostAllocated, the "change in balance"
NodeResourcesBalancedAllocation score, TaintToleration's reversed normalisation).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from schedkit.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")

# n1: 4 cpu / 8Gi, n2: 2 cpu / 4Gi, n3: 4 cpu / 8Gi but tainted NoSchedule.
NODES = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
  status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
- apiVersion: v1
  kind: Node
  metadata: {name: n2, labels: {kubernetes.io/hostname: n2}}
  status: {allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
- apiVersion: v1
  kind: Node
  metadata: {name: n3, labels: {kubernetes.io/hostname: n3}}
  spec:
    taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
  status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
"""


def pod_yaml(name: str, cpu: str = "1", memory: str = "1Gi", namespace: str = "default", extra: str = "") -> str:
    text = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  containers:
  - name: c
    resources: {{requests: {{cpu: "{cpu}", memory: {memory}}}}}
"""
    if extra:
        text += textwrap.indent(textwrap.dedent(extra), "  ")
    return text


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"schedkit {' '.join(args)} raised {result.exception!r}\n{result.stderr}")
    return result


@pytest.fixture
def nodes(tmp_path):
    return write(tmp_path, "nodes.yaml", NODES)


@pytest.fixture
def pod(tmp_path):
    return write(tmp_path, "pod.yaml", pod_yaml("web"))


# --------------------------------------------------------------------------------------------- explain


def test_explain_table_lists_every_node_and_the_selected_node(nodes, pod):
    result = run("explain", "--cluster", nodes, "--pod", pod)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Pod default/web (schedulerName default-scheduler)\n")
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("n")}
    assert set(rows) == {"n1", "n2", "n3"}
    assert rows["n1"].split()[1] == "yes" and rows["n1"].rstrip().endswith("452")
    assert rows["n2"].split()[1] == "yes" and rows["n2"].rstrip().endswith("430")
    assert rows["n3"].split()[1] == "no"
    assert "TaintToleration: node(s) had untolerated taint(s)" in rows["n3"]
    header = out.splitlines()[2]
    for column in ("NODE", "FEASIBLE", "FILTER", "TaintToleration (x3)", "NodeResourcesFit (x1)",
                   "NodeResourcesBalancedAllocation (x1)", "TOTAL"):
        assert column in header
    assert "Selected node: n1" in out
    assert "Not modelled by schedkit yet" in out


def test_explain_json_keys_and_shapes(nodes, pod):
    result = run("explain", "--cluster", nodes, "--pod", pod, "--output", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"pod", "schedulerName", "selectedNode", "message", "nodes",
                         "skippedScorePlugins", "scoringSkipped", "cycleError", "notModelled", "warnings",
                         "boundNode", "nominatedNode", "victims", "preemption"}
    assert data["pod"] == "default/web"
    assert data["schedulerName"] == "default-scheduler"
    assert data["selectedNode"] == "n1"
    assert data["message"] is None
    assert isinstance(data["skippedScorePlugins"], list)
    assert data["scoringSkipped"] is False
    assert data["cycleError"] is False
    assert "VolumeBinding" in data["notModelled"]
    assert [n["name"] for n in data["nodes"]] == ["n1", "n2", "n3"]
    for node in data["nodes"]:
        assert set(node) == {"name", "feasible", "failedPlugin", "status", "reasons", "scores", "totalScore",
                             "examined"}
        assert node["status"] in (None, "Unschedulable", "UnschedulableAndUnresolvable")
        assert (node["status"] is None) == node["feasible"]
        assert isinstance(node["feasible"], bool)
        assert isinstance(node["reasons"], list)
        assert isinstance(node["scores"], dict)
        for plugin, score in node["scores"].items():
            assert set(score) == {"raw", "normalized", "weight"}, plugin
            assert all(isinstance(v, int) for v in score.values())
            assert 0 <= score["normalized"] <= 100
        if node["feasible"]:
            assert node["failedPlugin"] is None and node["reasons"] == []
            assert node["totalScore"] == sum(s["normalized"] * s["weight"] for s in node["scores"].values())


def test_explain_json_exact_scores_least_allocated(nodes, pod):
    """Pod 1 cpu / 1Gi.

    n1 (4 cpu, 8Gi): LeastAllocated cpu (4000-1000)*100/4000 = 75, memory (8-1)*100/8 = 87 -> (75+87)/2 = 81.
      Balance: fractions .25/.125 -> std .0625 -> int(93.75) = 93; empty node 100 -> 50 + (50+93-100)//2 = 71.
      TaintToleration: no PreferNoSchedule taints -> raw 0 -> normalised 100, weight 3.
      ImageLocality: the node has none of the pod's images -> sum clamped to 23 MiB -> 0.
      Total 300 + 81 + 71 = 452.
    n2 (2 cpu, 4Gi): cpu 50, memory 75 -> 62; balance .5/.25 -> 87 -> 50 + 37//2 = 68; total 430.
    """
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "-o", "json").stdout)
    by_name = {n["name"]: n for n in data["nodes"]}
    assert by_name["n1"]["scores"] == {
        "TaintToleration": {"raw": 0, "normalized": 100, "weight": 3},
        "NodeResourcesFit": {"raw": 81, "normalized": 81, "weight": 1},
        "NodeResourcesBalancedAllocation": {"raw": 71, "normalized": 71, "weight": 1},
        "ImageLocality": {"raw": 0, "normalized": 0, "weight": 1},
    }
    assert by_name["n1"]["totalScore"] == 452
    assert by_name["n2"]["scores"]["NodeResourcesFit"] == {"raw": 62, "normalized": 62, "weight": 1}
    assert by_name["n2"]["scores"]["NodeResourcesBalancedAllocation"]["normalized"] == 68
    assert by_name["n2"]["totalScore"] == 430
    # NodeAffinity's PreScore skips a pod with no node affinity at all; PodTopologySpread's a pod with no
    # constraints and no Service or controller to build default ones from.
    assert data["skippedScorePlugins"] == ["NodeAffinity", "PodTopologySpread", "InterPodAffinity"]


def test_explain_infeasible_nodes_have_no_scores(nodes, pod):
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "-o", "json").stdout)
    n3 = next(n for n in data["nodes"] if n["name"] == "n3")
    assert n3["feasible"] is False
    assert n3["failedPlugin"] == "TaintToleration"
    assert n3["reasons"] == ["node(s) had untolerated taint(s)"]
    assert n3["scores"] == {}
    assert n3["totalScore"] is None


def test_explain_unschedulable_pod_exits_zero_with_upstream_message(tmp_path, nodes):
    big = write(tmp_path, "big.yaml", pod_yaml("big", cpu="5"))
    result = run("explain", "--cluster", nodes, "--pod", big, "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["selectedNode"] is None
    # Reasons histogram sorted as strings, as upstream's FitError.Error().
    # The PostFilter part: 5 cpu exceeds every node's allocatable (UnschedulableAndUnresolvable), so no node
    # is a preemption candidate.
    assert data["message"] == ("0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
                               "no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is "
                               "not helpful for scheduling.")
    assert (data["nominatedNode"], data["victims"], data["preemption"]["candidates"]) == (None, [], [])
    fails = {n["name"]: (n["failedPlugin"], n["reasons"], n["scores"], n["totalScore"]) for n in data["nodes"]}
    assert fails["n1"] == ("NodeResourcesFit", ["Insufficient cpu"], {}, None)
    assert fails["n2"] == ("NodeResourcesFit", ["Insufficient cpu"], {}, None)
    table = run("explain", "--cluster", nodes, "--pod", big)
    assert table.exit_code == 0
    assert "Unschedulable: 0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu." in table.stdout
    assert "Selected node" not in table.stdout


def test_explain_single_feasible_node_is_not_scored(tmp_path, nodes):
    # 3 cpu fits only n1 (n2 has 2, n3 is tainted): upstream picks it without running Score.
    pod = write(tmp_path, "three.yaml", pod_yaml("three", cpu="3"))
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "-o", "json").stdout)
    assert data["selectedNode"] == "n1"
    assert data["scoringSkipped"] is True
    n1 = data["nodes"][0]
    assert n1["feasible"] is True and n1["scores"] == {} and n1["totalScore"] is None


def test_explain_config_most_allocated_changes_scores(nodes, pod):
    """MostAllocated (cpu 1, memory 1, nvidia.com/gpu 3; gpu neither requested nor present, so left out):
    n1 cpu 1000*100/4000 = 25, memory 100/8 = 12 -> 37/2 = 18;  n2 cpu 50, memory 25 -> 75/2 = 37.
    Totals: n1 300+18+71 = 389, n2 300+37+68 = 405 -> n2 wins (n1 wins under the default profile)."""
    config = os.path.join(EXAMPLES, "most-allocated.yaml")
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "--config", config, "-o", "json").stdout)
    by_name = {n["name"]: n for n in data["nodes"]}
    assert by_name["n1"]["scores"]["NodeResourcesFit"]["normalized"] == 18
    assert by_name["n2"]["scores"]["NodeResourcesFit"]["normalized"] == 37
    assert by_name["n1"]["totalScore"] == 389
    assert by_name["n2"]["totalScore"] == 405
    assert data["selectedNode"] == "n2"
    default = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "-o", "json").stdout)
    assert default["selectedNode"] == "n1"


def test_explain_readme_example_matches_documented_output():
    result = run("explain", "--cluster", os.path.join(EXAMPLES, "cluster.yaml"),
                 "--pod", os.path.join(EXAMPLES, "pod.yaml"), "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["selectedNode"] == "cpu-b1"
    totals = {n["name"]: n["totalScore"] for n in data["nodes"]}
    assert totals == {"cpu-a1": 457, "cpu-b1": 647, "cpu-c1": None, "gpu-a1": None}


def _ties_cluster(tmp_path, count: int = 8) -> str:
    items = "".join(
        f'- {{apiVersion: v1, kind: Node, metadata: {{name: s{i}}}, '
        f'status: {{allocatable: {{cpu: "4", memory: 8Gi, pods: "110"}}}}}}\n'
        for i in range(count)
    )
    return write(tmp_path, "ties.yaml", "apiVersion: v1\nkind: List\nitems:\n" + items)


def test_explain_seed_is_reproducible_and_breaks_ties(tmp_path, pod):
    cluster = _ties_cluster(tmp_path)
    picks = []
    for seed in range(10):
        first = json.loads(run("explain", "--cluster", cluster, "--pod", pod, "--seed", str(seed), "-o", "json").stdout)
        again = json.loads(run("explain", "--cluster", cluster, "--pod", pod, "--seed", str(seed), "-o", "json").stdout)
        assert first == again
        picks.append(first["selectedNode"])
    assert len(set(picks)) > 1, picks  # ties are broken by the seed, not always the first node


def test_explain_pod_for_another_scheduler(tmp_path, nodes):
    pod = write(tmp_path, "other.yaml", pod_yaml("other", extra="schedulerName: my-scheduler\n"))
    result = run("explain", "--cluster", nodes, "--pod", pod, "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["schedulerName"] == "my-scheduler"
    assert data["selectedNode"] is None
    assert data["message"].startswith('no profile for schedulerName "my-scheduler"')


def test_explain_gated_pod(tmp_path, nodes):
    pod = write(tmp_path, "gated.yaml", pod_yaml(
        "gated", extra="schedulingGates: [{name: example.com/foo}, {name: bar}]\n"))
    result = run("explain", "--cluster", nodes, "--pod", pod, "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["selectedNode"] is None
    assert data["message"] == "waiting for scheduling gates: [example.com/foo bar]"
    assert [n["name"] for n in data["nodes"]] == ["n1", "n2", "n3"]
    assert all(n["scores"] == {} and n["totalScore"] is None for n in data["nodes"])
    table = run("explain", "--cluster", nodes, "--pod", pod)
    assert "Unschedulable: waiting for scheduling gates: [example.com/foo bar]" in table.stdout


def test_explain_requires_exactly_one_pod(tmp_path, nodes):
    two = write(tmp_path, "two.yaml", pod_yaml("a") + "---\n" + pod_yaml("b"))
    result = run("explain", "--cluster", nodes, "--pod", two)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"schedkit: error: {two}: expected exactly one Pod, found 2"


# -------------------------------------------------------------------------------------------- schedule

BATCH = (
    pod_yaml("p1", cpu="3") + "---\n"  # only n1 has 3 cpu free
    + pod_yaml("p2", cpu="2") + "---\n"  # n1 has 1 cpu left: n2
    + pod_yaml("p3", cpu="1") + "---\n"  # n2 is full, n1 has exactly 1 cpu left
    + pod_yaml("p4", cpu="1")  # nothing left
)
EXPECTED = [
    ("default/p1", "n1", None),
    ("default/p2", "n2", None),
    ("default/p3", "n1", None),
    ("default/p4", None, "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. "
                         "no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not "
                         "helpful for scheduling, 2 No preemption victims found for incoming pod."),
]


@pytest.fixture
def batch(tmp_path):
    return write(tmp_path, "batch.yaml", BATCH)


def test_schedule_json(nodes, batch):
    result = run("schedule", "--cluster", nodes, "--pods", batch, "--output", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    # The documented keys: notQueued (pods that never entered the queue), bound (pods given with spec.nodeName).
    assert set(data) == {"assignments", "evicted", "scheduled", "unschedulable", "podsPerSecond", "compileSeconds",
                         "notQueued", "bound"}
    for a in data["assignments"]:
        assert set(a) == {"pod", "node", "message", "nominatedNode"}
    assert data["evicted"] == []
    assert [(a["pod"], a["node"], a["message"]) for a in data["assignments"]] == EXPECTED
    assert data["scheduled"] == 3 and data["unschedulable"] == 1
    assert isinstance(data["podsPerSecond"], (int, float)) and data["podsPerSecond"] >= 0
    assert isinstance(data["compileSeconds"], (int, float)) and data["compileSeconds"] >= 0


def test_schedule_table(nodes, batch):
    result = run("schedule", "--cluster", nodes, "--pods", batch)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["POD", "NODE", "MESSAGE"]
    rows = [line.split(None, 2) for line in lines[1:5]]
    assert [(r[0], r[1]) for r in rows] == [("default/p1", "n1"), ("default/p2", "n2"), ("default/p3", "n1"),
                                           ("default/p4", "-")]
    assert rows[3][2] == EXPECTED[3][2]
    assert lines[-1].startswith("3 scheduled, 1 unschedulable; ")


def test_schedule_csv(nodes, batch):
    result = run("schedule", "--cluster", nodes, "--pods", batch, "-o", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["pod", "node", "message", "nominated_node"]
    assert rows[1:] == [[p, n or "", m or "", ""] for p, n, m in EXPECTED]


def test_schedule_out_writes_file_and_only_summary(tmp_path, nodes, batch):
    out = tmp_path / "result.json"
    result = run("schedule", "--cluster", nodes, "--pods", batch, "-o", "json", "--out", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == f"3 scheduled, 1 unschedulable; wrote {out}"
    data = json.loads(out.read_text())
    assert [(a["pod"], a["node"], a["message"]) for a in data["assignments"]] == EXPECTED
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".schedkit-")]  # no temp file left behind


def test_schedule_out_csv(tmp_path, nodes, batch):
    out = tmp_path / "result.csv"
    assert run("schedule", "--cluster", nodes, "--pods", batch, "-o", "csv", "--out", str(out)).exit_code == 0
    assert out.read_text() == run("schedule", "--cluster", nodes, "--pods", batch, "-o", "csv").stdout


def test_schedule_out_not_written_on_failure(tmp_path, nodes):
    bad = write(tmp_path, "bad.yaml", pod_yaml("bad", cpu="1.5.0"))
    out = tmp_path / "result.json"
    result = run("schedule", "--cluster", nodes, "--pods", bad, "-o", "json", "--out", str(out))
    assert result.exit_code == 2
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["bad.yaml", "nodes.yaml"]  # no temp file either
    # An existing file is left untouched by a failing run.
    out.write_text("previous")
    assert run("schedule", "--cluster", nodes, "--pods", bad, "--out", str(out)).exit_code == 2
    assert out.read_text() == "previous"


def test_schedule_seed_reproducible(tmp_path):
    cluster = _ties_cluster(tmp_path)
    pods = write(tmp_path, "many.yaml", "---\n".join(pod_yaml(f"q{i}", cpu="100m", memory="100Mi")
                                                     for i in range(6)))

    def placements(seed):
        data = json.loads(run("schedule", "--cluster", cluster, "--pods", pods, "--seed", str(seed), "-o", "json").stdout)
        return [(a["pod"], a["node"]) for a in data["assignments"]]

    assert placements(7) == placements(7)
    assert len({tuple(placements(s)) for s in range(6)}) > 1


def test_schedule_config_most_allocated_packs(nodes, tmp_path):
    """Two 500m pods: LeastAllocated spreads them, MostAllocated packs them onto the smaller node n2."""
    pods = write(tmp_path, "two.yaml", pod_yaml("a", cpu="500m", memory="512Mi") + "---\n"
                 + pod_yaml("b", cpu="500m", memory="512Mi"))
    config = os.path.join(EXAMPLES, "most-allocated.yaml")
    packed = json.loads(run("schedule", "--cluster", nodes, "--pods", pods, "--config", config, "-o", "json").stdout)
    assert [a["node"] for a in packed["assignments"]] == ["n2", "n2"]
    spread = json.loads(run("schedule", "--cluster", nodes, "--pods", pods, "-o", "json").stdout)
    assert [a["node"] for a in spread["assignments"]] == ["n1", "n1"]


def test_schedule_default_is_pending_pods_of_cluster_input():
    result = run("schedule", "--cluster", os.path.join(EXAMPLES, "cluster.yaml"), "-o", "json")
    data = json.loads(result.stdout)
    pods = {a["pod"]: a for a in data["assignments"]}
    assert set(pods) == {"shop/web-5d9c7b8f4-fghij", "ml/train-1", "batch/report-28811520-kq7zt"}
    # web wants hostPort 8080, which the running web pod holds on cpu-b1.
    assert pods["shop/web-5d9c7b8f4-fghij"]["node"] == "cpu-a1"
    # report requires zone a or c: cpu-c1 is cordoned and gpu-a1 tainted, leaving cpu-a1.
    assert pods["batch/report-28811520-kq7zt"]["node"] == "cpu-a1"
    assert pods["ml/train-1"]["node"] is None
    assert pods["ml/train-1"]["message"] == (
        "0/4 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable, 2 Insufficient cpu, "
        "3 Insufficient nvidia.com/gpu. no new claims to deallocate, preemption: 0/4 nodes are available: "
        "1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.")


def test_schedule_multiple_cluster_paths_and_namespace_podlists(tmp_path):
    """Nodes in one file, running and pending pods in a directory of per-namespace PodLists (kubectl style,
    with the two forms of empty list) -- and the same folder as one --cluster directory."""
    root = tmp_path / "dump"
    nodes = write(root, "nodes.json", json.dumps({"apiVersion": "v1", "kind": "NodeList", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
         "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"},
         "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}},
    ]}))

    def podlist(items):
        return json.dumps({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": items})

    running = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "busy", "namespace": "team-a"},
               "spec": {"nodeName": "n1", "containers": [
                   {"name": "c", "resources": {"requests": {"cpu": "3", "memory": "1Gi"}}}]},
               "status": {"phase": "Running"}}
    done = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "job", "namespace": "team-a"},
            "spec": {"nodeName": "n2", "containers": [
                {"name": "c", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}]},
            "status": {"phase": "Succeeded"}}  # holds nothing
    pending = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "new", "namespace": "team-b"},
               "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
               "status": {"phase": "Pending"}}
    pods_dir = root / "pods"
    write(pods_dir, "team-a.json", podlist([running, done]))
    write(pods_dir, "team-b.json", podlist([pending]))
    write(pods_dir, "empty-null.json", podlist(None))
    write(pods_dir, "empty-list.json", podlist([]))
    write(pods_dir, "README.txt", "not a manifest")

    # n1 with busy: cpu (4000-4000)*100/4000 = 0, memory (8-2)*100/8 = 75 -> 37; n2: 50, 75 -> 62.
    for args in (["--cluster", nodes, "--cluster", str(pods_dir)], ["--cluster", str(root)]):
        data = json.loads(run("schedule", *args, "-o", "json").stdout)
        assert [(a["pod"], a["node"]) for a in data["assignments"]] == [("team-b/new", "n2")]
        explained = json.loads(run("explain", *args, "--pod", str(pods_dir / "team-b.json"), "-o", "json").stdout)
        scores = {n["name"]: n["scores"]["NodeResourcesFit"]["normalized"] for n in explained["nodes"]}
        assert scores == {"n1": 37, "n2": 62}

    # --pods replaces the cluster's pending pods.
    extra = write(tmp_path, "extra.yaml", pod_yaml("extra", cpu="2", namespace="team-c"))
    data = json.loads(run("schedule", "--cluster", str(root), "--pods", extra, "-o", "json").stdout)
    assert [(a["pod"], a["node"]) for a in data["assignments"]] == [("team-c/extra", "n2")]


def test_schedule_pods_from_several_files(nodes, tmp_path):
    a = write(tmp_path, "a.yaml", pod_yaml("a", cpu="3"))
    b = write(tmp_path, "b.yaml", pod_yaml("b", cpu="2"))
    data = json.loads(run("schedule", "--cluster", nodes, "--pods", a, "--pods", b, "-o", "json").stdout)
    assert [(x["pod"], x["node"]) for x in data["assignments"]] == [("default/a", "n1"), ("default/b", "n2")]


def test_schedule_scheduler_name_without_profile_and_with_profile(nodes, tmp_path):
    pods = write(tmp_path, "pods.yaml", pod_yaml("mine", extra="schedulerName: my-scheduler\n") + "---\n"
                 + pod_yaml("plain"))
    data = json.loads(run("schedule", "--cluster", nodes, "--pods", pods, "-o", "json").stdout)
    by_pod = {a["pod"]: a for a in data["assignments"]}
    assert by_pod["default/mine"]["node"] is None
    assert by_pod["default/mine"]["message"] == (
        'no profile for schedulerName "my-scheduler": kube-scheduler leaves the pod pending for another scheduler')
    assert by_pod["default/plain"]["node"] == "n1"

    config = write(tmp_path, "two-profiles.yaml", """\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: my-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
""")
    data = json.loads(run("schedule", "--cluster", nodes, "--pods", pods, "--config", config, "-o", "json").stdout)
    by_pod = {a["pod"]: a["node"] for a in data["assignments"]}
    assert by_pod == {"default/mine": "n2", "default/plain": "n1"}  # bin-packing profile vs spreading one


def test_schedule_gated_pod_stays_pending(nodes, tmp_path):
    pods = write(tmp_path, "pods.yaml", pod_yaml("gated", extra="schedulingGates: [{name: wait}]\n")
                 + "---\n" + pod_yaml("free"))
    data = json.loads(run("schedule", "--cluster", nodes, "--pods", pods, "-o", "json").stdout)
    by_pod = {a["pod"]: a for a in data["assignments"]}
    assert by_pod["default/gated"]["node"] is None
    assert by_pod["default/gated"]["message"] == "waiting for scheduling gates: [wait]"
    assert by_pod["default/free"]["node"] == "n1"


def test_schedule_priority_sort_orders_the_queue(nodes, tmp_path):
    # Both want n1's 3 cpu; the high-priority pod is listed second but goes first.
    pods = write(tmp_path, "pods.yaml", pod_yaml("low", cpu="3") + "---\n"
                 + pod_yaml("high", cpu="3", extra="priority: 1000\n"))
    data = json.loads(run("schedule", "--cluster", nodes, "--pods", pods, "-o", "json").stdout)
    assert {a["pod"]: a["node"] for a in data["assignments"]} == {"default/high": "n1", "default/low": None}
    # The output lists pods in the queue order they were scheduled in.
    assert [a["pod"] for a in data["assignments"]] == ["default/high", "default/low"]


def test_version_and_help():
    result = run("--version")
    assert result.exit_code == 0 and "kube-scheduler v1.36" in result.stdout
    assert run("explain", "--help").exit_code == 0
    assert run("schedule", "--help").exit_code == 0


def test_installed_command_subprocess(nodes, pod):
    exe = shutil.which("schedkit") or os.path.join(os.path.dirname(sys.executable), "schedkit")
    if not os.path.exists(exe):
        pytest.skip("schedkit console script is not installed")
    proc = subprocess.run([exe, "explain", "--cluster", nodes, "--pod", pod, "-o", "json"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["selectedNode"] == "n1"
    proc = subprocess.run([exe, "schedule", "--cluster", nodes, "--pods", "/nonexistent/pods.yaml"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "schedkit: error: /nonexistent/pods.yaml: no such file or directory\n"
