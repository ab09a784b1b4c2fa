"""Hypothesis strategies for clusters and pending pods, and the named scheduler configurations they
draw from; shared by the differential tests (fast path against schedkit.reference), the invariant
tests and the reference's own topology tests.

``scenarios`` generates small clusters (labels, taints of every effect, unschedulable nodes, an extended
resource, tight pod limits, running pods holding resources and host ports) and batches of pending pods
(requests, tolerations, nodeSelector, required/preferred node affinity with every operator and
matchFields on metadata.name, priorities, host ports, gates, other schedulerNames), under one of
``CONFIGS``.

``topology_scenarios`` adds what PodTopologySpread and InterPodAffinity read: zone and hostname node
labels, labelled Namespaces, labelled running pods in two namespaces (some with pod (anti-)affinity,
some terminating, some owned by ReplicaSets), Services, and pending pods with spread constraints and
pod (anti-)affinity, under one of ``TOPOLOGY_CONFIGS``.

A plain module, not a test file: pytest's default (prepend) import mode puts tests/ on sys.path when it
imports the test files, so they import it as ``strategies``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from numba.core import config as numba_config

from schedkit.cluster import cluster_from_objects
from schedkit.manifests import SourcedObject
from schedkit.testing import make_cluster, make_pod


def examples(count: int) -> int:
    """Hypothesis examples for a generated comparison: ``count``, or a tenth of it with numba off (the
    NUMBA_DISABLE_JIT pass, tests/test_jit_off.py, runs the loops as plain Python, ten times slower)."""
    return max(1, count // 10) if numba_config.DISABLE_JIT else count


# --- scheduler configurations (by name; scheduler_for in checks.py builds each once) -------------

ZONE = "topology.kubernetes.io/zone"
API = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}
HOSTNAME = "kubernetes.io/hostname"


def _profile(name: str = "default-scheduler", plugins: dict | None = None, args: dict | None = None,
             percentage: int | None = None) -> dict:
    profile: dict[str, Any] = {"schedulerName": name}
    if plugins:
        profile["plugins"] = plugins
    if args:
        profile["pluginConfig"] = [{"name": k, "args": v} for k, v in args.items()]
    if percentage is not None:
        profile["percentageOfNodesToScore"] = percentage
    return profile


RTCR = {"scoringStrategy": {"type": "RequestedToCapacityRatio",
                            "resources": [{"name": "cpu", "weight": 2}, {"name": "memory", "weight": 1},
                                          {"name": "example.com/gpu", "weight": 3}],
                            "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0},
                                                                   {"utilization": 30, "score": 7},
                                                                   {"utilization": 100, "score": 3}]}}}
MOST = {"scoringStrategy": {"type": "MostAllocated",
                            "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 2},
                                          {"name": "example.com/gpu", "weight": 5},
                                          {"name": "ephemeral-storage", "weight": 1}]}}
ADDED = {"addedAffinity": {
    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "size", "operator": "NotIn", "values": ["3"]}]},
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["a"]}]}]},
    "preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 7, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}]}}

CONFIGS: dict[str, dict | None] = {
    "default": None,
    "most-allocated": {**API, "profiles": [_profile(args={"NodeResourcesFit": MOST})]},
    "rtcr": {**API, "percentageOfNodesToScore": 100, "profiles": [_profile(args={"NodeResourcesFit": RTCR})]},
    "disabled": {**API, "profiles": [_profile(plugins={
        "multiPoint": {"disabled": [{"name": "TaintToleration"}]},
        "score": {"disabled": [{"name": "NodeResourcesBalancedAllocation"}],
                  "enabled": [{"name": "NodeAffinity", "weight": 5}]},
        "filter": {"disabled": [{"name": "NodeUnschedulable"}]}})]},
    "two-profiles": {**API, "profiles": [
        _profile(percentage=100, args={"NodeResourcesFit": {"ignoredResources": ["example.com/gpu"]},
                                       "NodeResourcesBalancedAllocation": {"resources": [
                                           {"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1},
                                           {"name": "example.com/gpu", "weight": 1}]}}),
        _profile("other-scheduler", args={"NodeAffinity": ADDED, "NodeResourcesFit": MOST},
                 plugins={"multiPoint": {"disabled": [{"name": "NodePorts"}]}})]},
    "no-score": {**API, "profiles": [_profile(plugins={"score": {"disabled": [{"name": "*"}]}})]},
    # Plugins left at score without preScore: BalancedAllocation and NodeAffinity compute their state (and
    # score 0 where PreScore would skip); TaintToleration's Score fails, so does the cycle of every pod with
    # two or more feasible nodes.
    "score-without-prescore": {**API, "profiles": [_profile(plugins={
        "preScore": {"disabled": [{"name": "NodeResourcesBalancedAllocation"}, {"name": "NodeAffinity"}]}})]},
    "prescore-state-error": {**API, "profiles": [_profile(plugins={
        "multiPoint": {"disabled": [{"name": "TaintToleration"}]}, "score": {"enabled": [{"name": "TaintToleration"}]}})]},
    # NodePorts' Filter without its PreFilter: an Error once any node gets past the plugins before it.
    "prefilter-state-error": {**API, "profiles": [_profile(plugins={"preFilter": {"disabled": [{"name": "NodePorts"}]}})]},
    "ignored-groups": {**API, "percentageOfNodesToScore": 0, "profiles": [_profile(args={
        "NodeResourcesFit": {"ignoredResourceGroups": ["example.com"], "scoringStrategy": {
            "type": "LeastAllocated", "resources": [{"name": "cpu", "weight": 3}, {"name": "example.com/gpu", "weight": 2},
                                                    {"name": "hugepages-2Mi", "weight": 1}]}},
        "NodeResourcesBalancedAllocation": {"resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1},
                                                          {"name": "ephemeral-storage", "weight": 1},
                                                          {"name": "hugepages-2Mi", "weight": 1}]}})]},
}

# PodTopologySpread and InterPodAffinity (topology_scenarios)
TOPOLOGY_CONFIGS: dict[str, dict | None] = {
    "topology-default": None,  # System default spreading, hardPodAffinityWeight 1
    "topology-list": {**API, "percentageOfNodesToScore": 100, "profiles": [_profile(args={
        "PodTopologySpread": {"defaultingType": "List", "defaultConstraints": [
            {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"},
            {"maxSkew": 2, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway"}]},
        "InterPodAffinity": {"hardPodAffinityWeight": 5}})]},
    "topology-ignore-existing": {**API, "profiles": [_profile(args={
        "PodTopologySpread": {"defaultingType": "List"},
        "InterPodAffinity": {"hardPodAffinityWeight": 0, "ignorePreferredTermsOfExistingPods": True}},
        plugins={"score": {"enabled": [{"name": "InterPodAffinity", "weight": 7}]}})]},
}


# --- strategies --------------------------------------------------------------------------------------

TAINT_KEYS = ["dedicated", "gpu", "spot"]
LABEL_VALUES = ["a", "b", "c", "1", "2", "3", "ssd"]


@st.composite
def node_manifests(draw, min_nodes: int = 3, max_nodes: int = 12, loose: bool = False) -> list[dict]:
    """``loose``: mostly roomy, untainted nodes, so that more than 100 of them can be feasible."""
    rare = 12 if loose else 2  # 1 in ``rare`` nodes is tainted / tight
    count = draw(st.integers(min_nodes, max_nodes))
    nodes = []
    for i in range(count):
        labels = {"size": draw(st.sampled_from(["1", "2", "3", "02", "big"]))}
        zone = draw(st.sampled_from(["a", "b", "c", None]))
        if zone:
            labels[ZONE] = zone
        if draw(st.booleans()):
            labels["disk"] = draw(st.sampled_from(["ssd", "hdd"]))
        taints = draw(st.lists(st.fixed_dictionaries({
            "key": st.sampled_from(TAINT_KEYS), "value": st.sampled_from(["", "x", "y"]),
            "effect": st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])}), max_size=2)) if draw(st.integers(1, rare)) == 1 else []
        allocatable = {"cpu": draw(st.sampled_from(["500m", "1", "2", "4"])),
                       "memory": draw(st.sampled_from(["1Gi", "2Gi", "4Gi"])),
                       "pods": str(draw(st.sampled_from([0, 1, 2, 3])) if draw(st.integers(1, rare + 2)) == 1 else 110)}
        if draw(st.integers(0, 2)) == 0:
            allocatable["example.com/gpu"] = str(draw(st.integers(0, 4)))
        if draw(st.integers(0, 3)) == 0:
            allocatable["ephemeral-storage"] = draw(st.sampled_from(["1Gi", "10Gi"]))
        if draw(st.integers(0, 5)) == 0:
            allocatable["hugepages-2Mi"] = draw(st.sampled_from(["0", "4Mi", "64Mi"]))
        images = draw(st.lists(st.sampled_from(IMAGE_POOL), max_size=3, unique_by=lambda image: image["names"][0]))
        nodes.append({"metadata": {"name": f"node-{i}", "labels": labels},
                      "spec": {"taints": taints, "unschedulable": draw(st.integers(0, 4 * rare + 1)) == 0},
                      "status": {"allocatable": allocatable, "images": images}})
    return nodes


def _requests(draw) -> dict:
    requests = {}
    if draw(st.integers(0, 4)):
        requests["cpu"] = draw(st.sampled_from(["0", "50m", "100m", "250m", "500m", "1", "1500m", "3"]))
    if draw(st.integers(0, 4)):
        requests["memory"] = draw(st.sampled_from(["0", "64Mi", "256Mi", "512Mi", "1Gi", "3Gi"]))
    if draw(st.integers(0, 4)) == 0:
        requests["example.com/gpu"] = str(draw(st.integers(1, 3)))
    if draw(st.integers(0, 6)) == 0:
        requests["ephemeral-storage"] = draw(st.sampled_from(["512Mi", "2Gi"]))
    if draw(st.integers(0, 10)) == 0:
        requests["foo"] = "5"  # not a tracked resource name: ignored
    if draw(st.integers(0, 8)) == 0:
        requests["hugepages-2Mi"] = draw(st.sampled_from(["2Mi", "8Mi"]))
    return requests


def _host_ports(draw) -> list[dict]:
    return draw(st.lists(st.fixed_dictionaries({
        "containerPort": st.just(80), "hostPort": st.sampled_from([80, 443, 8080]),
        "protocol": st.sampled_from(["", "TCP", "UDP"]), "hostIP": st.sampled_from(["", "10.0.0.1", "0.0.0.0"])}),
        max_size=2)) if draw(st.integers(0, 3)) == 0 else []


# Node images for ImageLocality: one size per name (the scheduler cache keeps the first node's size).
IMAGE_POOL = [
    {"names": ["registry.example.com/app:1.0", "registry.example.com/app@sha256:0a1b"], "sizeBytes": 300 * 1024 * 1024},
    {"names": ["repo/base:latest"], "sizeBytes": 800 * 1024 * 1024},
    {"names": ["localhost:5000/tool:v2"], "sizeBytes": 50 * 1024 * 1024},
    {"names": ["tiny:1"], "sizeBytes": 1024 * 1024},
]
POD_IMAGES = ["registry.example.com/app:1.0", "repo/base", "localhost:5000/tool:v2", "localhost:5000/tool",
              "tiny:1", "absent:9"]


def _containers(draw) -> list[dict]:
    containers = [{"name": "main", "image": draw(st.sampled_from(POD_IMAGES)),
                   "resources": {"requests": _requests(draw)}, "ports": _host_ports(draw)}]
    if draw(st.integers(0, 3)) == 0:
        containers.append({"name": "bare"})  # no requests: 100m / 200Mi when scoring
    return containers


REQUIREMENTS = st.one_of(
    st.fixed_dictionaries({"key": st.sampled_from([ZONE, "size", "disk", "missing"]),
                           "operator": st.sampled_from(["In", "NotIn"]),
                           "values": st.lists(st.sampled_from(LABEL_VALUES + ["hdd"]), min_size=1, max_size=2)}),
    st.fixed_dictionaries({"key": st.sampled_from(["disk", "size", "missing"]),
                           "operator": st.sampled_from(["Exists", "DoesNotExist"]), "values": st.just([])}),
    st.fixed_dictionaries({"key": st.sampled_from(["size", "disk"]), "operator": st.sampled_from(["Gt", "Lt"]),
                           "values": st.sampled_from([["0"], ["1"], ["2"], ["02"], ["3"]])}),
)
BROKEN_REQUIREMENTS = st.sampled_from([  # parse errors: the term matches nothing
    {"key": "size", "operator": "Gt", "values": ["two"]},
    {"key": "size", "operator": "In", "values": []},
    {"key": "disk", "operator": "NotIn", "values": ["bad value!"]},
    {"key": "disk", "operator": "Exists", "values": ["ssd"]},
])


def _name_field(draw, node_count: int) -> dict:
    names = [f"node-{i}" for i in range(node_count)] + ["ghost"]
    return {"key": "metadata.name", "operator": draw(st.sampled_from(["In", "In", "NotIn"])),
            "values": [draw(st.sampled_from(names))]}


def _term(draw, node_count: int, broken: bool) -> dict:
    term: dict[str, Any] = {}
    expressions = draw(st.lists(REQUIREMENTS, max_size=2))
    if broken and draw(st.integers(0, 5)) == 0:
        expressions.append(draw(BROKEN_REQUIREMENTS))
    if expressions:
        term["matchExpressions"] = expressions
    if broken and draw(st.integers(0, 2)) == 0:
        term["matchFields"] = [_name_field(draw, node_count) for _ in range(draw(st.integers(1, 2)))]
    return term


TOLERATIONS = st.sampled_from([
    {"operator": "Exists"},  # empty key: tolerates everything
    {"key": "dedicated", "operator": "Exists"},
    {"key": "dedicated", "value": "x", "effect": "NoSchedule"},
    {"key": "gpu", "operator": "Equal", "value": "y"},
    {"key": "gpu", "operator": "Exists", "effect": "NoExecute"},
    {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"},
    {"key": "spot", "value": ""},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    {"operator": "Exists", "effect": "NoExecute"},
    {"key": "dedicated", "operator": "Gt", "value": "1"},
])


@st.composite
def pending_manifests(draw, node_count: int, min_pods: int = 1, max_pods: int = 15,
                      scheduler_names: tuple[str, ...] = ("default-scheduler",)) -> list[dict]:
    pods = []
    for i in range(draw(st.integers(min_pods, max_pods))):
        spec: dict[str, Any] = {"containers": _containers(draw)}
        if draw(st.integers(0, 4)) == 0:
            spec["initContainers"] = [{"name": "init", "resources": {"requests": _requests(draw)}}]
            if draw(st.booleans()):  # a sidecar: its requests and host ports last for the pod's life
                spec["initContainers"].insert(0, {"name": "sidecar", "restartPolicy": "Always",
                                                  "resources": {"requests": _requests(draw)},
                                                  "ports": _host_ports(draw)})
        if draw(st.integers(0, 8)) == 0:
            spec["overhead"] = {"cpu": "50m", "memory": "32Mi"}
        if draw(st.integers(0, 8)) == 0:
            spec["resources"] = {"requests": {"cpu": draw(st.sampled_from(["200m", "1"]))}}
        if draw(st.booleans()):
            spec["tolerations"] = draw(st.lists(TOLERATIONS, max_size=3))
        if draw(st.integers(0, 4)) == 0:
            spec["nodeSelector"] = draw(st.sampled_from([{ZONE: "a"}, {"size": "2"}, {"disk": "ssd", ZONE: "b"}]))
        affinity: dict[str, Any] = {}
        if draw(st.integers(0, 2)) == 0:
            affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
                _term(draw, node_count, broken=True) for _ in range(draw(st.integers(0, 2)))]}
        if draw(st.integers(0, 2)) == 0:
            affinity["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": draw(st.integers(1, 100)), "preference": _term(draw, node_count, broken=False)}
                for _ in range(draw(st.integers(1, 2)))]
        if affinity:
            spec["affinity"] = {"nodeAffinity": affinity}
        if draw(st.booleans()):
            spec["priority"] = draw(st.sampled_from([-5, 0, 10, 100]))
        if draw(st.integers(0, 12)) == 0:
            spec["schedulingGates"] = [{"name": "example.com/a"}, {"name": "example.com/b"}][:draw(st.integers(1, 2))]
        name = draw(st.sampled_from(scheduler_names))
        if name != "default-scheduler":
            spec["schedulerName"] = name
        pods.append({"metadata": {"name": f"pod-{i}", "namespace": "default"}, "spec": spec})
    return pods


@st.composite
def running_manifests(draw, node_count: int, max_pods: int = 10) -> list[dict]:
    pods = []
    for i in range(draw(st.integers(0, max_pods))):
        spec: dict[str, Any] = {"nodeName": f"node-{draw(st.integers(0, node_count - 1))}",
                                "containers": _containers(draw)}
        pod: dict[str, Any] = {"metadata": {"name": f"running-{i}", "namespace": "kube-system"}, "spec": spec}
        if draw(st.integers(0, 8)) == 0:
            pod["status"] = {"phase": "Succeeded"}  # holds nothing
        pods.append(pod)
    return pods


@st.composite
def scenarios(draw, min_nodes: int = 3, max_nodes: int = 12, max_pods: int = 15,
              configs: tuple[str, ...] = tuple(CONFIGS), loose: bool = False):
    config = draw(st.sampled_from(configs))
    nodes = draw(node_manifests(min_nodes, max_nodes, loose))
    running = draw(running_manifests(len(nodes)))
    names = ("default-scheduler",) * 10 + ("nobody",)
    if config == "two-profiles":
        names += ("other-scheduler",) * 5
    pending = draw(pending_manifests(len(nodes), max_pods=max_pods, scheduler_names=names))
    seed = draw(st.integers(0, 2**32))
    return config, make_cluster(nodes, running), [make_pod(p) for p in pending], seed


# --- topology strategies (PodTopologySpread, InterPodAffinity) ------------------------------------------

TOPOLOGY_NAMESPACES = ("ns-a", "ns-b")
APPS = ("a", "b", "c")


@st.composite
def topology_nodes(draw, min_nodes: int = 3, max_nodes: int = 9) -> list[dict]:
    zones = ["z1", "z2", "z3"][:draw(st.integers(2, 3))]
    nodes = []
    for i in range(draw(st.integers(min_nodes, max_nodes))):
        name = f"node-{i}"
        labels = {}
        if draw(st.integers(0, 9)):  # now and then a node without a zone
            labels[ZONE] = draw(st.sampled_from(zones))
        if draw(st.integers(0, 14)):
            labels[HOSTNAME] = name
        if draw(st.booleans()):
            labels["disk"] = draw(st.sampled_from(["ssd", "hdd"]))
        taints = [{"key": "dedicated", "value": "x", "effect": draw(st.sampled_from(["NoSchedule", "NoExecute"]))}] \
            if draw(st.integers(0, 5)) == 0 else []
        pods = "110" if draw(st.integers(0, 7)) else str(draw(st.integers(1, 3)))
        nodes.append({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints},
                      "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "pods": pods}}})
    return nodes


def _pod_labels(draw) -> dict:
    labels = {}
    if draw(st.integers(0, 5)):
        labels["app"] = draw(st.sampled_from(APPS))
    if draw(st.booleans()):
        labels["tier"] = draw(st.sampled_from(["web", "db"]))
    return labels


def _pod_selector(draw, nil_ok: bool = True) -> dict | None:
    """A labelSelector over app/tier: matchLabels, matchExpressions, both, {} (everything) or None (nothing)."""
    kind = draw(st.integers(0, 11))
    if kind == 0 and nil_ok:
        return None
    if kind == 1:
        return {}
    selector: dict[str, Any] = {}
    if kind in (2, 3, 4, 5, 6, 7):
        selector["matchLabels"] = {"app": draw(st.sampled_from(APPS))}
    if kind >= 6:
        selector["matchExpressions"] = [draw(st.sampled_from([
            {"key": "app", "operator": "In", "values": sorted(draw(st.sets(st.sampled_from(APPS), min_size=1)))},
            {"key": "app", "operator": "NotIn", "values": [draw(st.sampled_from(APPS))]},
            {"key": "tier", "operator": "Exists"},
            {"key": "tier", "operator": "DoesNotExist"},
            {"key": "tier", "operator": "In", "values": ["web"]}]))]
    return selector or {"matchLabels": {"app": "a"}}


def _affinity_term(draw) -> dict:
    term: dict[str, Any] = {"topologyKey": draw(st.sampled_from([HOSTNAME, ZONE, HOSTNAME, ZONE, "disk"]))}
    selector = _pod_selector(draw)
    if selector is not None:
        term["labelSelector"] = selector
    scope = draw(st.integers(0, 5))
    if scope == 1:
        term["namespaces"] = draw(st.sampled_from([["ns-a"], ["ns-b"], ["ns-a", "ns-b"]]))
    elif scope == 2:
        term["namespaceSelector"] = draw(st.sampled_from([
            {}, {"matchLabels": {"team": "x"}}, {"matchExpressions": [{"key": "env", "operator": "Exists"}]},
            {"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]}]))
    elif scope == 3:
        term["namespaces"] = ["ns-b"]
        term["namespaceSelector"] = {"matchLabels": {"team": "x"}}
    return term


def _pod_affinity(draw, required_weight: int = 3) -> dict:
    """podAffinity / podAntiAffinity with required and preferred terms (any part may be missing)."""
    affinity: dict[str, Any] = {}
    for kind in ("podAffinity", "podAntiAffinity"):
        part: dict[str, Any] = {}
        if draw(st.integers(0, required_weight)) == 0:
            part["requiredDuringSchedulingIgnoredDuringExecution"] = [
                _affinity_term(draw) for _ in range(draw(st.integers(1, 2)))]
        if draw(st.integers(0, 2)) == 0:
            part["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": draw(st.integers(1, 100)), "podAffinityTerm": _affinity_term(draw)}
                for _ in range(draw(st.integers(1, 2)))]
        if part:
            affinity[kind] = part
    return affinity


def _spread_constraint(draw) -> dict:
    hard = draw(st.booleans())
    c: dict[str, Any] = {"maxSkew": draw(st.integers(1, 3)), "topologyKey": draw(st.sampled_from([ZONE, HOSTNAME])),
                         "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway"}
    selector = _pod_selector(draw)
    if selector is not None:
        c["labelSelector"] = selector
    if hard and draw(st.integers(0, 3)) == 0:
        c["minDomains"] = draw(st.integers(1, 4))
    if draw(st.integers(0, 3)) == 0:
        c["nodeAffinityPolicy"] = draw(st.sampled_from(["Honor", "Ignore"]))
    if draw(st.integers(0, 3)) == 0:
        c["nodeTaintsPolicy"] = draw(st.sampled_from(["Honor", "Ignore"]))
    used = {*(selector or {}).get("matchLabels", {}), *(e["key"] for e in (selector or {}).get("matchExpressions", []))}
    if selector is not None and draw(st.integers(0, 3)) == 0:
        keys = [k for k in ("tier", "app") if k not in used]
        if keys:
            c["matchLabelKeys"] = keys[:1]
    return c


def _owner(draw) -> list[dict]:
    if draw(st.integers(0, 2)):
        return []
    kind, api = draw(st.sampled_from([("ReplicaSet", "apps/v1")] * 4 + [("StatefulSet", "apps/v1"),
                                                                        ("ReplicationController", "v1")]))
    name = f"{kind.lower()}-{draw(st.sampled_from(APPS + ('missing',)))}"
    return [{"apiVersion": api, "kind": kind, "name": name, "uid": name, "controller": draw(st.integers(0, 5)) > 0}]


def _topology_pod(draw, name: str, namespace: str, node: str | None, affinity_weight: int) -> dict:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": _pod_labels(draw)}
    owners = _owner(draw)
    if owners:
        meta["ownerReferences"] = owners
    spec: dict[str, Any] = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    if node is not None:
        spec["nodeName"] = node
        if draw(st.integers(0, 5)) == 0:
            meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"  # terminating
    if draw(st.integers(0, affinity_weight)) == 0:
        affinity = _pod_affinity(draw)
        if affinity:
            spec["affinity"] = affinity
    return {"metadata": meta, "spec": spec}


@st.composite
def topology_objects(draw) -> list[dict]:
    """Namespaces (every namespace a pod uses has one), Services and workload controllers."""
    objects: list[dict] = []
    for name in TOPOLOGY_NAMESPACES:
        labels = {"team": draw(st.sampled_from(["x", "y"]))}
        if draw(st.booleans()):
            labels["env"] = "prod"
        objects.append({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "labels": labels}})
    for i in range(draw(st.integers(0, 3))):
        selector = {"app": draw(st.sampled_from(APPS))}
        if draw(st.integers(0, 3)) == 0:
            selector["tier"] = "web"
        objects.append({"kind": "Service", "apiVersion": "v1", "metadata": {
            "name": f"svc-{i}", "namespace": draw(st.sampled_from(TOPOLOGY_NAMESPACES))}, "spec": {"selector": selector}})
    for namespace in TOPOLOGY_NAMESPACES:
        for app in APPS:
            if draw(st.booleans()):
                selector = draw(st.sampled_from([{"matchLabels": {"app": app}},
                                                 {"matchExpressions": [{"key": "app", "operator": "In", "values": [app]}]},
                                                 {"matchLabels": {"app": app}, "matchExpressions": [
                                                     {"key": "tier", "operator": "Exists"}]}]))
                for kind in ("ReplicaSet", "StatefulSet"):
                    objects.append({"kind": kind, "apiVersion": "apps/v1", "metadata": {
                        "name": f"{kind.lower()}-{app}", "namespace": namespace}, "spec": {"selector": selector}})
                objects.append({"kind": "ReplicationController", "apiVersion": "v1", "metadata": {
                    "name": f"replicationcontroller-{app}", "namespace": namespace}, "spec": {"selector": {"app": app}}})
    return objects


@st.composite
def topology_pending(draw, max_pods: int = 8) -> list[dict]:
    pods = []
    for i in range(draw(st.integers(1, max_pods))):
        pod = _topology_pod(draw, f"pod-{i}", draw(st.sampled_from(TOPOLOGY_NAMESPACES)), None, affinity_weight=2)
        spec = pod["spec"]
        if draw(st.booleans()):
            spec["topologySpreadConstraints"] = [_spread_constraint(draw) for _ in range(draw(st.integers(1, 2)))]
        if draw(st.integers(0, 4)) == 0:
            spec["nodeSelector"] = {"disk": "ssd"}
        if draw(st.integers(0, 4)) == 0:
            spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        if draw(st.integers(0, 5)) == 0:
            spec["priority"] = 10
        pods.append(pod)
    return pods


def make_topology_cluster(nodes: list[dict], running: list[dict], objects: list[dict]):
    items = [SourcedObject({"kind": "Node", **n}, "<nodes>", f"[{i}]") for i, n in enumerate(nodes)]
    items += [SourcedObject({"kind": "Pod", **p}, "<pods>", f"[{i}]") for i, p in enumerate(running)]
    items += [SourcedObject(o, "<objects>", f"[{i}]") for i, o in enumerate(objects)]
    return cluster_from_objects(items)


@st.composite
def topology_scenarios(draw, max_pods: int = 8, configs: tuple[str, ...] = tuple(TOPOLOGY_CONFIGS)):
    config = draw(st.sampled_from(configs))
    nodes = draw(topology_nodes())
    running = [_topology_pod(draw, f"running-{i}", draw(st.sampled_from(TOPOLOGY_NAMESPACES)),
                             f"node-{draw(st.integers(0, len(nodes) - 1))}", affinity_weight=3)
               for i in range(draw(st.integers(0, 10)))]
    cluster = make_topology_cluster(nodes, running, draw(topology_objects()))
    pending = draw(topology_pending(max_pods))
    return config, cluster, [make_pod(p) for p in pending], draw(st.integers(0, 2**32))

