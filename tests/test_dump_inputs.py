"""Real dumps decided as the cluster would: the objects the README's recipe dumps are all read, a
missing controlling owner that default spreading needs is named on stderr, PersistentVolumeClaims are
flagged as unchecked, and pods that already have spec.nodeName are reported as bound, not scheduled.

Small clusters are written to ``tmp_path``; expected placements are worked out in the comments.
"""

from __future__ import annotations

import json
import os
import re
import textwrap

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from schedkit.cli import main
from schedkit.cluster import cluster_from_objects, load_cluster
from schedkit.framework.caveats import MAX_OWNER_LINES, MissingOwner, OwnerRef, owner_warning_lines
from schedkit.framework.config import parse_config
from schedkit.framework.scheduler import Scheduler
from schedkit.manifests import SourcedObject
from schedkit.objects import parse_pod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Two nodes; the tests put a 1-cpu filler on n2, so a small pod scores higher on n1 by NodeResourcesFit
# (LeastAllocated) unless default spreading (PodTopologySpread, weight 2) pulls a second replica to n2.
NODES = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
  status: {allocatable: {cpu: "8", memory: 16Gi, pods: "110"}}
- apiVersion: v1
  kind: Node
  metadata: {name: n2, labels: {kubernetes.io/hostname: n2}}
  status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
"""

REPLICA_SET = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
               "metadata": {"name": "web-5b7f9d8c4", "namespace": "shop"},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5b7f9d8c4"}}}}


def web_pod(name: str, node: str | None = None, owner: dict | None = None, spec: dict | None = None) -> dict:
    owner = owner or {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5b7f9d8c4", "uid": "u1",
                      "controller": True}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web", "pod-template-hash": "5b7f9d8c4"},
                        "ownerReferences": [owner]},
           "spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
                    **(spec or {})}}
    if node:
        pod["spec"]["nodeName"] = node
        pod["status"] = {"phase": "Running"}
    return pod


def write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def as_list(*items: dict) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"schedkit {' '.join(args)} raised {result.exception!r}\n{result.stderr}")
    return result


def warnings_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("schedkit: warning: ")]


@pytest.fixture
def nodes(tmp_path):
    return write(tmp_path, "nodes.yaml", NODES)


# ------------------------------------------------------------------------------ the README's recipe

def readme_recipe_resources() -> list[str]:
    with open(os.path.join(REPO, "README.md")) as handle:
        match = re.search(r"kubectl get ([a-z,]+) -A -o json", handle.read())
    assert match, "the README shows a `kubectl get ... -A -o json` recipe"
    return match.group(1).split(",")


def test_readme_recipe_names_what_schedkit_reads():
    assert readme_recipe_resources() == ["nodes", "pods", "services", "replicasets", "statefulsets",
                                         "replicationcontrollers", "namespaces", "priorityclasses",
                                         "poddisruptionbudgets"]


# One object of each kind the recipe dumps, as `kubectl get ... -o json` prints them (fields trimmed).
RECIPE_OBJECTS = {
    "nodes": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
              "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"}}},
    "pods": web_pod("web-5b7f9d8c4-aaaaa", "n1"),
    "services": {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                 "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "protocol": "TCP"}],
                          "type": "ClusterIP"}},
    "replicasets": REPLICA_SET,
    "statefulsets": {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
                     "spec": {"selector": {"matchLabels": {"app": "db"}}, "serviceName": "db", "replicas": 1}},
    "replicationcontrollers": {"apiVersion": "v1", "kind": "ReplicationController",
                               "metadata": {"name": "legacy", "namespace": "shop"},
                               "spec": {"selector": {"app": "legacy"}, "replicas": 1}},
    "namespaces": {"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "shop", "labels": {"kubernetes.io/metadata.name": "shop"}},
                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
    "priorityclasses": {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                        "metadata": {"name": "system-node-critical"}, "value": 2000001000,
                        "preemptionPolicy": "PreemptLowerPriority", "globalDefault": False},
    "poddisruptionbudgets": {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                             "metadata": {"name": "web", "namespace": "shop"},
                             "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
                             "status": {"currentHealthy": 1, "desiredHealthy": 1, "disruptionsAllowed": 0,
                                        "expectedPods": 1}},
}


def test_loader_accepts_every_kind_of_the_readme_recipe(tmp_path):
    dump = write(tmp_path, "dump.json", as_list(*(RECIPE_OBJECTS[r] for r in readme_recipe_resources())))
    cluster = load_cluster(dump)
    assert [n.name for n in cluster.nodes] == ["n1"]
    assert [p.key for p in cluster.pods] == ["shop/web-5b7f9d8c4-aaaaa"]
    assert cluster.namespaces["shop"] == {"kubernetes.io/metadata.name": "shop"}
    assert cluster.priority_classes["system-node-critical"] == 2000001000
    assert sorted(o.obj["kind"] for o in cluster.others) == ["ReplicaSet", "ReplicationController", "Service",
                                                             "StatefulSet"]
    assert [(b.namespace, b.name, b.disruptions_allowed) for b in cluster.disruption_budgets] == [("shop", "web", 0)]
    assert cluster.warnings == []
    pending = write(tmp_path, "pending.json", web_pod("web-5b7f9d8c4-bbbbb"))
    result = run("schedule", "--cluster", dump, "--pods", pending, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["scheduled"] == 1
    assert warnings_of(result) == []  # the ReplicaSet is in the dump


# --------------------------------------------------------------------- missing owners of default spreading

MISSING_RS = ("schedkit: warning: default spreading for shop/web-5b7f9d8c4-bbbbb needs its ReplicaSet "
              "web-5b7f9d8c4; add replicasets to the dump")


def test_missing_replicaset_is_named_and_changes_the_node(tmp_path, nodes):
    running = write(tmp_path, "running.json", as_list(web_pod("web-5b7f9d8c4-aaaaa", "n1"),
                                                      plain_pod("filler", "1", node="n2")))
    pending = write(tmp_path, "pending.json", web_pod("web-5b7f9d8c4-bbbbb"))
    rs = write(tmp_path, "rs.json", REPLICA_SET)

    without = run("schedule", "--cluster", nodes, "--cluster", running, "--pods", pending, "-o", "json")
    assert without.exit_code == 0
    assert warnings_of(without) == [MISSING_RS]
    # No selector, so no default spreading: n1 (less allocated) wins.
    assert json.loads(without.stdout)["assignments"][0]["node"] == "n1"

    with_rs = run("schedule", "--cluster", nodes, "--cluster", running, "--cluster", rs, "--pods", pending, "-o", "json")
    assert warnings_of(with_rs) == []
    # The ReplicaSet's selector matches the replica on n1: spreading by hostname moves this one to n2.
    assert json.loads(with_rs.stdout)["assignments"][0]["node"] == "n2"

    explained = run("explain", "--cluster", nodes, "--cluster", running, "--pod", pending, "-o", "json")
    assert warnings_of(explained) == [MISSING_RS]
    assert json.loads(explained.stdout)["selectedNode"] == "n1"
    assert json.loads(explained.stdout)["warnings"] == []  # stderr only: stdout stays the document


def test_missing_owner_lines_are_one_per_owner_then_a_count(tmp_path, nodes):
    pods = []
    for i in range(7):  # owners web-0..web-6, web-0 with three replicas
        owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"web-{i}", "uid": f"u{i}", "controller": True}
        pods += [web_pod(f"web-{i}-{j}", owner=owner) for j in range(3 if i == 0 else 1)]
    stateful = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s", "controller": True}
    pods.append(web_pod("db-0", owner=stateful))
    path = write(tmp_path, "pods.json", as_list(*pods))
    result = run("schedule", "--cluster", nodes, "--pods", path, "-o", "json")
    assert result.exit_code == 0
    lines = warnings_of(result)
    assert lines[0] == ("schedkit: warning: default spreading for shop/web-0-0 (and 2 more pods) needs its "
                        "ReplicaSet web-0; add replicasets to the dump")
    assert lines[1].endswith("needs its ReplicaSet web-1; add replicasets to the dump")
    assert len(lines) == MAX_OWNER_LINES + 1
    assert lines[-1] == ("schedkit: warning: default spreading: 3 more missing owner(s) of 3 pod(s); "
                         "add replicasets, statefulsets to the dump")


CONFIG_HEAD = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"


def scheduler_with(profile_yaml: str = "") -> Scheduler:
    if not profile_yaml:
        return Scheduler()
    profile = yaml.safe_load(textwrap.dedent(profile_yaml))
    return Scheduler(parse_config({**yaml.safe_load(CONFIG_HEAD), "profiles": [profile]}))


OWNER_CASES = [
    # (what, pod changes, profile, warned)
    ("ReplicaSet missing, default profile", {}, "", True),
    ("own constraints: defaults do not apply", {"spec": {"topologySpreadConstraints": [
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"app": "web"}}}]}}, "", False),
    ("owned by a DaemonSet: DefaultSelector ignores it",
     {"owner": {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "d", "controller": True}}, "", False),
    ("not the controller", {"owner": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5b7f9d8c4",
                                      "uid": "u", "controller": False}}, "", False),
    ("a StatefulSet", {"owner": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s",
                                 "controller": True}}, "", True),
    ("a ReplicationController", {"owner": {"apiVersion": "v1", "kind": "ReplicationController", "name": "rc",
                                           "uid": "r", "controller": True}}, "", True),
    ("PodTopologySpread disabled", {}, """\
        schedulerName: default-scheduler
        plugins: {multiPoint: {disabled: [{name: PodTopologySpread}]}}
        """, False),
    ("System defaults only score; Score disabled", {}, """\
        schedulerName: default-scheduler
        plugins: {score: {disabled: [{name: PodTopologySpread}]}}
        """, False),
    ("List with no default constraints", {}, """\
        schedulerName: default-scheduler
        pluginConfig: [{name: PodTopologySpread, args: {defaultingType: List}}]
        """, False),
    ("List with a DoNotSchedule default, Score disabled: Filter reads it", {}, """\
        schedulerName: default-scheduler
        plugins: {score: {disabled: [{name: PodTopologySpread}]}}
        pluginConfig: [{name: PodTopologySpread, args: {defaultingType: List, defaultConstraints: [
          {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}]}}]
        """, True),
    ("no profile for its schedulerName", {"spec": {"schedulerName": "other"}}, "", False),
    ("already bound: never scheduled", {"spec": {"nodeName": "n1"}}, "", False),
]


@pytest.mark.parametrize("what, change, profile, warned", OWNER_CASES, ids=[c[0] for c in OWNER_CASES])
def test_owner_warning_only_where_default_spreading_reads_the_owner(what, change, profile, warned):
    pod = parse_pod(web_pod("web-5b7f9d8c4-bbbbb", owner=change.get("owner"), spec=change.get("spec")))
    cluster = load_cluster_from([])
    lines = scheduler_with(profile).spread_owner_warnings(cluster, [pod])
    assert bool(lines) == warned, lines


def load_cluster_from(objects: list[dict]):
    return cluster_from_objects([SourcedObject(obj, "<test>", "") for obj in objects])


def test_owner_present_in_another_namespace_still_missing():
    pod = parse_pod(web_pod("web-5b7f9d8c4-bbbbb"))
    elsewhere = dict(REPLICA_SET, metadata={"name": "web-5b7f9d8c4", "namespace": "default"})
    assert Scheduler().spread_owner_warnings(load_cluster_from([elsewhere]), [pod])
    assert Scheduler().spread_owner_warnings(load_cluster_from([REPLICA_SET]), [pod]) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), max_size=12))
def test_owner_lines_cover_every_missing_owner(replicas):
    missing = [MissingOwner(OwnerRef("apps/v1", "ReplicaSet", "ns", f"rs-{i}"), [f"ns/p-{i}-{j}" for j in range(n)])
               for i, n in enumerate(replicas)]
    lines = owner_warning_lines(missing)
    assert len(lines) == min(len(missing), MAX_OWNER_LINES) + (len(missing) > MAX_OWNER_LINES)
    named = sum(len(m.pods) for m in missing[:MAX_OWNER_LINES])
    counted = int(re.search(r"of (\d+) pod", lines[-1]).group(1)) if len(missing) > MAX_OWNER_LINES else 0
    assert named + counted == sum(replicas)
    for entry, line in zip(missing[:MAX_OWNER_LINES], lines):
        assert entry.pods[0] in line and f"ReplicaSet {entry.owner.name};" in line


# ------------------------------------------------------------------------------ PersistentVolumeClaims

def volume_pod(name: str, volumes: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c"}], "volumes": volumes}}


PVC_VOLUMES = [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
               {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
               {"name": "config", "configMap": {"name": "cfg"}}]


def test_explain_warns_per_pod_about_claims(tmp_path, nodes):
    pod = write(tmp_path, "db.json", volume_pod("db-0", PVC_VOLUMES))
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "-o", "json").stdout)
    (warning,) = data["warnings"]
    # The ephemeral volume's claim is named <pod>-<volume>, as the ephemeral volume controller names it.
    assert warning.startswith("uses PersistentVolumeClaim(s) data-db-0, db-0-scratch: volume plugins are not modelled")
    assert "VolumeBinding" in warning
    assert data["selectedNode"] in ("n1", "n2")
    table = run("explain", "--cluster", nodes, "--pod", pod).stdout
    assert f"Warning: {warning}" in table.splitlines()

    plain = write(tmp_path, "plain.json", volume_pod("web", [{"name": "config", "configMap": {"name": "cfg"}}]))
    assert json.loads(run("explain", "--cluster", nodes, "--pod", plain, "-o", "json").stdout)["warnings"] == []
    assert "Warning:" not in run("explain", "--cluster", nodes, "--pod", plain).stdout


def test_no_claim_warning_when_the_profile_leaves_out_the_volume_plugins(tmp_path, nodes):
    config = write(tmp_path, "config.yaml", CONFIG_HEAD + textwrap.dedent("""\
        profiles:
        - schedulerName: default-scheduler
          plugins:
            multiPoint:
              disabled: [{name: VolumeBinding}, {name: VolumeZone}, {name: VolumeRestrictions}, {name: NodeVolumeLimits}]
        """))
    pod = write(tmp_path, "db.json", volume_pod("db-0", PVC_VOLUMES))
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "--config", config, "-o", "json").stdout)
    assert data["warnings"] == []


def test_schedule_counts_pods_with_claims_once_on_stderr(tmp_path, nodes):
    pods = write(tmp_path, "pods.json", as_list(volume_pod("db-0", PVC_VOLUMES[:1]), volume_pod("db-1", PVC_VOLUMES[1:2]),
                                                volume_pod("web", [])))
    result = run("schedule", "--cluster", nodes, "--pods", pods, "-o", "json")
    assert result.exit_code == 0
    assert warnings_of(result) == ["schedkit: warning: 2 pod(s) use PersistentVolumeClaims (default/db-0 and 1 more): "
                                   "volume plugins are not modelled, so binding, zone and attach-limit checks for "
                                   "them are skipped"]
    assert json.loads(result.stdout)["scheduled"] == 3


# ------------------------------------------------------------------------------------------- bound pods

def plain_pod(name: str, cpu: str, node: str | None = None, selector: str | None = None) -> dict:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}
    if node:
        pod["spec"]["nodeName"] = node
    if selector:
        pod["spec"]["nodeSelector"] = {"kubernetes.io/hostname": selector}
    return pod


def test_explain_bound_pod_says_bound_not_unschedulable(tmp_path, nodes):
    # 6 cpu on n2 (4 cpu): a scheduling cycle would find it unschedulable; it is bound, so there is none.
    pod = write(tmp_path, "bound.json", plain_pod("big", "6", node="n2"))
    data = json.loads(run("explain", "--cluster", nodes, "--pod", pod, "-o", "json").stdout)
    assert data["boundNode"] == "n2"
    assert data["selectedNode"] is None
    assert data["nodes"] == []
    assert data["message"] == ("already bound to node n2 (spec.nodeName): kube-scheduler never sees it, "
                               "no scheduling cycle")
    table = run("explain", "--cluster", nodes, "--pod", pod).stdout
    assert "Not scheduled: already bound to node n2 (spec.nodeName)" in table
    assert "Unschedulable" not in table and "NODE" not in table

    elsewhere = write(tmp_path, "elsewhere.json", plain_pod("gone", "1", node="n9"))
    data = json.loads(run("explain", "--cluster", nodes, "--pod", elsewhere, "-o", "json").stdout)
    assert data["boundNode"] == "n9" and "n9, which is not in the input" in data["message"]


def test_schedule_reports_bound_pods_separately_and_counts_them_on_their_node(tmp_path, nodes):
    # n2 has 4 cpu. The bound pod holds 3 of them, so the 2-cpu pod pinned to n2 cannot fit.
    pods = write(tmp_path, "pods.json", as_list(plain_pod("holder", "3", node="n2"),
                                                plain_pod("pinned", "2", selector="n2"),
                                                plain_pod("free", "1"), plain_pod("lost", "1", node="n9")))
    result = run("schedule", "--cluster", nodes, "--pods", pods, "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["scheduled"], data["unschedulable"], data["bound"], data["notQueued"]) == (1, 1, 2, 0)
    by_pod = {a["pod"]: a for a in data["assignments"]}
    assert by_pod["default/pinned"]["node"] is None
    assert "Insufficient cpu" in by_pod["default/pinned"]["message"]
    assert by_pod["default/holder"] == {"pod": "default/holder", "node": "n2", "nominatedNode": None, "message": (
        "already bound to node n2 (spec.nodeName): kube-scheduler never sees it, no scheduling cycle")}
    assert by_pod["default/lost"]["node"] == "n9"
    assert "which is not in the input" in by_pod["default/lost"]["message"]
    table = run("schedule", "--cluster", nodes, "--pods", pods).stdout
    assert table.splitlines()[-1].startswith("1 scheduled, 1 unschedulable, 2 already bound; ")
    out = tmp_path / "out.json"
    summary = run("schedule", "--cluster", nodes, "--pods", pods, "--out", str(out))
    assert f"1 scheduled, 1 unschedulable, 2 already bound; wrote {out}" in summary.stderr


def test_bound_pod_also_in_the_cluster_counts_once(tmp_path, nodes):
    # The dump's running pod is given again with --pods: it holds 2 of n2's 4 cpu once, leaving room for 2.
    holder = plain_pod("holder", "2", node="n2")
    running = write(tmp_path, "running.json", as_list(holder))
    pods = write(tmp_path, "pods.json", as_list(holder, plain_pod("pinned", "2", selector="n2")))
    data = json.loads(run("schedule", "--cluster", nodes, "--cluster", running, "--pods", pods, "-o", "json").stdout)
    by_pod = {a["pod"]: a["node"] for a in data["assignments"]}
    assert by_pod == {"default/holder": "n2", "default/pinned": "n2"}
    assert (data["scheduled"], data["bound"]) == (1, 1)
