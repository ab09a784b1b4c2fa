"""NodePorts: a pod's hostPorts must not conflict with ports already used on the node.

Upstream: pkg/scheduler/framework/plugins/nodeports/node_ports.go and pkg/scheduler/framework/types.go
(``HostPortInfo.CheckConflict``): two ports conflict when protocol and port are equal and the host IPs
are equal or either is 0.0.0.0. The plugin owns its state: a table of used (node, protocol, ip, port)
rows, filled from running pods and extended at Reserve.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.framework.plugin import SKIP, SUCCESS, Kernels, Plugin, kernel
from schedkit.state import Interner

ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
ANY_IP = 0  # "0.0.0.0" is interned first

NodePortsState = namedtuple(
    "NodePortsState",
    [
        # The pods' host ports, CSR:
        "pod_indptr",  # int64 [pods + 1]
        "pod_proto",  # int64 [pod ports]: interned protocol
        "pod_ip",  # int64 [pod ports]: interned host IP (ANY_IP: 0.0.0.0)
        "pod_port",  # int64 [pod ports]: port number
        # The used-ports table, rows (node, protocol, ip, port): running pods', then each one reserved.
        "used_node",  # int64 [capacity]: node row
        "used_proto",  # int64 [capacity]
        "used_ip",  # int64 [capacity]
        "used_port",  # int64 [capacity]
        "used_count",  # int64 [1]: rows in use
        "conflict",  # bool [nodes]: scratch: PreFilter's verdict per node (a used port conflicts)
    ],
)


@kernel
def _conflicts(ip_a, ip_b):
    return ip_a == ip_b or ip_a == ANY_IP or ip_b == ANY_IP


@kernel
def _pre_filter(nodes, pods, p, state, mask):
    pod_indptr, pod_proto, pod_ip, pod_port = state.pod_indptr, state.pod_proto, state.pod_ip, state.pod_port
    used_node, used_proto, used_ip, used_port = state.used_node, state.used_proto, state.used_ip, state.used_port
    used_count, conflict = state.used_count, state.conflict
    if pod_indptr[p] == pod_indptr[p + 1]:
        return SKIP
    # One pass over the used-ports table marks every node with a conflict: O(used ports) per pod
    # instead of a scan per node.
    conflict[:] = False
    for u in range(used_count[0]):
        for k in range(pod_indptr[p], pod_indptr[p + 1]):
            if (used_port[u] == pod_port[k] and used_proto[u] == pod_proto[k]
                    and _conflicts(used_ip[u], pod_ip[k])):
                conflict[used_node[u]] = True
    return SUCCESS


@kernel
def _filter(nodes, pods, p, n, state):
    conflict = state.conflict
    if conflict[n]:
        return 1
    return 0


@kernel
def _reserve(nodes, pods, p, n, state):
    pod_indptr, pod_proto, pod_ip, pod_port = state.pod_indptr, state.pod_proto, state.pod_ip, state.pod_port
    used_node, used_proto, used_ip, used_port = state.used_node, state.used_proto, state.used_ip, state.used_port
    used_count = state.used_count
    for k in range(pod_indptr[p], pod_indptr[p + 1]):
        u = used_count[0]
        used_node[u] = n
        used_proto[u] = pod_proto[k]
        used_ip[u] = pod_ip[k]
        used_port[u] = pod_port[k]
        used_count[0] = u + 1


@kernel
def _unreserve(nodes, pods, p, n, state):
    pod_indptr = state.pod_indptr
    used_node, used_proto, used_ip, used_port = state.used_node, state.used_proto, state.used_ip, state.used_port
    used_count = state.used_count
    # Reserve appended this pod's rows last; Unreserve runs before any other pod reserves.
    for k in range(pod_indptr[p], pod_indptr[p + 1]):
        u = used_count[0] - 1
        used_node[u] = 0
        used_proto[u] = 0
        used_ip[u] = 0
        used_port[u] = 0
        used_count[0] = u


class NodePorts(Plugin):
    name = "NodePorts"
    kernels = Kernels(pre_filter=_pre_filter, filter=_filter, reserve=_reserve, unreserve=_unreserve)
    reason_table = {1: ERR_REASON}
    node_local = True  # a node's conflicts depend only on the ports used on that node
    # node_ports.go: PreFilter and Filter only. The used-port table is what NodeInfo.UsedPorts holds in
    # upstream's cache; Filter fails without PreFilter's state (getPreFilterState).
    reserve_keeps_cache = True
    missing_pre_filter_state = 'reading "PreFilterNodePorts" from cycleState: not found'
    # pkg/scheduler/framework/plugins/nodeports/node_ports.go EventsToRegister: a deleted pod frees its ports;
    # a node added has none used.
    requeue_events = ("pod_delete", "node_add")

    def signature(self, pod):
        return pod.host_ports

    def prepare(self, cluster, pods, pod_columns):
        ips, protocols = Interner(), Interner()
        ips("0.0.0.0")
        running = [(cluster.node_index[pod.node_name], port) for pod in cluster.running for port in pod.host_ports]
        capacity = len(running) + sum(len(pod.host_ports) for pod in pods)
        used_node = np.zeros(capacity, dtype=np.int64)
        used_proto = np.zeros(capacity, dtype=np.int64)
        used_ip = np.zeros(capacity, dtype=np.int64)
        used_port = np.zeros(capacity, dtype=np.int64)
        for u, (n, port) in enumerate(running):
            used_node[u], used_proto[u], used_ip[u], used_port[u] = n, protocols(port.protocol), ips(port.host_ip), port.port
        indptr = np.zeros(len(pods) + 1, dtype=np.int64)
        proto, ip, number = [], [], []
        for i, pod in enumerate(pods):
            for port in pod.host_ports:
                proto.append(protocols(port.protocol))
                ip.append(ips(port.host_ip))
                number.append(port.port)
            indptr[i + 1] = len(number)
        return NodePortsState(indptr, np.asarray(proto, dtype=np.int64), np.asarray(ip, dtype=np.int64),
                              np.asarray(number, dtype=np.int64), used_node, used_proto, used_ip, used_port,
                              np.array([len(running)], dtype=np.int64),
                              np.zeros(max(cluster.num_nodes, 1), dtype=np.bool_))

