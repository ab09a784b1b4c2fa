"""NodeResourcesFit: Filter on requests against free allocatable; Score by one of three strategies.

Upstream: pkg/scheduler/framework/plugins/noderesources/fit.go (``fitsRequest``),
resource_allocation.go (which totals each strategy sees), least_allocated.go, most_allocated.go,
requested_to_capacity_ratio.go, and helper/shape_score.go (``BuildBrokenLinearFunction``).

Filter: "Too many pods" first, then cpu, memory, ephemeral-storage, then scalar resources, each only
when requested; ``UnschedulableAndUnresolvable`` when some request exceeds the node's whole allocatable
(preemption cannot help), else ``Unschedulable``. Scoring uses the non-zero requests (100m / 200Mi per
container without a request) for cpu and memory, exact requests for everything else; a scalar the pod
does not request, or any resource with allocatable 0, drops out of the weighted average.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.framework.config import check_fields
from schedkit.framework.plugin import SUCCESS, Code, Kernels, Plugin, kernel
from schedkit.resources import is_extended, is_scalar, resource_weights

LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO = 0, 1, 2
STRATEGIES = {"LeastAllocated": LEAST_ALLOCATED, "MostAllocated": MOST_ALLOCATED,
              "RequestedToCapacityRatio": REQUESTED_TO_CAPACITY_RATIO}
MAX_UTILIZATION = 100
MAX_CUSTOM_PRIORITY_SCORE = 10  # shape scores are 0..10, scaled to 0..100

TOO_MANY_PODS = 1  # failure code bits: bit 0 pod count, bit 1 + r resource column r
UNRESOLVABLE = 1 << 62

NodeResourcesFitState = namedtuple(
    "NodeResourcesFitState",
    [
        "checked",  # bool [resources]: per resource column: counted by the filter (not ignored, tracked)
        "columns",  # int64 [scoring resources]: each one's resource column, -1 when no node or pod has it
        "weights",  # int64 [scoring resources]: each one's weight
        "strategy",  # int64 [1]: LEAST_ALLOCATED, MOST_ALLOCATED or REQUESTED_TO_CAPACITY_RATIO
        "shape_utilization",  # int64 [shape points]: RequestedToCapacityRatio's utilization, increasing
        "shape_score",  # int64 [shape points]: its score at each point, scaled to 0..100
    ],
)


@kernel
def _pre_filter(nodes, pods, p, state, mask):
    """Upstream's PreFilter stores the pod's request for Filter; schedkit's columns already hold it. It
    never rejects: its one rejection needs SidecarContainers off, and that gate is GA."""
    return SUCCESS


@kernel
def _pre_score(nodes, pods, p, feasible, count, state):
    """Upstream's PreScore stores the pod's request list for Score and never returns Skip; Score
    computes the list itself when PreScore did not run (fit.go Score)."""
    return SUCCESS


@kernel
def _filter(nodes, pods, p, n, state):
    checked = state.checked  # bool per resource column: counted by the filter (not ignored, tracked)
    code = 0
    if nodes.pod_count[n] + 1 > nodes.allowed_pods[n]:
        code |= TOO_MANY_PODS
    for r in range(pods.requests.shape[1]):
        request = pods.requests[p, r]
        if request <= 0 or not checked[r]:
            continue
        allocatable = nodes.allocatable[n, r]
        if request > allocatable - nodes.requested[n, r]:
            code |= 1 << (1 + r)
            if request > allocatable:
                code |= UNRESOLVABLE
    return code


@kernel
def _go_div(a, b):
    """Go's integer division truncates toward zero; Python's // floors."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@kernel
def _broken_linear(utilization, shape_utilization, shape_score):
    for i in range(shape_utilization.shape[0]):
        if utilization <= shape_utilization[i]:
            if i == 0:
                return shape_score[0]
            return shape_score[i - 1] + _go_div(
                (shape_score[i] - shape_score[i - 1]) * (utilization - shape_utilization[i - 1]),
                shape_utilization[i] - shape_utilization[i - 1])
    return shape_score[shape_score.shape[0] - 1]


@kernel
def _score(nodes, pods, p, n, state):
    columns, weights, strategy = state.columns, state.weights, state.strategy[0]
    shape_utilization, shape_score = state.shape_utilization, state.shape_score
    node_score = 0
    weight_sum = 0
    for i in range(columns.shape[0]):
        r = columns[i]
        if r < 0:
            continue
        if r < 2:  # cpu, memory: the non-zero totals (resource_allocation.go, useRequested=false)
            requested = nodes.nonzero_requested[n, r] + pods.nonzero_requests[p, r]
        else:
            if r > 2 and pods.requests[p, r] == 0:  # a scalar the pod does not request
                continue
            requested = nodes.requested[n, r] + pods.requests[p, r]
        allocatable = nodes.allocatable[n, r]
        if allocatable == 0:
            continue
        weight = weights[i]
        if strategy == LEAST_ALLOCATED:
            score = 0 if requested > allocatable else (allocatable - requested) * MAX_UTILIZATION // allocatable
        elif strategy == MOST_ALLOCATED:
            if requested > allocatable:
                requested = allocatable
            score = requested * MAX_UTILIZATION // allocatable
        else:
            utilization = MAX_UTILIZATION
            if requested <= allocatable:
                utilization = requested * MAX_UTILIZATION // allocatable
            score = _broken_linear(utilization, shape_utilization, shape_score)
            if score <= 0:  # a zero score leaves the average entirely
                continue
        node_score += score * weight
        weight_sum += weight
    if weight_sum == 0:
        return 0
    if strategy == REQUESTED_TO_CAPACITY_RATIO:
        return (2 * node_score + weight_sum) // (2 * weight_sum)  # math.Round of a non-negative quotient
    return node_score // weight_sum


def _string_list(args: dict, key: str) -> list[str]:
    value = args.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key}: expected a list of strings")
    return value


class NodeResourcesFit(Plugin):
    name = "NodeResourcesFit"
    # fit.go: PreFilter, Filter, PreScore, Score (``var _ fwk.XPlugin = &Fit{}``).
    kernels = Kernels(pre_filter=_pre_filter, filter=_filter, pre_score=_pre_score, score=_score)
    node_local = True
    # fit.go getPreFilterState, as Filter returns it when PreFilter did not run.
    missing_pre_filter_state = 'error reading "PreFilterNodeResourcesFit" from cycleState: not found'
    # pkg/scheduler/framework/plugins/noderesources/fit.go EventsToRegister: an assigned pod deleted frees
    # room; a node added may fit.
    requeue_events = ("pod_delete", "node_add")

    def signature(self, pod):
        return (tuple(sorted(pod.requests.items())), pod.nonzero_cpu, pod.nonzero_memory)

    def __init__(self, args=None):
        args = dict(args or {})
        strategy = args.pop("scoringStrategy", None) or {"type": "LeastAllocated"}
        self.ignored_resources = set(_string_list(args, "ignoredResources"))
        self.ignored_groups = set(_string_list(args, "ignoredResourceGroups"))
        for i, group in enumerate(sorted(self.ignored_groups)):
            if "/" in group:
                raise ValueError(f"ignoredResourceGroups[{i}]: Invalid value: \"{group}\": resource group name can't "
                                 "contain '/'")
        args.pop("ignoredResources", None)
        args.pop("ignoredResourceGroups", None)
        if args:
            check_fields(args, "", ("scoringStrategy", "ignoredResources", "ignoredResourceGroups"))  # every key left is unknown
        if not isinstance(strategy, dict):
            raise ValueError("scoringStrategy: expected a mapping")
        check_fields(strategy, "scoringStrategy", ("type", "resources", "requestedToCapacityRatio"))
        kind = strategy.get("type") or "LeastAllocated"
        if kind not in STRATEGIES:
            raise ValueError(f'scoringStrategy.type: Unsupported value: "{kind}": supported values: '
                             '"LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"')
        self.strategy = STRATEGIES[kind]
        self.resources = resource_weights(strategy.get("resources"), "scoringStrategy.resources")
        ratio = strategy.get("requestedToCapacityRatio")
        if isinstance(ratio, dict):  # decoding is strict, and comes before any validation (scheme.go)
            check_fields(ratio, "scoringStrategy.requestedToCapacityRatio", ("shape",))
            for i, point in enumerate(ratio.get("shape") or []):
                if isinstance(point, dict):
                    check_fields(point, f"scoringStrategy.requestedToCapacityRatio.shape[{i}]", ("utilization", "score"))
        if self.strategy == REQUESTED_TO_CAPACITY_RATIO and ratio is None:
            raise ValueError("scoringStrategy.requestedToCapacityRatio: Required value: must be specified when type "
                             "is RequestedToCapacityRatio")
        if self.strategy != REQUESTED_TO_CAPACITY_RATIO and ratio is not None:
            raise ValueError("scoringStrategy.requestedToCapacityRatio: Forbidden: must be nil when type is not "
                             "RequestedToCapacityRatio")
        self.shape = self._shape(ratio) if ratio is not None else [(0, 0)]

    @staticmethod
    def _shape(ratio) -> list[tuple[int, int]]:
        shape = ratio.get("shape") if isinstance(ratio, dict) else None
        if not shape:
            raise ValueError("scoringStrategy.shape: Required value: at least one point must be specified")
        points = []
        for i, point in enumerate(shape):
            if not isinstance(point, dict):
                raise ValueError(f"scoringStrategy.shape[{i}]: expected a mapping")
            check_fields(point, f"scoringStrategy.shape[{i}]", ("utilization", "score"))
            utilization, score = point.get("utilization", 0), point.get("score", 0)
            for field, value in (("utilization", utilization), ("score", score)):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"scoringStrategy.shape[{i}].{field}: Invalid value: {value!r}: must be an integer")
            if i > 0 and utilization <= points[-1][0]:
                raise ValueError(f"scoringStrategy.shape[{i}].utilization: Invalid value: {utilization}: values must be "
                                 "sorted in increasing order")
            if not 0 <= utilization <= 100:
                raise ValueError(f"scoringStrategy.shape[{i}].utilization: Invalid value: {utilization}: not in valid "
                                 "range [0, 100]")
            if not 0 <= score <= MAX_CUSTOM_PRIORITY_SCORE:
                raise ValueError(f"scoringStrategy.shape[{i}].score: Invalid value: {score}: not in valid range [0, 10]")
            points.append((utilization, score))
        return points

    def _checked(self, name: str) -> bool:
        if not is_scalar(name):
            return name in ("cpu", "memory", "ephemeral-storage")
        if is_extended(name):  # only extended resources can be ignored (fit.go fitsRequest)
            if name in self.ignored_resources or name.split("/", 1)[0] in self.ignored_groups:
                return False
        return True

    def prepare(self, cluster, pods, pod_columns):
        self._resources = list(cluster.resources)
        if len(self._resources) > 61:
            raise ValueError("NodeResourcesFit: more than 61 resource kinds in one cluster")
        column = {name: i for i, name in enumerate(cluster.resources)}
        checked = np.array([self._checked(name) for name in cluster.resources], dtype=np.bool_)
        return NodeResourcesFitState(
            checked,
            np.array([column.get(name, -1) for name, _ in self.resources], dtype=np.int64),
            np.array([weight for _, weight in self.resources], dtype=np.int64),
            np.array([self.strategy], dtype=np.int64),
            np.array([u for u, _ in self.shape], dtype=np.int64),
            np.array([s * (100 // MAX_CUSTOM_PRIORITY_SCORE) for _, s in self.shape], dtype=np.int64),
        )

    def reasons(self, code: int) -> list[str]:
        reasons = ["Too many pods"] if code & TOO_MANY_PODS else []
        for r, name in enumerate(self._resources):
            if code & (1 << (1 + r)):
                reasons.append(f"Insufficient {name}")
        return reasons

    def status(self, code: int) -> Code:
        return Code.UnschedulableAndUnresolvable if code & UNRESOLVABLE else Code.Unschedulable
