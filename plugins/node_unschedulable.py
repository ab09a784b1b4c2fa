"""NodeUnschedulable (Filter): nodes with spec.unschedulable take only pods that tolerate the
``node.kubernetes.io/unschedulable:NoSchedule`` taint.

Upstream: pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.framework.plugin import Code, Kernels, Plugin, kernel
from schedkit.objects import Taint
from schedkit.taints import tolerates

ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")

NodeUnschedulableState = namedtuple(
    "NodeUnschedulableState",
    [
        "tolerant",  # bool [pods]: the pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint
    ],
)


@kernel
def _filter(nodes, pods, p, n, state):
    tolerant = state.tolerant
    if nodes.unschedulable[n] and not tolerant[p]:
        return 1
    return 0


class NodeUnschedulable(Plugin):
    name = "NodeUnschedulable"
    kernels = Kernels(filter=_filter)
    reason_table = {1: ERR_REASON_UNSCHEDULABLE}
    failure_status = Code.UnschedulableAndUnresolvable
    node_local = True
    # pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go EventsToRegister: node events
    # only.
    requeue_events = ("node_add",)

    def signature(self, pod):
        return any(tolerates(t, UNSCHEDULABLE_TAINT) for t in pod.tolerations)

    def prepare(self, cluster, pods, pod_columns):
        tolerant = np.array([any(tolerates(t, UNSCHEDULABLE_TAINT) for t in pod.tolerations) for pod in pods],
                            dtype=np.bool_)
        return NodeUnschedulableState(tolerant)
