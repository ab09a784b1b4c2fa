"""What the fast batch with preemption (``hybrid.FastBatch``) covers: one profile with DefaultPreemption
whose Filter plugins all have a plain-Python version, no Permit plugins, no host ports and no inter-pod
(anti-)affinity on any pod, no topology spread on queued pods, no pending pod nominated outside the
queue. Within that, a pod's Filter verdict on a node depends on the pod and the node's resources only,
which the fast batch's shortcuts rely on."""

from __future__ import annotations

from ..cluster import Cluster
from ..objects import Pod
from ..reference import cluster_view, spread_constraints
from .postfilter import preemption_plugin, reference_covers


def covers(scheduler, cluster: Cluster, pods: list[Pod], queue: list[int]):
    """The profile the fast batch runs, or None when the batch is outside what it covers."""
    names = {pods[row].scheduler_name for row in queue}
    if len(names) != 1:
        return None
    profile = scheduler.profiles[next(iter(names))]
    if len(scheduler.profiles) != 1 or preemption_plugin(profile) is None or not reference_covers(profile):
        return None
    if profile.points.get("permit"):
        return None
    everyone = list(cluster.pods) + [pods[row] for row in queue]
    if any(pod.host_ports or has_pod_affinity(pod) for pod in everyone):
        return None
    queued = {pods[row].key for row in queue}
    if any(pod.nominated_node and not pod.node_name and pod.key not in queued for pod in cluster.pods):
        return None
    view = cluster_view(scheduler, cluster, [], {}, profile.scheduler_name)
    args = view.args.get("PodTopologySpread")
    objects = view.objects
    for row in queue:
        pod = pods[row]
        if spread_constraints(pod, args, objects, "DoNotSchedule") or \
                spread_constraints(pod, args, objects, "ScheduleAnyway"):
            return None
    return profile


def has_pod_affinity(pod: Pod) -> bool:
    affinity = ((pod.raw.get("spec") or {}).get("affinity") or {}) if pod.raw else {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity"))


__all__ = ["covers", "has_pod_affinity"]
