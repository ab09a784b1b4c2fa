"""A complete third-party plugin, as documented in docs/plugins.md and tested in tests/test_plugin_api.py.

PreferCheapNodes (Score): prefer nodes whose label ``example.com/hourly-cost`` (an integer, cents per
hour) is low. Nodes without the label score 0. It also filters out nodes labelled
``example.com/retiring=true`` (Filter), to show a filter with its own reason string.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit import Code, Kernels, Plugin, kernel
from schedkit.nodeselector import node_label

RETIRING = 1  # our failure code

# What prepare returns and every kernel receives as ``state``: label ids interned once per batch, read by
# name. Defined once, at module level: numba compiles a kernel per argument type, and a namedtuple's
# type is its class.
PreferCheapNodesState = namedtuple(
    "PreferCheapNodesState",
    [
        "retiring_key",  # int64 [1]: label-key id of example.com/retiring
        "true_value",  # int64 [1]: label-value id of "true"
        "cost_key",  # int64 [1]: label-key id of the cost label (arg costLabel)
    ],
)


@kernel
def _filter(nodes, pods, p, n, state):
    retiring_key, true_value = state.retiring_key[0], state.true_value[0]
    if node_label(nodes, n, retiring_key) == true_value:
        return RETIRING
    return 0


@kernel
def _score(nodes, pods, p, n, state):
    cost_key = state.cost_key[0]
    value = node_label(nodes, n, cost_key)
    if value < 0 or not nodes.value_is_int[value]:
        return 0
    return max(nodes.value_int[value], 0)  # raw cost; NormalizeScore turns it into 0..100, cheapest highest


@kernel
def _normalize(nodes, pods, p, feasible, scores, count, state):
    highest = 0
    for j in range(count):
        highest = max(highest, scores[j])
    for j in range(count):
        scores[j] = 100 if highest == 0 else 100 - scores[j] * 100 // highest


class PreferCheapNodes(Plugin):
    name = "PreferCheapNodes"
    kernels = Kernels(filter=_filter, score=_score, normalize=_normalize)
    reason_table = {RETIRING: "node(s) are retiring"}
    failure_status = Code.UnschedulableAndUnresolvable
    node_local = True  # answers depend only on the node's own labels
    # A node it filtered out stays retiring whatever pods come and go: only a new node can help.
    requeue_events = ("node_add",)

    def __init__(self, args=None):
        args = dict(args or {})
        self.cost_label = args.pop("costLabel", "example.com/hourly-cost")
        if args:
            raise ValueError(f"unknown args {sorted(args)}")

    def signature(self, pod):
        return ()  # the pod does not matter to this plugin

    def prepare(self, cluster, pods, pod_columns):
        ids = lambda value: np.array([value], dtype=np.int64)  # noqa: E731
        return PreferCheapNodesState(retiring_key=ids(cluster.label_keys("example.com/retiring")),
                                     true_value=ids(cluster.label_values("true")),
                                     cost_key=ids(cluster.label_keys(self.cost_label)))
