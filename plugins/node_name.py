"""NodeName (Filter): a pod with spec.nodeName fits only that node.

Upstream: pkg/scheduler/framework/plugins/nodename/node_name.go.
"""

from __future__ import annotations

from schedkit.framework.plugin import Code, Kernels, Plugin, kernel

ERR_REASON = "node(s) didn't match the requested node name"


@kernel
def _filter(nodes, pods, p, n, state):
    wanted = pods.node_name[p]
    if wanted == -1 or wanted == n:
        return 0
    return 1


class NodeName(Plugin):
    name = "NodeName"
    kernels = Kernels(filter=_filter)
    reason_table = {1: ERR_REASON}
    failure_status = Code.UnschedulableAndUnresolvable
    node_local = True
    # pkg/scheduler/framework/plugins/nodename/node_name.go EventsToRegister: a node added (it may be the one
    # the pod names).
    requeue_events = ("node_add",)

    def signature(self, pod):
        return pod.node_name
