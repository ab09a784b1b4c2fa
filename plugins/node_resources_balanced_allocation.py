"""NodeResourcesBalancedAllocation (Score): favour nodes whose resource use the pod makes more even.

Upstream v1.36: pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go after
kubernetes/kubernetes#135573. For the configured resources (exact requests, no scoring defaults;
a scalar the pod does not request and any resource with allocatable 0 left out), fractions
requested/allocatable capped at 1 give a balance ``S = int64((1 - std) * 100)``; the score is the change
the pod makes, ``50 + (50 + S_with_pod - S_without_pod) / 2``: 75 means no change. PreScore skips pods
that request none of the resources.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from schedkit.framework.config import check_fields
from schedkit.framework.plugin import SKIP, SUCCESS, Kernels, Plugin, kernel
from schedkit.resources import resource_weights

BalancedAllocationState = namedtuple(
    "BalancedAllocationState",
    [
        "columns",  # int64 [configured resources]: each one's resource column, -1 when no node or pod has it
        "with_pod",  # float64 [configured resources]: scratch: fractions requested/allocatable with the pod
        "without_pod",  # float64 [configured resources]: scratch: the same without it
    ],
)


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    columns = state.columns
    for i in range(columns.shape[0]):
        r = columns[i]
        if r >= 0 and pods.requests[p, r] != 0:
            return SUCCESS
    return SKIP


@kernel
def _balance(fractions, count):
    """int64((1 - std) * 100) over the first ``count`` fractions (std 0 for fewer than two)."""
    std = 0.0
    if count == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif count > 2:
        total = 0.0
        for i in range(count):
            total += fractions[i]
        mean = total / count
        variance = 0.0
        for i in range(count):
            variance += (fractions[i] - mean) * (fractions[i] - mean)
        std = math.sqrt(variance / count)
    return np.int64((1 - std) * 100)


@kernel
def _score(nodes, pods, p, n, state):
    columns, with_pod, without_pod = state.columns, state.with_pod, state.without_pod
    count = 0
    for i in range(columns.shape[0]):
        r = columns[i]
        if r < 0:
            continue
        request = pods.requests[p, r]
        if r > 2 and request == 0:
            continue
        allocatable = nodes.allocatable[n, r]
        if allocatable == 0:
            continue
        used = nodes.requested[n, r]
        with_pod[count] = min((used + request) / allocatable, 1.0)
        without_pod[count] = min(used / allocatable, 1.0)
        count += 1
    return 50 + (50 + _balance(with_pod, count) - _balance(without_pod, count)) // 2


class NodeResourcesBalancedAllocation(Plugin):
    name = "NodeResourcesBalancedAllocation"
    kernels = Kernels(pre_score=_pre_score, score=_score)
    node_local = True

    def signature(self, pod):
        return tuple(sorted(pod.requests.items()))

    def __init__(self, args=None):
        args = dict(args or {})
        raw = args.pop("resources", None)
        if args:
            check_fields(args, "", ("resources",))  # every key left is unknown
        self.resources = [name for name, _ in resource_weights(raw, "resources", must_be_one=True)]

    def prepare(self, cluster, pods, pod_columns):
        column = {name: i for i, name in enumerate(cluster.resources)}
        width = max(len(self.resources), 1)
        return BalancedAllocationState(np.array([column.get(name, -1) for name in self.resources], dtype=np.int64),
                                       np.zeros(width, dtype=np.float64), np.zeros(width, dtype=np.float64))
