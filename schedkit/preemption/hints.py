"""QueueingHints for the batch with preemption: does a cluster event move a rejected pod back to the queue?

Upstream's plugins register a hint per event (EventsToRegister) that looks at the object that changed;
the batch model (``batch.py``) asks them about each bound pod added or deleted since a pod's last attempt:

- NodeResourcesFit (noderesources/fit.go isSchedulableAfterPodEvent): any scheduled pod deleted.
- NodePorts (nodeports/node_ports.go isSchedulableAfterPodDeleted): a deleted pod that used a host port
  the pod wants.
- InterPodAffinity (interpodaffinity/plugin.go isSchedulableAfterPodChange): an added pod that matches all
  the pod's required affinity terms; a deleted pod that matches all its required anti-affinity terms
  (namespace labels not consulted).
- PodTopologySpread (podtopologyspread/plugin.go isSchedulableAfterPodChange): a pod of the same
  namespace whose labels match the selector of any of the pod's DoNotSchedule constraints (its own, or
  the defaults).
- Any other plugin: every event it registers (``requeue_events``).
"""

from __future__ import annotations

from ..framework.plugin import requeued_on
from ..objects import Pod
from ..reference import SelectorError, matches_all_terms, pod_affinity_info, port_conflict, spread_constraints

POD_ADD, POD_DELETE = "pod_add", "pod_delete"


def requeues(plugin, pod: Pod, event: str, other: Pod, args: dict, objects: list[dict]) -> bool:
    """Whether ``event`` (``other``, a bound pod, added or deleted) moves ``pod``, which ``plugin``
    rejected, back to the queue. ``args``: the profile's pluginConfig args; ``objects``: the cluster's
    Services, ReplicaSets, ... (PodTopologySpread's default constraints)."""
    if event not in requeued_on(plugin):
        return False
    name = plugin.name
    if name == "NodePorts" and event == POD_DELETE:
        return any(port_conflict(wanted, used) for wanted in pod.host_ports for used in other.host_ports)
    if name == "InterPodAffinity":
        info = pod_affinity_info(pod)
        if info.error is not None:
            return True  # upstream: the hint's error queues the pod
        return matches_all_terms(info.required if event == POD_ADD else info.required_anti, other)
    if name == "PodTopologySpread":
        if other.namespace != pod.namespace:
            return False
        try:
            constraints = spread_constraints(pod, args.get("PodTopologySpread"), objects, "DoNotSchedule")
        except SelectorError:
            return True
        return any(c.selector.matches(other.labels) for c in constraints)
    return True


__all__ = ["POD_ADD", "POD_DELETE", "requeues"]
