"""Nodes and Pods as schedkit reads them from Kubernetes manifests.

Only the fields kube-scheduler looks at are kept. Parsing validates each field and raises
``InputError`` naming the file and field path. Resource requests are computed here, once, with
upstream's rules (staging ``k8s.io/component-helpers/resource/helpers.go`` ``PodRequests``), so
every later stage works with integers: cpu in millicores, everything else in units. Quantities are
summed exactly and only the totals are turned into integers, by ``quantity.to_int_for_resource``
(``MilliValue()`` for cpu, ``Value()`` for the rest), as the scheduler's ``SetMaxResource`` does.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import InputError, join_path
from .quantity import QuantityError, parse_quantity, to_int_for_resource

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"

# pkg/scheduler/util/pod_resources.go: what a container without a cpu/memory request counts as when
# scoring (DefaultMilliCPURequest, DefaultMemoryRequest).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists", "Lt", "Gt")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")

# Well-known PriorityClasses created by the API server (pkg/apis/scheduling/types.go).
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"
PREEMPT_NEVER = "Never"
DEFAULT_TERMINATION_GRACE_SECONDS = 30  # pkg/apis/core/v1 defaults: SetDefaults_PodSpec
PREEMPTION_POLICIES = (PREEMPT_LOWER_PRIORITY, PREEMPT_NEVER)


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str  # "Equal" or "Exists" ("" is normalised to "Equal")
    value: str
    effect: str  # "" means every effect


@dataclass(frozen=True)
class Requirement:
    """One node selector requirement (matchExpressions or matchFields entry)."""

    key: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class NodeSelectorTerm:
    match_expressions: tuple[Requirement, ...]
    match_fields: tuple[Requirement, ...]


@dataclass(frozen=True)
class PreferredSchedulingTerm:
    weight: int
    term: NodeSelectorTerm


@dataclass(frozen=True)
class NodeAffinity:
    # None: no requiredDuringSchedulingIgnoredDuringExecution (no constraint); () matches no node.
    required: tuple[NodeSelectorTerm, ...] | None
    preferred: tuple[PreferredSchedulingTerm, ...]
    # Whether preferredDuringScheduling... was given at all (even empty): upstream's PreScore skips only
    # when it is absent (nodeaffinity.go getPodPreferredNodeAffinity).
    has_preferred: bool = False


@dataclass(frozen=True)
class HostPort:
    protocol: str  # "TCP" when empty
    host_ip: str  # "0.0.0.0" when empty
    port: int


@dataclass(frozen=True)
class ContainerImage:
    names: tuple[str, ...]
    size_bytes: int


@dataclass
class Node:
    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    unschedulable: bool
    allocatable: dict[str, int]  # cpu in millicores, others in units; includes "pods"
    images: tuple[ContainerImage, ...] = ()
    source: str = ""


@dataclass
class Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    node_name: str  # "" when pending
    phase: str
    priority: int
    scheduler_name: str
    requests: dict[str, int]  # exact requests (PodRequests), cpu in millicores; zero entries dropped
    nonzero_cpu: int  # requests with the 100m/200Mi per-container defaults, for scoring
    nonzero_memory: int
    node_selector: dict[str, str]
    node_affinity: NodeAffinity | None
    tolerations: tuple[Toleration, ...]
    host_ports: tuple[HostPort, ...]
    scheduling_gates: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # init containers' then containers' images
    image_volumes: tuple[str, ...] = ()  # spec.volumes[].image.reference
    deletion_timestamp: str | None = None
    # Preemption (pkg/scheduler/framework/preemption): spec.preemptionPolicy after Priority admission,
    # status.nominatedNodeName, status.startTime in nanoseconds since the epoch (None: not started) and
    # whether a DisruptionTarget condition says the scheduler preempted it.
    preemption_policy: str = "PreemptLowerPriority"
    nominated_node: str = ""
    start_time: int | None = None  # nanoseconds since the epoch
    preempted_by_scheduler: bool = False
    uid: str = ""
    # spec.terminationGracePeriodSeconds (API default 30): how long a deleted pod, a preemption victim
    # among them, keeps its node while it terminates (the replay's clock).
    termination_grace_seconds: int = DEFAULT_TERMINATION_GRACE_SECONDS
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the manifest, for later plugins
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def holds_resources(self) -> bool:
        """Pods in phase Succeeded/Failed hold no resources on their node."""
        return self.phase not in ("Succeeded", "Failed")


class _Fields:
    """Typed access to one manifest with field paths in every error."""

    def __init__(self, source: str, base: str):
        self.source = source
        self.base = base

    def error(self, path: str, message: str) -> InputError:
        return InputError(message, self.source, path)

    def mapping(self, value: Any, path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping, got {type(value).__name__}")
        return value

    def sequence(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {type(value).__name__}")
        return value

    def string(self, value: Any, path: str, default: str = "") -> str:
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(path, f"expected a string, got {type(value).__name__}")
        return value

    def integer(self, value: Any, path: str, default: int = 0) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"expected an integer, got {value!r}")
        return value

    def labels(self, value: Any, path: str) -> dict[str, str]:
        labels = self.mapping(value, path)
        for key, val in labels.items():
            if not isinstance(key, str) or not isinstance(val, str):
                raise self.error(join_path(path, str(key)), f"label values must be strings, got {val!r}")
        return dict(labels)

    def quantity(self, value: Any, path: str) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(path, f"invalid quantity {value!r}")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.error(path, f"invalid quantity {value!r}")
            value = repr(value)
        try:
            return parse_quantity(value if isinstance(value, str) else str(value))
        except QuantityError as exc:
            raise self.error(path, str(exc)) from None

    def resource_list(self, value: Any, path: str, allow_negative: bool = False) -> dict[str, Fraction]:
        result = {}
        for name, raw in self.mapping(value, path).items():
            quantity = self.quantity(raw, join_path(path, str(name)))
            if quantity < 0 and not allow_negative:
                raise self.error(join_path(path, str(name)), f"must be greater than or equal to 0, got {raw!r}")
            result[str(name)] = quantity
        return result


# quantity.py's Value()/MilliValue() saturate at the int64 rails, so a total at or past 2**64 converts
# exactly as 2**64 does. Capping there keeps a pod's sum of several huge requests (each of which parsed
# fine, e.g. two containers asking for cpu "9e9999") under quantity.py's magnitude limit, which it
# enforces on every input, and leaves every other total untouched.
_PAST_INT64 = Fraction(2**64)


def _saturating(total: Fraction) -> Fraction:
    """``total``, or the nearest of +/-2**64 when beyond them: the same integer either way."""
    return max(min(total, _PAST_INT64), -_PAST_INT64)


def parse_node(obj: dict[str, Any], source: str = "", base: str = "") -> Node:
    f = _Fields(source, base)
    p = lambda rest: join_path(base, rest) if base else rest  # noqa: E731
    meta = f.mapping(obj.get("metadata"), p("metadata"))
    name = f.string(meta.get("name"), p("metadata.name"))
    if not name:
        raise f.error(p("metadata.name"), "a Node needs a name")
    spec = f.mapping(obj.get("spec"), p("spec"))
    status = f.mapping(obj.get("status"), p("status"))
    taints = []
    for i, raw in enumerate(f.sequence(spec.get("taints"), p("spec.taints"))):
        tp = p(f"spec.taints[{i}]")
        raw = f.mapping(raw, tp)
        effect = f.string(raw.get("effect"), tp + ".effect")
        if effect not in TAINT_EFFECTS:
            raise f.error(tp + ".effect", f"unsupported value {effect!r}: must be one of {', '.join(TAINT_EFFECTS)}")
        taints.append(Taint(f.string(raw.get("key"), tp + ".key"), f.string(raw.get("value"), tp + ".value"), effect))
    allocatable_raw = status.get("allocatable")
    where = "status.allocatable"
    if not allocatable_raw:
        allocatable_raw, where = status.get("capacity"), "status.capacity"
    allocatable = {
        res: to_int_for_resource(res, q) for res, q in f.resource_list(allocatable_raw, p(where)).items()
    }
    images = []
    for i, raw in enumerate(f.sequence(status.get("images"), p("status.images"))):
        ip = p(f"status.images[{i}]")
        raw = f.mapping(raw, ip)
        names = tuple(f.string(n, f"{ip}.names[{j}]") for j, n in enumerate(f.sequence(raw.get("names"), ip + ".names")))
        images.append(ContainerImage(names, f.integer(raw.get("sizeBytes"), ip + ".sizeBytes")))
    unschedulable = spec.get("unschedulable", False)
    if not isinstance(unschedulable, bool):
        raise f.error(p("spec.unschedulable"), f"expected true or false, got {unschedulable!r}")
    return Node(
        name=name,
        labels=f.labels(meta.get("labels"), p("metadata.labels")),
        taints=tuple(taints),
        unschedulable=unschedulable,
        allocatable=allocatable,
        images=tuple(images),
        source=source,
    )


_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME_ERROR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def qualified_name_error(key: str) -> str | None:
    """apimachinery IsQualifiedName: an optional DNS-subdomain prefix and '/', then a name of at most 63
    characters; the message for the first problem found, None when valid."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "prefix part must be a lowercase RFC 1123 subdomain"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME.match(name):
        return QUALIFIED_NAME_ERROR
    return None


def _requirements(f: _Fields, raw: Any, path: str, label_keys: bool = True) -> tuple[Requirement, ...]:
    result = []
    for i, req in enumerate(f.sequence(raw, path)):
        rp = f"{path}[{i}]"
        req = f.mapping(req, rp)
        operator = f.string(req.get("operator"), rp + ".operator")
        if operator not in SELECTOR_OPERATORS:
            raise f.error(rp + ".operator", f"unsupported value {operator!r}: must be one of {', '.join(SELECTOR_OPERATORS)}")
        values = tuple(f.string(v, f"{rp}.values[{j}]") for j, v in enumerate(f.sequence(req.get("values"), rp + ".values")))
        key = f.string(req.get("key"), rp + ".key")
        problem = qualified_name_error(key) if label_keys else None
        if problem:  # API validation (ValidateNodeSelectorRequirement) rejects such pods
            raise f.error(rp + ".key", f'Invalid value: "{key}": {problem}')
        result.append(Requirement(key, operator, values))
    return tuple(result)


def parse_node_selector_term(f: _Fields, raw: Any, path: str) -> NodeSelectorTerm:
    raw = f.mapping(raw, path)
    return NodeSelectorTerm(
        _requirements(f, raw.get("matchExpressions"), path + ".matchExpressions"),
        _requirements(f, raw.get("matchFields"), path + ".matchFields", label_keys=False),
    )


def parse_node_affinity(f: _Fields, raw: Any, path: str) -> NodeAffinity | None:
    if raw is None:
        return None
    raw = f.mapping(raw, path)
    required = None
    req_raw = raw.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req_raw is not None:
        rp = path + ".requiredDuringSchedulingIgnoredDuringExecution"
        req_raw = f.mapping(req_raw, rp)
        required = tuple(
            parse_node_selector_term(f, term, f"{rp}.nodeSelectorTerms[{i}]")
            for i, term in enumerate(f.sequence(req_raw.get("nodeSelectorTerms"), rp + ".nodeSelectorTerms"))
        )
    preferred = []
    pp = path + ".preferredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(f.sequence(raw.get("preferredDuringSchedulingIgnoredDuringExecution"), pp)):
        tp = f"{pp}[{i}]"
        term = f.mapping(term, tp)
        weight = f.integer(term.get("weight"), tp + ".weight")
        if not 1 <= weight <= 100 and weight != 0:
            raise f.error(tp + ".weight", f"must be in the range 1-100, got {weight}")
        preferred.append(PreferredSchedulingTerm(weight, parse_node_selector_term(f, term.get("preference"), tp + ".preference")))
    has_preferred = raw.get("preferredDuringSchedulingIgnoredDuringExecution") is not None
    return NodeAffinity(required, tuple(preferred), has_preferred)


def _container_resources(f: _Fields, container: dict, path: str) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    resources = f.mapping(container.get("resources"), path + ".resources")
    requests = f.resource_list(resources.get("requests"), path + ".resources.requests")
    limits = f.resource_list(resources.get("limits"), path + ".resources.limits")
    # API defaulting (pkg/apis/core/v1/defaults.go): a limit with no request becomes the request.
    for name, limit in limits.items():
        requests.setdefault(name, limit)
    return requests, limits


def _add(total: dict[str, Fraction], extra: dict[str, Fraction]) -> None:
    for name, q in extra.items():
        total[name] = total.get(name, Fraction(0)) + q


def _max_into(total: dict[str, Fraction], other: dict[str, Fraction]) -> None:
    for name, q in other.items():
        if name not in total or q > total[name]:
            total[name] = q


def pod_requests(
    containers: list[dict[str, Fraction]],
    init_containers: list[tuple[dict[str, Fraction], bool]],
    overhead: dict[str, Fraction],
    pod_level: dict[str, Fraction],
    non_missing: dict[str, Fraction] | None = None,
) -> dict[str, Fraction]:
    """PodRequests: sum of containers, max with each init container's need (sidecars started before it
    included), pod-level cpu/memory when set, plus overhead. ``non_missing`` adds a default for each
    container that does not list the resource (the scoring defaults)."""

    def with_defaults(reqs: dict[str, Fraction]) -> dict[str, Fraction]:
        if not non_missing:
            return reqs
        out = dict(reqs)
        for name, q in non_missing.items():
            if name not in reqs:
                out[name] = q
        return out

    total: dict[str, Fraction] = {}
    for reqs in containers:
        _add(total, with_defaults(reqs))
    sidecars: dict[str, Fraction] = {}
    init_need: dict[str, Fraction] = {}
    for reqs, restartable in init_containers:
        reqs = with_defaults(reqs)
        if restartable:
            _add(total, reqs)
            _add(sidecars, reqs)
            need = dict(sidecars)
        else:
            need = dict(reqs)
            _add(need, sidecars)
        _max_into(init_need, need)
    _max_into(total, init_need)
    for name, quantity in pod_level.items():  # IsSupportedPodLevelResource: cpu, memory, hugepages-*
        if name in (CPU, MEMORY) or name.startswith("hugepages-"):
            total[name] = quantity
    _add(total, overhead)
    return total


def parse_pod(
    obj: dict[str, Any],
    source: str = "",
    base: str = "",
    priority_classes: dict[str, int] | None = None,
    preemption_policies: dict[str, str] | None = None,
) -> Pod:
    f = _Fields(source, base)
    p = lambda rest: join_path(base, rest) if base else rest  # noqa: E731
    meta = f.mapping(obj.get("metadata"), p("metadata"))
    name = f.string(meta.get("name"), p("metadata.name"))
    if not name:
        raise f.error(p("metadata.name"), "a Pod needs a name")
    namespace = f.string(meta.get("namespace"), p("metadata.namespace"), "default") or "default"
    spec = f.mapping(obj.get("spec"), p("spec"))
    status = f.mapping(obj.get("status"), p("status"))

    containers, ports, images = [], [], []
    for i, c in enumerate(f.sequence(spec.get("containers"), p("spec.containers"))):
        cp = p(f"spec.containers[{i}]")
        c = f.mapping(c, cp)
        requests, _ = _container_resources(f, c, cp)
        containers.append(requests)
        images.append(f.string(c.get("image"), cp + ".image"))
        for j, port in enumerate(f.sequence(c.get("ports"), cp + ".ports")):
            pp = f"{cp}.ports[{j}]"
            port = f.mapping(port, pp)
            host_port = f.integer(port.get("hostPort"), pp + ".hostPort")
            if host_port < 0 or host_port > 65535:
                raise f.error(pp + ".hostPort", f"must be between 0 and 65535, got {host_port}")
            if host_port > 0:
                ports.append(
                    HostPort(
                        f.string(port.get("protocol"), pp + ".protocol") or "TCP",
                        f.string(port.get("hostIP"), pp + ".hostIP") or "0.0.0.0",
                        host_port,
                    )
                )
    init_containers = []
    init_images = []
    for i, c in enumerate(f.sequence(spec.get("initContainers"), p("spec.initContainers"))):
        cp = p(f"spec.initContainers[{i}]")
        c = f.mapping(c, cp)
        requests, _ = _container_resources(f, c, cp)
        restartable = f.string(c.get("restartPolicy"), cp + ".restartPolicy") == "Always"
        init_containers.append((requests, restartable))
        init_images.append(f.string(c.get("image"), cp + ".image"))
        if restartable:  # a sidecar's ports are held for the pod's life, as a container's
            for j, port in enumerate(f.sequence(c.get("ports"), cp + ".ports")):
                port = f.mapping(port, f"{cp}.ports[{j}]")
                host_port = f.integer(port.get("hostPort"), f"{cp}.ports[{j}].hostPort")
                if host_port > 0:
                    ports.append(HostPort(port.get("protocol") or "TCP", port.get("hostIP") or "0.0.0.0", host_port))
    image_volumes = []
    for i, volume in enumerate(f.sequence(spec.get("volumes"), p("spec.volumes"))):
        image = f.mapping(f.mapping(volume, p(f"spec.volumes[{i}]")).get("image"), p(f"spec.volumes[{i}].image"))
        if image:
            image_volumes.append(f.string(image.get("reference"), p(f"spec.volumes[{i}].image.reference")))
    overhead = f.resource_list(spec.get("overhead"), p("spec.overhead"))
    pod_level = f.resource_list(f.mapping(spec.get("resources"), p("spec.resources")).get("requests"), p("spec.resources.requests"))

    exact = pod_requests(containers, init_containers, overhead, pod_level)
    nonzero = pod_requests(
        containers,
        init_containers,
        overhead,
        pod_level,
        non_missing={CPU: Fraction(DEFAULT_MILLI_CPU_REQUEST, 1000), MEMORY: Fraction(DEFAULT_MEMORY_REQUEST)},
    )
    requests = {res: to_int_for_resource(res, _saturating(q)) for res, q in exact.items()}
    requests = {res: v for res, v in requests.items() if v != 0}

    tolerations = []
    for i, t in enumerate(f.sequence(spec.get("tolerations"), p("spec.tolerations"))):
        tp = p(f"spec.tolerations[{i}]")
        t = f.mapping(t, tp)
        operator = f.string(t.get("operator"), tp + ".operator") or "Equal"
        if operator not in TOLERATION_OPERATORS:
            raise f.error(tp + ".operator", f"unsupported value {operator!r}: must be one of {', '.join(TOLERATION_OPERATORS)}")
        effect = f.string(t.get("effect"), tp + ".effect")
        if effect and effect not in TAINT_EFFECTS:
            raise f.error(tp + ".effect", f"unsupported value {effect!r}: must be one of {', '.join(TAINT_EFFECTS)}")
        tolerations.append(Toleration(f.string(t.get("key"), tp + ".key"), operator, f.string(t.get("value"), tp + ".value"), effect))

    priority, preemption_policy = _admitted_priority(f, p, name, spec, priority_classes, preemption_policies)

    affinity = f.mapping(spec.get("affinity"), p("spec.affinity"))
    gates = tuple(
        f.string(f.mapping(g, p(f"spec.schedulingGates[{i}]")).get("name"), p(f"spec.schedulingGates[{i}].name"))
        for i, g in enumerate(f.sequence(spec.get("schedulingGates"), p("spec.schedulingGates")))
    )
    return Pod(
        name=name,
        namespace=namespace,
        labels=f.labels(meta.get("labels"), p("metadata.labels")),
        node_name=f.string(spec.get("nodeName"), p("spec.nodeName")),
        phase=f.string(status.get("phase"), p("status.phase")),
        priority=priority,
        scheduler_name=f.string(spec.get("schedulerName"), p("spec.schedulerName")) or "default-scheduler",
        requests=requests,
        nonzero_cpu=to_int_for_resource(CPU, _saturating(nonzero.get(CPU, Fraction(0)))),
        nonzero_memory=to_int_for_resource(MEMORY, _saturating(nonzero.get(MEMORY, Fraction(0)))),
        node_selector=f.labels(spec.get("nodeSelector"), p("spec.nodeSelector")),
        node_affinity=parse_node_affinity(f, affinity.get("nodeAffinity"), p("spec.affinity.nodeAffinity")),
        tolerations=tuple(tolerations),
        host_ports=tuple(ports),
        scheduling_gates=gates,
        images=tuple(init_images + images),
        image_volumes=tuple(image_volumes),
        deletion_timestamp=meta.get("deletionTimestamp"),
        preemption_policy=preemption_policy,
        nominated_node=f.string(status.get("nominatedNodeName"), p("status.nominatedNodeName")),
        start_time=_timestamp(f, status.get("startTime"), p("status.startTime")),
        preempted_by_scheduler=_preempted_by_scheduler(f, status, p),
        uid=f.string(meta.get("uid"), p("metadata.uid")),
        termination_grace_seconds=_grace_seconds(f, spec, p),
        raw=obj,
        source=source,
    )


def _grace_seconds(f: "_Fields", spec: dict, p) -> int:
    raw = spec.get("terminationGracePeriodSeconds")
    if raw is None:
        return DEFAULT_TERMINATION_GRACE_SECONDS
    value = f.integer(raw, p("spec.terminationGracePeriodSeconds"))
    if value < 0:  # ValidatePodSpec: ValidateNonnegativeField
        raise f.error(p("spec.terminationGracePeriodSeconds"), "must be greater than or equal to 0")
    return value


def _admitted_priority(f: "_Fields", p, name: str, spec: dict, priority_classes: dict[str, int] | None,
                       preemption_policies: dict[str, str] | None) -> tuple[int, str]:
    """spec.priority and spec.preemptionPolicy as the Priority admission plugin leaves them
    (plugin/pkg/admission/priority/admission.go): from the pod's PriorityClass, else the globalDefault
    class (held under the name ""), else 0 / PreemptLowerPriority. A pod stored by an API server
    already carries both; a value that contradicts its class is refused with admission's message."""
    classes = {**SYSTEM_PRIORITY_CLASSES, **(priority_classes or {})}
    policies = preemption_policies or {}
    class_name = f.string(spec.get("priorityClassName"), p("spec.priorityClassName"))
    raw_policy = spec.get("preemptionPolicy")
    if raw_policy is not None:
        raw_policy = f.string(raw_policy, p("spec.preemptionPolicy"))
        if raw_policy not in PREEMPTION_POLICIES:
            raise f.error(p("spec.preemptionPolicy"),
                          f"Unsupported value: {raw_policy!r}: supported values: {', '.join(map(repr, PREEMPTION_POLICIES))}")
    raw_priority = spec.get("priority")
    if raw_priority is not None:
        raw_priority = f.integer(raw_priority, p("spec.priority"))
    if raw_priority is not None and (not class_name or class_name not in classes):
        # Stored by an API server already (a dump): without a class, or with one deleted since.
        return raw_priority, raw_policy or PREEMPT_LOWER_PRIORITY
    if class_name and class_name not in classes:
        raise f.error(p("spec.priorityClassName"),
                      f'pods "{name}" is forbidden: no PriorityClass with name {class_name} was found')
    if class_name not in classes:  # no class and no globalDefault class
        return 0, raw_policy or PREEMPT_LOWER_PRIORITY
    computed, computed_policy = classes[class_name], policies.get(class_name, PREEMPT_LOWER_PRIORITY)
    if raw_priority is not None and raw_priority != computed:
        raise f.error(p("spec.priority"),
                      f'pods "{name}" is forbidden: the integer value of priority ({raw_priority}) must not be '
                      f"provided in pod spec; priority admission controller computed {computed} from the given "
                      "PriorityClass name")
    if raw_policy is not None and raw_policy != computed_policy:
        raise f.error(p("spec.preemptionPolicy"),
                      f'pods "{name}" is forbidden: the string value of PreemptionPolicy ({raw_policy}) must not be '
                      f"provided in pod spec; priority admission controller computed {computed_policy} from the "
                      "given PriorityClass name")
    return computed, computed_policy


_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _timestamp(f: "_Fields", value: Any, path: str) -> int | None:
    """An RFC 3339 time (metav1.Time) as nanoseconds since the epoch, exactly (fractions of a second
    included: victims are ordered by it); None when absent."""
    if value is None:
        return None
    text = f.string(value, path)
    match = _RFC3339.match(text)
    try:
        if match is None:
            raise ValueError
        zone = "+00:00" if match.group(3) in ("Z", "z") else match.group(3)
        seconds = int(datetime.fromisoformat(match.group(1).replace("t", "T").replace(" ", "T") + zone).timestamp())
    except ValueError:
        raise f.error(path, f"not an RFC 3339 time: {text!r}") from None
    fraction = (match.group(2) or ".")[1:]
    return seconds * 10**9 + int((fraction + "0" * 9)[:9])


def _preempted_by_scheduler(f: "_Fields", status: dict, p) -> bool:
    """podTerminatingByPreemption's condition test: the first DisruptionTarget condition is True with
    reason PreemptionByScheduler (defaultpreemption/default_preemption.go)."""
    for i, condition in enumerate(f.sequence(status.get("conditions"), p("status.conditions"))):
        condition = f.mapping(condition, p(f"status.conditions[{i}]"))
        if condition.get("type") == "DisruptionTarget":
            return condition.get("status") == "True" and condition.get("reason") == "PreemptionByScheduler"
    return False
