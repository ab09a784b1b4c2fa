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


def pod_manifest(name: str, node: str | None = None, namespace: str = "default",
                 requests: dict | None = None) -> dict:
    spec: dict = {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                  "resources": {"requests": dict(requests or POD_REQUESTS)}}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


@dataclass
class BenchWorkload:
    """One scheduler_perf workload built for a run: a cluster (nodes, init pods) and the pending pods whose
    scheduling is measured. (A replayable trace is ``schedkit.traces.Trace``.)"""

    name: str
    cluster: Cluster
    measured: list[Pod]  # the pods whose scheduling is timed
    # measured pods no node can ever take (Unschedulable's large pods): the check expects them pending
    unplaceable: frozenset[str] = frozenset()


def scheduling_basic(nodes: int = 5000, running: int = 1000,
                     measured: int = 10000) -> BenchWorkload:  # noqa: D401
    """SchedulingBasic: ``running`` pods placed round-robin, then ``measured`` plain pods to schedule."""
    objects = [SourcedObject(node_manifest(i), "<bench>", "") for i in range(nodes)]
    objects += [SourcedObject(pod_manifest(f"init-{i}", f"scheduler-perf-node-{i % nodes}"), "<bench>", "")
                for i in range(running)]
    objects += [SourcedObject(pod_manifest(f"measured-{i}"), "<bench>", "") for i in range(measured)]
    cluster = cluster_from_objects(objects)
    pending = cluster.pending_pods
    return BenchWorkload("SchedulingBasic", cluster, pending)


def config_with_percentage(percentage: int | None) -> dict:
    config = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}
    if percentage is not None:
        config["percentageOfNodesToScore"] = percentage
    return config


NAMESPACES = ["sched-1", "sched-0"]  # the templates' term namespaces: init pods in sched-0, measured in sched-1


def _with(manifest: dict, labels: dict, **spec) -> dict:
    manifest["metadata"]["labels"] = labels
    manifest["spec"].update(spec)
    return manifest


def anti_affinity_pod(name: str, namespace: str, node: str | None = None) -> dict:
    """templates/pod-with-pod-anti-affinity.yaml: one color=green pod per hostname."""
    return _with(pod_manifest(name, node, namespace), {"color": "green"}, affinity={"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname",
            "namespaces": NAMESPACES}]}})


def affinity_pod(name: str, namespace: str, node: str | None = None) -> dict:
    """templates/pod-with-pod-affinity.yaml: required affinity to color=blue pods in the same zone."""
    return _with(pod_manifest(name, node, namespace), {"color": "blue"}, affinity={"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {"color": "blue"}}, "topologyKey": "topology.kubernetes.io/zone",
            "namespaces": NAMESPACES}]}})


def preferred_pod(name: str, namespace: str, node: str | None, anti: bool) -> dict:
    """templates/pod-with-preferred-pod-(anti-)affinity.yaml: weight 1 on hostname, red / yellow pods."""
    kind, color = ("podAntiAffinity", "yellow") if anti else ("podAffinity", "red")
    return _with(pod_manifest(name, node, namespace), {"color": color}, affinity={kind: {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {
            "labelSelector": {"matchLabels": {"color": color}}, "topologyKey": "kubernetes.io/hostname",
            "namespaces": NAMESPACES}}]}})


def node_affinity_pod(name: str, namespace: str, node: str | None = None) -> dict:
    """templates/pod-with-node-affinity.yaml: zone In [zone1, zone2]."""
    return _with(pod_manifest(name, node, namespace), {}, affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone1", "zone2"]}]}]}}})


def spreading_pod(name: str, namespace: str, node: str | None = None, soft: bool = False) -> dict:
    """templates/pod-with-(preferred-)topology-spreading.yaml: maxSkew 5 over zones, color=blue."""
    return _with(pod_manifest(name, node, namespace), {"color": "blue"}, topologySpreadConstraints=[{
        "maxSkew": 5, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway" if soft else "DoNotSchedule",
        "labelSelector": {"matchLabels": {"color": "blue"}}}])


def inclusion_policy_pod(name: str, namespace: str) -> dict:
    """templates/pod-with-node-inclusion-policy.yaml: one foo=bar pod per hostname, taints honored."""
    return _with(pod_manifest(name, None, namespace), {"foo": "bar"}, topologySpreadConstraints=[{
        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
        "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Honor",
        "labelSelector": {"matchLabels": {"foo": "bar"}}}])


def _workload(name: str, nodes: list[dict], running: list[dict], measured: list[dict]) -> BenchWorkload:
    objects = [SourcedObject(obj, "<bench>", "") for obj in nodes + running + measured]
    cluster = cluster_from_objects(objects)
    return BenchWorkload(name, cluster, cluster.pending_pods)


def _node_name(i: int) -> str:
    return f"scheduler-perf-node-{i}"


def _zoned(nodes: int, zones: list[str] | None) -> list[dict]:
    """labelNodePrepareStrategy hands zone values out round-robin."""
    return [node_manifest(i, zones[i % len(zones)] if zones else None) for i in range(nodes)]


def _same(name, zones, init_pod, measured_pod):
    """A workload whose init pods (in sched-0, placed round-robin) and measured pods (sched-1) share a template."""
    def build(nodes: int, init: int, measured: int) -> BenchWorkload:
        running = [init_pod(f"init-{i}", "sched-0", _node_name(i % nodes)) for i in range(init)]
        return _workload(name, _zoned(nodes, zones), running,
                         [measured_pod(f"measured-{i}", "sched-1") for i in range(measured)])
    return build


def scheduling_pod_anti_affinity(nodes: int = 5000, running: int = 1000,
                                 measured: int = 2000) -> BenchWorkload:
    """SchedulingPodAntiAffinity: required anti-affinity on hostname."""
    return _same("SchedulingPodAntiAffinity", None, anti_affinity_pod, anti_affinity_pod)(nodes, running, measured)


def scheduling_pod_affinity(nodes: int = 5000, running: int = 5000, measured: int = 5000) -> BenchWorkload:
    """SchedulingPodAffinity: every node in zone1; required affinity on zone."""
    return _same("SchedulingPodAffinity", ["zone1"], affinity_pod, affinity_pod)(nodes, running, measured)


def topology_spreading(nodes: int = 5000, running: int = 5000, measured: int = 5000,
                       soft: bool = False) -> BenchWorkload:
    """(Preferred)TopologySpreading: nodes in 3 zones, plain pods running, spreading pods measured."""
    name = "PreferredTopologySpreading" if soft else "TopologySpreading"
    return _same(name, ["moon-1", "moon-2", "moon-3"], lambda n, ns, node: pod_manifest(n, node, ns),
                 lambda n, ns: spreading_pod(n, ns, soft=soft))(nodes, running, measured)


def mixed_scheduling_base_pod(nodes: int = 5000, each: int = 2000, measured: int = 5000) -> BenchWorkload:
    """MixedSchedulingBasePod: 2000 each of plain, affinity, anti-affinity, preferred affinity and preferred
    anti-affinity pods running; plain pods measured."""
    makers = [lambda n, node: pod_manifest(n, node, "sched-0"),
              lambda n, node: affinity_pod(n, "sched-0", node),
              lambda n, node: anti_affinity_pod(n, "sched-0", node),
              lambda n, node: preferred_pod(n, "sched-0", node, anti=False),
              lambda n, node: preferred_pod(n, "sched-0", node, anti=True)]
    init = [make(f"init-{kind}-{i}", _node_name((kind * each + i) % nodes))
            for kind, make in enumerate(makers) for i in range(each)]
    return _workload("MixedSchedulingBasePod", _zoned(nodes, ["zone1"]), init,
                     [pod_manifest(f"measured-{i}", None, "namespace-7") for i in range(measured)])


def scheduling_with_node_inclusion_policy(nodes: int = 5000, running: int = 0,
                                          measured: int = 4000) -> BenchWorkload:
    """SchedulingWithNodeInclusionPolicy: a fifth of the nodes tainted foo:NoSchedule; one pod per untainted
    node, spread by hostname with the taint policy honored."""
    tainted = nodes // 5
    node_list = _zoned(nodes, None)
    for manifest in node_list[nodes - tainted:]:
        manifest["spec"] = {"taints": [{"key": "foo", "effect": "NoSchedule"}]}
    return _workload("SchedulingWithNodeInclusionPolicy", node_list, [],
                     [inclusion_policy_pod(f"measured-{i}", "namespace-2") for i in range(measured)])


# templates/pod-low-priority.yaml, pod-high-priority.yaml and pod-high-priority-large-cpu.yaml
LOW_PRIORITY_REQUESTS = {"cpu": "900m", "memory": "500Mi"}
HIGH_PRIORITY_REQUESTS = {"cpu": "3000m", "memory": "500Mi"}
LARGE_CPU_REQUESTS = {"cpu": "9", "memory": "500Mi"}
HIGH_PRIORITY = 10
# The churn op creates one high-priority pod every 200 ms while the measured pods are created; at
# upstream's CI floor (570 and 590 pods/s) that is one per 114 and 118 measured pods, interleaved so.
CHURN_EVERY = {"PreemptionAsync": 570 // 5, "Unschedulable": 590 // 5}


def low_priority_pod(name: str, node: str | None) -> dict:
    manifest = pod_manifest(name, node, "default", LOW_PRIORITY_REQUESTS)
    manifest["spec"]["terminationGracePeriodSeconds"] = 0
    return manifest


def high_priority_pod(name: str, requests: dict) -> dict:
    manifest = pod_manifest(name, None, "default", requests)
    manifest["spec"]["priority"] = HIGH_PRIORITY
    return manifest


def preemption_basic(nodes: int = 1000, init: int = 4000, measured: int = 1000) -> BenchWorkload:
    """PreemptionBasic (default_preemption/performance-config.yaml): low-priority pods of 900m fill every
    node to 3.6 of 4 cpu (4 a node, placed round-robin); each measured high-priority pod of 3 cpu
    preempts three of them."""
    running = [low_priority_pod(f"init-{i}", _node_name(i % nodes)) for i in range(init)]
    return _workload("PreemptionBasic", _zoned(nodes, None), running,
                     [high_priority_pod(f"measured-{i}", HIGH_PRIORITY_REQUESTS) for i in range(measured)])


def _interleaved(name: str, measured: int, churn) -> list[dict]:
    """``measured`` plain pods with a churn pod after every CHURN_EVERY[name] of them."""
    every = CHURN_EVERY[name]
    out = []
    for i in range(measured):
        out.append(pod_manifest(f"measured-{i}"))
        if (i + 1) % every == 0:
            out.append(churn(f"churn-{(i + 1) // every - 1}"))
    return out


def preemption_async(nodes: int = 5000, init: int = 20000, measured: int = 5000) -> BenchWorkload:
    """PreemptionAsync: PreemptionBasic's cluster; the measured pods are plain ones, with a high-priority
    pod (3 cpu, preempting three low-priority pods) between every 114 of them."""
    running = [low_priority_pod(f"init-{i}", _node_name(i % nodes)) for i in range(init)]
    return _workload("PreemptionAsync", _zoned(nodes, None), running, _interleaved(
        "PreemptionAsync", measured, lambda n: high_priority_pod(n, HIGH_PRIORITY_REQUESTS)))


def unschedulable(nodes: int = 5000, init: int = 100, measured: int = 10000) -> BenchWorkload:
    """Unschedulable: plain pods running (round-robin) and measured, with a high-priority pod asking 9 cpu
    (more than any node has: it never schedules, and preemption cannot help) between every 118."""
    running = [pod_manifest(f"init-{i}", _node_name(i % nodes)) for i in range(init)]
    workload = _workload("Unschedulable", _zoned(nodes, None), running, _interleaved(
        "Unschedulable", measured, lambda n: high_priority_pod(n, LARGE_CPU_REQUESTS)))
    workload.unplaceable = frozenset(p.key for p in workload.measured if p.name.startswith("churn-"))
    return workload


@dataclass(frozen=True)
class WorkloadSpec:
    """A named workload at upstream's size, its CI floor (pods/s at 5000 nodes, from
    test/integration/scheduler_perf/*/performance-config.yaml) and a generator that scales init and
    measured pods with the node count."""

    name: str
    build: object  # (nodes, init, measured) -> BenchWorkload
    nodes: int
    init: int
    measured: int
    floor: float | None
    # run only when named: it takes about a minute (PreemptionBasic: its 1000 preemptors, all pending at once,
    # are tried again at each of their 3000 victims' deletions, as upstream's queue tries them)
    by_name_only: bool = False

    def make(self, nodes: int) -> BenchWorkload:
        scale = nodes / self.nodes
        return self.build(nodes, max(int(self.init * scale), 0), max(int(self.measured * scale), 1))


WORKLOADS: dict[str, WorkloadSpec] = {
    spec.name: spec for spec in (
        WorkloadSpec("SchedulingBasic", scheduling_basic, 5000, 1000, 10000, 680),
        WorkloadSpec("SchedulingBasic_50000Pods", scheduling_basic, 5000, 5000, 50000, 810),
        WorkloadSpec("SchedulingNodeAffinity", _same("SchedulingNodeAffinity", ["zone1"], node_affinity_pod,
                                                     node_affinity_pod), 5000, 5000, 10000, 220),
        WorkloadSpec("SchedulingPodAntiAffinity", scheduling_pod_anti_affinity, 5000, 1000, 2000, 60),
        WorkloadSpec("SchedulingPodAffinity", scheduling_pod_affinity, 5000, 5000, 5000, 35),
        WorkloadSpec("SchedulingPreferredPodAffinity", _same(
            "SchedulingPreferredPodAffinity", None, lambda n, ns, node: preferred_pod(n, ns, node, anti=False),
            lambda n, ns: preferred_pod(n, ns, None, anti=False)), 5000, 5000, 5000, 90),
        WorkloadSpec("SchedulingPreferredPodAntiAffinity", _same(
            "SchedulingPreferredPodAntiAffinity", None, lambda n, ns, node: preferred_pod(n, ns, node, anti=True),
            lambda n, ns: preferred_pod(n, ns, None, anti=True)), 5000, 5000, 5000, 90),
        WorkloadSpec("TopologySpreading", topology_spreading, 5000, 5000, 5000, 460),
        WorkloadSpec("PreferredTopologySpreading", lambda n, i, m: topology_spreading(n, i, m, soft=True),
                     5000, 5000, 5000, 340),
        WorkloadSpec("MixedSchedulingBasePod", lambda n, i, m: mixed_scheduling_base_pod(n, i // 5, m),
                     5000, 10000, 5000, 140),
        WorkloadSpec("SchedulingWithNodeInclusionPolicy", scheduling_with_node_inclusion_policy,
                     5000, 0, 4000, 270),
        # default_preemption/performance-config.yaml: PreemptionBasic's 1000Nodes has no threshold.
        WorkloadSpec("PreemptionBasic", preemption_basic, 1000, 4000, 1000, None, by_name_only=True),
        WorkloadSpec("PreemptionAsync", preemption_async, 5000, 20000, 5000, 570),
        WorkloadSpec("Unschedulable", unschedulable, 5000, 100, 10000, 590),
    )
}

TOPOLOGY_WORKLOADS = {
    "SchedulingPodAntiAffinity": scheduling_pod_anti_affinity,
    "SchedulingPodAffinity": scheduling_pod_affinity,
    "TopologySpreading": topology_spreading,
    "PreferredTopologySpreading": lambda nodes, running, measured: topology_spreading(nodes, running, measured,
                                                                                      soft=True),
    "MixedSchedulingBasePod": mixed_scheduling_base_pod,
}
