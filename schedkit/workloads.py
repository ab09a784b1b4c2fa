"""Upstream scheduler_perf workloads, shared by `schedkit bench` and the bench/ suite so the two cannot drift.

Shapes follow upstream's scheduler_perf (test/integration/scheduler_perf/config/performance-config.yaml
and templates/node-default.yaml, pod-default.yaml): nodes with 4 CPU, 32Gi and 110 pods; pods
requesting 100m CPU and 500Mi.
"""

from __future__ import annotations

from dataclasses import dataclass

from schedkit.cluster import Cluster, cluster_from_objects
from schedkit.manifests import SourcedObject
from schedkit.objects import Pod

NODE_ALLOCATABLE = {"cpu": "4", "memory": "32Gi", "pods": "110"}
POD_REQUESTS = {"cpu": "100m", "memory": "500Mi"}


def node_manifest(i: int, zone: str | None = None) -> dict:
    labels = {"kubernetes.io/hostname": f"scheduler-perf-node-{i}"}
    if zone is not None:
        labels["topology.kubernetes.io/zone"] = zone
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"scheduler-perf-node-{i}", "labels": labels},
            "status": {"allocatable": dict(NODE_ALLOCATABLE), "capacity": dict(NODE_ALLOCATABLE)}}


def pod_manifest(name: str, node: str | None = None, namespace: str = "default") -> dict:
    spec: dict = {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                  "resources": {"requests": dict(POD_REQUESTS)}}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


@dataclass
class Workload:
    name: str
    cluster: Cluster
    measured: list[Pod]  # the pods whose scheduling is timed


def scheduling_basic(nodes: int = 5000, running: int = 1000, measured: int = 10000) -> Workload:
    """SchedulingBasic: ``running`` pods placed round-robin, then ``measured`` plain pods to schedule."""
    objects = [SourcedObject(node_manifest(i), "<bench>", "") for i in range(nodes)]
    objects += [SourcedObject(pod_manifest(f"init-{i}", f"scheduler-perf-node-{i % nodes}"), "<bench>", "")
                for i in range(running)]
    objects += [SourcedObject(pod_manifest(f"measured-{i}"), "<bench>", "") for i in range(measured)]
    cluster = cluster_from_objects(objects)
    pending = cluster.pending_pods
    return Workload("SchedulingBasic", cluster, pending)


def config_with_percentage(percentage: int | None) -> dict:
    config = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}
    if percentage is not None:
        config["percentageOfNodesToScore"] = percentage
    return config


def anti_affinity_pod(name: str, namespace: str, node: str | None = None) -> dict:
    """scheduler_perf templates/pod-with-pod-anti-affinity.yaml: one "green" pod per hostname."""
    manifest = pod_manifest(name, node, namespace)
    manifest["metadata"]["labels"] = {"color": "green", "name": "test"}
    manifest["spec"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname",
        "namespaces": ["sched-test", "sched-setup"]}]}}
    return manifest


def scheduling_pod_anti_affinity(nodes: int = 5000, running: int = 1000, measured: int = 2000) -> Workload:
    """SchedulingPodAntiAffinity: required anti-affinity on hostname."""
    objects = [SourcedObject(node_manifest(i), "<bench>", "") for i in range(nodes)]
    objects += [SourcedObject(anti_affinity_pod(f"init-{i}", "sched-setup", f"scheduler-perf-node-{i}"), "<bench>", "")
                for i in range(running)]
    objects += [SourcedObject(anti_affinity_pod(f"measured-{i}", "sched-test"), "<bench>", "") for i in range(measured)]
    cluster = cluster_from_objects(objects)
    return Workload("SchedulingPodAntiAffinity", cluster, cluster.pending_pods)


def _with(manifest: dict, labels: dict, **spec) -> dict:
    manifest["metadata"]["labels"] = labels
    manifest["spec"].update(spec)
    return manifest


def affinity_pod(name: str, namespace: str, node: str | None = None) -> dict:
    """templates/pod-with-pod-affinity.yaml: required affinity to foo="" pods in the same zone."""
    return _with(pod_manifest(name, node, namespace), {"foo": ""}, affinity={"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"foo": ""}}, "topologyKey": "topology.kubernetes.io/zone",
            "namespaces": ["sched-test", "sched-setup"]}]}})


def preferred_pod(name: str, namespace: str, node: str | None, anti: bool) -> dict:
    """templates/pod-with-preferred-pod-(anti-)affinity.yaml: weight 1 on hostname."""
    kind = "podAntiAffinity" if anti else "podAffinity"
    return _with(pod_manifest(name, node, namespace), {"foo": ""}, affinity={kind: {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"foo": ""}}, "topologyKey": "kubernetes.io/hostname",
            "namespaces": ["sched-test", "sched-setup"]}}]}})


def spreading_pod(name: str, namespace: str, node: str | None = None) -> dict:
    """templates/pod-with-topology-spreading.yaml: maxSkew 5 over zones, DoNotSchedule."""
    return _with(pod_manifest(name, node, namespace), {"foo": "bar"}, topologySpreadConstraints=[{
        "maxSkew": 5, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"foo": "bar"}}}])


def _workload(name: str, nodes: list[dict], running: list[dict], measured: list[dict]) -> Workload:
    objects = [SourcedObject(obj, "<bench>", "") for obj in nodes + running + measured]
    cluster = cluster_from_objects(objects)
    return Workload(name, cluster, cluster.pending_pods)


def scheduling_pod_affinity(nodes: int = 5000, running: int = 5000, measured: int = 5000) -> Workload:
    """SchedulingPodAffinity: every node in zone1; required affinity on zone."""
    node_list = [node_manifest(i, "zone1") for i in range(nodes)]
    init = [affinity_pod(f"init-{i}", "sched-setup", f"scheduler-perf-node-{i % nodes}") for i in range(running)]
    return _workload("SchedulingPodAffinity", node_list, init,
                     [affinity_pod(f"measured-{i}", "sched-test") for i in range(measured)])


def topology_spreading(nodes: int = 5000, running: int = 5000, measured: int = 5000) -> Workload:
    """TopologySpreading: nodes in 3 zones, plain pods running, spreading pods measured."""
    zones = ["moon-1", "moon-2", "moon-3"]
    node_list = [node_manifest(i, zones[i % 3]) for i in range(nodes)]
    init = [pod_manifest(f"init-{i}", f"scheduler-perf-node-{i % nodes}", "sched-setup") for i in range(running)]
    return _workload("TopologySpreading", node_list, init,
                     [spreading_pod(f"measured-{i}", "sched-test") for i in range(measured)])


def mixed_scheduling_base_pod(nodes: int = 5000, each: int = 2000, measured: int = 5000) -> Workload:
    """MixedSchedulingBasePod: 2000 each of plain, affinity, anti-affinity, preferred affinity and preferred
    anti-affinity pods running; plain pods measured."""
    node_list = [node_manifest(i, "zone1") for i in range(nodes)]
    makers = [lambda n, node: pod_manifest(n, node, "sched-setup"),
              lambda n, node: affinity_pod(n, "sched-setup", node),
              lambda n, node: anti_affinity_pod(n, "sched-setup", node),
              lambda n, node: preferred_pod(n, "sched-setup", node, anti=False),
              lambda n, node: preferred_pod(n, "sched-setup", node, anti=True)]
    init = []
    for kind, make in enumerate(makers):
        for i in range(each):
            index = kind * each + i
            init.append(make(f"init-{kind}-{i}", f"scheduler-perf-node-{index % nodes}"))
    return _workload("MixedSchedulingBasePod", node_list, init,
                     [pod_manifest(f"measured-{i}", None, "sched-test") for i in range(measured)])


TOPOLOGY_WORKLOADS = {
    "SchedulingPodAntiAffinity": scheduling_pod_anti_affinity,
    "SchedulingPodAffinity": scheduling_pod_affinity,
    "TopologySpreading": topology_spreading,
    "MixedSchedulingBasePod": mixed_scheduling_base_pod,
}


@dataclass(frozen=True)
class WorkloadSpec:
    """A named workload at upstream's size, its CI floor (pods/s at 5000 nodes) and a generator that
    scales init and measured pods with the node count."""

    name: str
    build: object  # (nodes, init, measured) -> Workload
    nodes: int
    init: int
    measured: int
    floor: float | None

    def make(self, nodes: int) -> Workload:
        scale = nodes / self.nodes
        init = max(int(self.init * scale), 0)
        measured = max(int(self.measured * scale), 1)
        return self.build(nodes, init, measured)


WORKLOADS: dict[str, WorkloadSpec] = {
    spec.name: spec for spec in (
        WorkloadSpec("SchedulingBasic", scheduling_basic, 5000, 1000, 10000, 680),
        WorkloadSpec("SchedulingPodAntiAffinity", scheduling_pod_anti_affinity, 5000, 1000, 2000, 60),
        WorkloadSpec("SchedulingPodAffinity", scheduling_pod_affinity, 5000, 5000, 5000, 35),
        WorkloadSpec("TopologySpreading", topology_spreading, 5000, 5000, 5000, 460),
        WorkloadSpec("MixedSchedulingBasePod", lambda n, i, m: mixed_scheduling_base_pod(n, i // 5, m),
                     5000, 10000, 5000, 140),
    )
}
