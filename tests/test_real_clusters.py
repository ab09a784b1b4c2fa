"""Real kubectl / support-bundle dumps (../shared/clusters, described in its README.md).

The dumps are read in place (never copied into the repo); the whole module is skipped when the folder
is absent. Facts asserted here (node and pod counts, the two Pending `cpu-intensive-app` pods, the RKE2
GPU node) come from that README.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
from click.testing import CliRunner

from schedkit import load_cluster
from schedkit.cli import main
from schedkit.manifests import load_objects

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTERS = os.path.join(os.path.dirname(REPO), "shared", "clusters")

if not os.path.isdir(CLUSTERS):
    pytest.skip(f"real cluster dumps not found at {CLUSTERS}", allow_module_level=True)


def _path(*parts: str) -> str:
    return os.path.join(CLUSTERS, *parts)


# folder -> (nodes file, pods folder or None, node count, pod count in the files, pods holding resources, pending)
CLUSTER_FACTS = {
    "sbctl-kurl": ("sbctl-kurl/nodes.json", "sbctl-kurl/pods", 3, 58, 57, 0),  # one Contour Job pod Succeeded
    "troubleshoot-k3s": ("troubleshoot-k3s/nodes.json", "troubleshoot-k3s/pods", 1, 13, 11, 2),  # 2 helm Jobs done
    "sonobuoy-kind": ("sonobuoy-kind/resources/cluster/core_v1_nodes.json", "sonobuoy-kind/resources/ns",
                      3, 20, 19, 2),  # the e2e pod Succeeded; 2 spliced-in coredns pods without nodeName
    "edgexr-aks-gpu": ("edgexr-aks-gpu", None, 4, 0, 0, 0),  # 3 AKS nodes + the RKE2 node, no pods
}

SMALL_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: default}
spec:
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: 100m, memory: 64Mi}}
"""


def cluster_args(name: str) -> list[str]:
    nodes, pods, *_ = CLUSTER_FACTS[name]
    args = ["--cluster", _path(nodes)]
    if pods:
        args += ["--cluster", _path(pods)]
    return args


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"schedkit {' '.join(args)} raised {result.exception!r}")
    return result


def _skip_if_missing(name: str) -> None:
    nodes, pods, *_ = CLUSTER_FACTS[name]
    for part in filter(None, (nodes, pods)):
        if not os.path.exists(_path(part)):
            pytest.skip(f"{_path(part)} is missing")


@pytest.fixture
def small_pod(tmp_path):
    path = tmp_path / "probe.yaml"
    path.write_text(SMALL_POD)
    return str(path)


@pytest.mark.parametrize("name", sorted(CLUSTER_FACTS))
def test_cluster_loads_with_readme_counts(name):
    _skip_if_missing(name)
    nodes_path, pods_path, n_nodes, n_pod_objects, n_holding, n_pending = CLUSTER_FACTS[name]
    paths = [_path(nodes_path)] + ([_path(pods_path)] if pods_path else [])
    cluster = load_cluster(paths)
    assert len(cluster.nodes) == n_nodes
    assert cluster.warnings == []
    objects = load_objects(paths)
    assert sum(1 for o in objects if o.obj.get("kind") == "Pod") == n_pod_objects
    assert len(cluster.pods) == n_holding
    assert len(cluster.pending_pods) == n_pending
    assert len({n.name for n in cluster.nodes}) == n_nodes
    for node in cluster.nodes:
        assert node.allocatable["cpu"] > 0 and node.allocatable["memory"] > 0 and node.allocatable["pods"] == 110


@pytest.mark.parametrize("name", ["sbctl-kurl", "troubleshoot-k3s"])
def test_whole_folder_loads_as_one_cluster_directory(name):
    """`--cluster <folder>` (nodes.json plus pods/ read recursively) equals nodes + pods given separately."""
    _skip_if_missing(name)
    whole = load_cluster(_path(name))
    nodes, pods, n_nodes, _, n_holding, _ = CLUSTER_FACTS[name]
    assert len(whole.nodes) == n_nodes
    assert sorted(p.key for p in whole.pods) == sorted(p.key for p in load_cluster([_path(nodes), _path(pods)]).pods)
    assert len(whole.pods) == n_holding


def test_sbctl_kurl_pods_per_namespace():
    _skip_if_missing("sbctl-kurl")
    objects = load_objects(_path("sbctl-kurl", "pods"))
    per_ns = Counter(o.obj["metadata"]["namespace"] for o in objects if o.obj.get("kind") == "Pod")
    assert per_ns == {"kube-system": 15, "kurl": 3, "longhorn-system": 28, "minio": 1, "projectcontour": 6,
                      "velero": 5}
    cluster = load_cluster(_path("sbctl-kurl"))
    priorities = Counter(p.priority for p in cluster.pods)
    # 37 system-node-critical, 3 system-cluster-critical among all 58; the Succeeded Job pod has neither.
    assert priorities[2000001000] == 37
    assert priorities[2000000000] == 3


def test_sonobuoy_kind_pods_per_namespace():
    _skip_if_missing("sonobuoy-kind")
    objects = load_objects(_path("sonobuoy-kind", "resources", "ns"))
    per_ns = Counter(o.obj["metadata"]["namespace"] for o in objects if o.obj.get("kind") == "Pod")
    assert per_ns == {"kube-system": 14, "local-path-storage": 1, "sonobuoy": 5}


def test_troubleshoot_k3s_pending_pods_get_upstream_message():
    _skip_if_missing("troubleshoot-k3s")
    result = cli("schedule", *cluster_args("troubleshoot-k3s"), "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["scheduled"] == 0 and data["unschedulable"] == 2
    pods = [a["pod"] for a in data["assignments"]]
    assert sorted(pods) == ["default/cpu-intensive-app-7bcfc5d944-hw2vc", "default/cpu-intensive-app-7bcfc5d944-n79rt"]
    for a in data["assignments"]:
        assert a["node"] is None
        assert a["message"] == ("0/1 nodes are available: 1 Insufficient cpu. no new claims to deallocate, "
                                "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")

    # The recorded PodScheduled condition in the dump holds the same message.
    with open(_path("troubleshoot-k3s", "pods", "default.json")) as handle:
        recorded = {p["metadata"]["name"]: p for p in json.load(handle)["items"]}
    for a in data["assignments"]:
        pod = recorded[a["pod"].split("/", 1)[1]]
        condition = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
        assert condition["reason"] == "Unschedulable"
        # The dump's scheduler predates DynamicResources' PostFilter (v1.34): the rest is the same text.
        assert condition["message"] == a["message"].replace("no new claims to deallocate, ", "")


def test_troubleshoot_k3s_explain_pending_pod_from_dump(tmp_path):
    _skip_if_missing("troubleshoot-k3s")
    with open(_path("troubleshoot-k3s", "pods", "default.json")) as handle:
        items = json.load(handle)["items"]
    pending = next(p for p in items if p["metadata"]["name"] == "cpu-intensive-app-7bcfc5d944-hw2vc")
    pod_file = tmp_path / "pending.json"
    pod_file.write_text(json.dumps(pending))
    result = cli("explain", *cluster_args("troubleshoot-k3s"), "--pod", str(pod_file), "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["selectedNode"] is None
    assert data["message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")
    (node,) = data["nodes"]
    assert node["name"] == "c9b7eea91"
    assert node["feasible"] is False
    assert node["failedPlugin"] == "NodeResourcesFit"
    assert node["reasons"] == ["Insufficient cpu"]


@pytest.mark.parametrize("name", sorted(CLUSTER_FACTS))
def test_explain_small_pod_on_each_cluster(name, small_pod):
    _skip_if_missing(name)
    result = cli("explain", *cluster_args(name), "--pod", small_pod, "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    cluster = load_cluster([_path(CLUSTER_FACTS[name][0])])
    expected_nodes = [n.name for n in cluster.nodes]
    assert [n["name"] for n in data["nodes"]] == expected_nodes
    assert data["selectedNode"] in expected_nodes
    assert data["message"] is None
    selected = next(n for n in data["nodes"] if n["name"] == data["selectedNode"])
    assert selected["feasible"] is True
    feasible_totals = [n["totalScore"] for n in data["nodes"] if n["feasible"] and n["totalScore"] is not None]
    if feasible_totals:  # more than one feasible node: the winner has the top score
        assert selected["totalScore"] == max(feasible_totals)
    table = cli("explain", *cluster_args(name), "--pod", small_pod)
    for node in expected_nodes:
        assert node in table.stdout
    assert f"Selected node: {data['selectedNode']}" in table.stdout


def test_sonobuoy_explain_details(small_pod):
    _skip_if_missing("sonobuoy-kind")
    data = json.loads(cli("explain", *cluster_args("sonobuoy-kind"), "--pod", small_pod, "-o", "json").stdout)
    by_name = {n["name"]: n for n in data["nodes"]}
    assert by_name["kind-control-plane"]["feasible"] is False
    assert by_name["kind-control-plane"]["failedPlugin"] == "TaintToleration"
    assert data["selectedNode"] in ("kind-worker", "kind-worker2")


def test_sonobuoy_pending_coredns_pods_schedule_on_workers():
    _skip_if_missing("sonobuoy-kind")
    data = json.loads(cli("schedule", *cluster_args("sonobuoy-kind"), "-o", "json").stdout)
    assert sorted(a["pod"] for a in data["assignments"]) == ["kube-system/coredns-74ff55c5b-ppjrs",
                                                            "kube-system/coredns-74ff55c5b-s89p7"]
    # coredns tolerates the master NoSchedule taint too, so any node may be chosen; all fit.
    assert data["scheduled"] == 2
    assert all(a["node"] in ("kind-control-plane", "kind-worker", "kind-worker2") for a in data["assignments"])


def test_sbctl_kurl_schedule_has_nothing_pending():
    _skip_if_missing("sbctl-kurl")
    data = json.loads(cli("schedule", *cluster_args("sbctl-kurl"), "-o", "json").stdout)
    assert data["assignments"] == [] and data["scheduled"] == 0 and data["unschedulable"] == 0


def test_gpu_node_allocatable():
    _skip_if_missing("edgexr-aks-gpu")
    gpu = load_cluster(_path("edgexr-aks-gpu", "gpuNodesSampleOutput.json"))
    (nori,) = gpu.nodes
    assert nori.name == "nori"
    assert nori.allocatable["nvidia.com/gpu"] == 1
    assert nori.allocatable["cpu"] == 2000
    assert "hugepages-1Gi" not in nori.allocatable
    assert nori.labels["nvidia.com/gpu.product"] == "NVIDIA-A16-4Q"
    aks = load_cluster(_path("edgexr-aks-gpu", "getNodesSampleOutput.json"))
    assert [n.name for n in aks.nodes] == [f"aks-agentpool-30520393-vmss00000{i}" for i in range(3)]
    for node in aks.nodes:
        assert node.allocatable["cpu"] == 1900
        assert node.allocatable["attachable-volumes-azure-disk"] == 4
        assert "nvidia.com/gpu" not in node.allocatable


def test_gpu_pod_goes_to_the_rke2_node(tmp_path):
    _skip_if_missing("edgexr-aks-gpu")
    pod = tmp_path / "gpu.yaml"
    pod.write_text(SMALL_POD.replace("{requests: {cpu: 100m, memory: 64Mi}}",
                                     "{requests: {cpu: 100m, memory: 64Mi}, limits: {nvidia.com/gpu: 1}}"))
    data = json.loads(cli("explain", *cluster_args("edgexr-aks-gpu"), "--pod", str(pod), "-o", "json").stdout)
    assert data["selectedNode"] == "nori"
    for node in data["nodes"]:
        if node["name"] != "nori":
            assert node["feasible"] is False
            assert node["reasons"] == ["Insufficient nvidia.com/gpu"]

    two = tmp_path / "two-gpus.yaml"
    two.write_text(pod.read_text().replace("nvidia.com/gpu: 1", "nvidia.com/gpu: 2"))
    data = json.loads(cli("explain", *cluster_args("edgexr-aks-gpu"), "--pod", str(two), "-o", "json").stdout)
    assert data["selectedNode"] is None
    assert data["message"] == ("0/4 nodes are available: 4 Insufficient nvidia.com/gpu. no new claims to deallocate, "
                               "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")


# --- the objects a nodes-and-pods dump leaves out (the README's recipe dumps them) ---------------------

SONOBUOY_PENDING = ["kube-system/coredns-74ff55c5b-ppjrs", "kube-system/coredns-74ff55c5b-s89p7"]
COREDNS_REPLICASET_MISSING = (
    "schedkit: warning: default spreading for kube-system/coredns-74ff55c5b-ppjrs (and 1 more pod) needs its "
    "ReplicaSet coredns-74ff55c5b; add replicasets to the dump")


def _warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("schedkit: warning: ")]


def test_sonobuoy_missing_coredns_replicaset_is_named_and_changes_spreading(tmp_path):
    """The pending coredns pods are controlled by ReplicaSet coredns-74ff55c5b (their ownerReferences),
    which a nodes-and-pods dump does not hold. Without it default spreading has no selector; with it
    (the selector a Deployment gives its ReplicaSet: the pods' k8s-app and pod-template-hash labels) the
    two replicas are spread over the two workers."""
    _skip_if_missing("sonobuoy-kind")
    without = cli("schedule", *cluster_args("sonobuoy-kind"), "-o", "json")
    assert _warnings(without) == [COREDNS_REPLICASET_MISSING]
    nodes = {a["pod"]: a["node"] for a in json.loads(without.stdout)["assignments"]}
    assert len(set(nodes.values())) == 1  # nothing spreads them: both land on the best-scoring node

    replica_set = tmp_path / "replicaset.json"
    replica_set.write_text(json.dumps({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "coredns-74ff55c5b", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"k8s-app": "kube-dns", "pod-template-hash": "74ff55c5b"}}}}))
    spread = cli("schedule", *cluster_args("sonobuoy-kind"), "--cluster", str(replica_set), "-o", "json")
    assert _warnings(spread) == []
    nodes = {a["pod"]: a["node"] for a in json.loads(spread.stdout)["assignments"]}
    assert sorted(nodes) == SONOBUOY_PENDING
    assert sorted(nodes.values()) == ["kind-worker", "kind-worker2"]


def test_sonobuoy_dump_pods_given_as_pods_are_bound_not_scheduled():
    """Given with --pods, the dump's 17 bound pods (the 19 holding resources less the 2 without nodeName)
    are reported as bound and counted on their nodes; only the 2 pending coredns pods are scheduled."""
    _skip_if_missing("sonobuoy-kind")
    nodes, pods, *_ = CLUSTER_FACTS["sonobuoy-kind"]
    for cluster in (["--cluster", _path(nodes)], cluster_args("sonobuoy-kind")):
        data = json.loads(cli("schedule", *cluster, "--pods", _path(pods), "-o", "json").stdout)
        assert (data["scheduled"], data["unschedulable"], data["bound"]) == (2, 0, 17)
        scheduled = sorted(a["pod"] for a in data["assignments"] if "already bound" not in (a["message"] or ""))
        assert scheduled == SONOBUOY_PENDING


def test_sonobuoy_pending_pod_with_node_name_is_explained_as_bound(tmp_path):
    """coredns-74ff55c5b-cpfqs is Pending with PodScheduled=False yet has nodeName kind-control-plane (the
    README's edit): the scheduler never sees a pod with nodeName, so explain says it is bound."""
    _skip_if_missing("sonobuoy-kind")
    with open(_path("sonobuoy-kind", "resources", "ns", "kube-system", "core_v1_pods.json")) as handle:
        pod = next(p for p in json.load(handle)["items"] if p["metadata"]["name"] == "coredns-74ff55c5b-cpfqs")
    assert pod["status"]["phase"] == "Pending"
    path = tmp_path / "cpfqs.json"
    path.write_text(json.dumps(pod))
    result = cli("explain", *cluster_args("sonobuoy-kind"), "--pod", str(path), "-o", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["boundNode"] == "kind-control-plane" and data["selectedNode"] is None and data["nodes"] == []
    assert _warnings(result) == []  # no cycle, so no default spreading to warn about


def test_sbctl_kurl_minio_claim_is_flagged_when_explained(tmp_path):
    """The one pod mounting a PVC (minio, claim minio-pv-claim), explained as if pending again."""
    _skip_if_missing("sbctl-kurl")
    with open(_path("sbctl-kurl", "pods", "minio.json")) as handle:
        (pod,) = json.load(handle)["items"]
    del pod["spec"]["nodeName"]
    path = tmp_path / "minio.json"
    path.write_text(json.dumps(pod))
    data = json.loads(cli("explain", *cluster_args("sbctl-kurl"), "--pod", str(path), "-o", "json").stdout)
    (warning,) = data["warnings"]
    assert warning.startswith("uses PersistentVolumeClaim(s) minio-pv-claim: volume plugins are not modelled")
    schedule = cli("schedule", *cluster_args("sbctl-kurl"), "--pods", str(path), "-o", "json")
    assert "1 pod(s) use PersistentVolumeClaims (minio/minio-7b45cd544d-2gwml)" in schedule.stderr
