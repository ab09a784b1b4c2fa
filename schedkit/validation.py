"""What kube-apiserver would refuse: checks on manifests read from users' files, after parsing.

A Pod or Node the API server rejects can never reach kube-scheduler, so a file holding one is an input
error, not something to schedule. The rules and message texts follow upstream's API validation
(kubernetes/kubernetes ``pkg/apis/core/validation/validation.go``: ``ValidatePodName``/``ValidateNodeName``
(``NameIsDNSSubdomain``), ``validateContainers``, ``ValidateContainerResourceRequirements``,
``validateTopologySpreadConstraints``, ``ValidateNodeSelectorRequirement``, ``validatePodAffinityTerm``
weights) and apimachinery's ``pkg/util/validation/validation.go`` name messages; ``field.Invalid`` /
``field.Required`` / ``field.Forbidden`` print as ``Invalid value: <v>: ...``, ``Required value: ...``,
``Forbidden: ...``. Integer fields are bounded as the API's Go types bound them (JSON decoding into an
int32/int64 field fails beyond its range). Messages quote values as the file gives them, where
upstream prints a quantity in canonical form (``Quantity.String()``).

Only objects read from users' files are checked (``validate_objects``, called by the loaders once the
objects are parsed, so a parse error, which is more specific, is reported first): upstream's scheduler unit
tests, which schedkit replays through ``cluster_from_objects``, build objects the API server never saw
(Nodes without status, Pods with no containers), and those must keep working.

Deliberately not refused: a ``Gt``/``Lt`` node selector requirement whose single value is not an
integer. kube-apiserver accepts it (``ValidateNodeSelectorRequirement`` only counts the values; the
proposal to check them, kubernetes#89289, was closed unmerged) and kube-scheduler then matches no node
with that term, which ``schedkit.nodeselector`` reproduces.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .errors import InputError, join_path
from .manifests import SourcedObject
from .quantity import QuantityError, parse_quantity

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# apimachinery pkg/util/validation/validation.go: IsDNS1123Subdomain / IsDNS1123Label and their messages.
DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = DNS_LABEL + r"(\." + DNS_LABEL + r")*"
DNS_SUBDOMAIN_ERROR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{DNS_SUBDOMAIN}')")
DNS_LABEL_ERROR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{DNS_LABEL}')")
_SUBDOMAIN_RE = re.compile(DNS_SUBDOMAIN)
_LABEL_RE = re.compile(DNS_LABEL)

# validation.go validateTopologySpreadConstraints / ValidatePositiveField.
NOT_POSITIVE = "must be greater than zero"


def _go_value(value: Any) -> str:
    """A value as field.Invalid prints it: strings quoted, numbers bare."""
    return f'"{value}"' if isinstance(value, str) else str(value)


class _Checker:
    """Raises the first problem found as an InputError naming the file and the field path."""

    def __init__(self, source: str, base: str):
        self.source, self.base = source, base

    def path(self, rest: str) -> str:
        return join_path(self.base, rest) if self.base else rest

    def invalid(self, path: str, value: Any, message: str) -> InputError:
        return InputError(f"Invalid value: {_go_value(value)}: {message}", self.source, path)

    def required(self, path: str, message: str = "") -> InputError:
        return InputError("Required value" + (f": {message}" if message else ""), self.source, path)

    def forbidden(self, path: str, message: str) -> InputError:
        return InputError(f"Forbidden: {message}", self.source, path)

    def name(self, value: Any, path: str, label: bool = False) -> None:
        """metadata.name (DNS subdomain, 253 characters) or a namespace (DNS label, 63 characters)."""
        if not isinstance(value, str) or not value:
            return  # missing or mistyped names are the parser's to report
        limit, pattern, message = (63, _LABEL_RE, DNS_LABEL_ERROR) if label else \
            (253, _SUBDOMAIN_RE, DNS_SUBDOMAIN_ERROR)
        if len(value) > limit:
            raise self.invalid(path, value, f"must be no more than {limit} characters")
        if not pattern.fullmatch(value):
            raise self.invalid(path, value, message)

    def int32(self, value: Any, path: str) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and not INT32_MIN <= value <= INT32_MAX:
            raise self.invalid(path, value, f"must be a 32-bit integer ({INT32_MIN} to {INT32_MAX}): the API "
                                            "field is an int32")


def check_name(value: str, source: str, path: str, label: bool = False) -> None:
    """An object name as the API server checks it: a DNS subdomain (``label``: a DNS label, as namespaces)."""
    _Checker(source, "").name(value, path, label)


def check_integers(value: Any, source: str, path: str = "") -> None:
    """Every integer in a manifest fits int64: no Kubernetes API field is wider (JSON decoding fails)."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, join_path(where, str(k))) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, join_path(where, i)) for i, v in enumerate(item))
        elif isinstance(item, int) and not isinstance(item, bool) and not INT64_MIN <= item <= INT64_MAX:
            shown = str(item) if item.bit_length() < 1000 else f"an integer of {item.bit_length()} bits"
            raise InputError(f"Invalid value: {shown}: must be a 64-bit integer: no API field is wider",
                             source, where or None)


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list:
    return value if isinstance(value, list) else []


def _quantity(value: Any) -> Fraction | None:
    """The quantity's value, or None when it does not parse (objects.py reports those, with the field)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _check_resources(c: _Checker, container: dict, path: str) -> None:
    """ValidateContainerResourceRequirements: each request at most its limit."""
    resources = _mapping(container.get("resources"))
    limits = _mapping(resources.get("limits"))
    for name, raw in _mapping(resources.get("requests")).items():
        if name not in limits:
            continue
        request, limit = _quantity(raw), _quantity(limits[name])
        if request is not None and limit is not None and request > limit:
            raise c.invalid(path + ".resources.requests", str(raw),
                            f"must be less than or equal to {name} limit of {limits[name]}")


def _check_requirements(c: _Checker, raw: Any, path: str) -> None:
    """ValidateNodeSelectorRequirement: how many values each operator takes."""
    for i, req in enumerate(_sequence(raw)):
        req = _mapping(req)
        values, rp = _sequence(req.get("values")), f"{path}[{i}]"
        operator = req.get("operator")
        if operator in ("In", "NotIn") and not values:
            raise c.required(rp + ".values", "must be specified when `operator` is 'In' or 'NotIn'")
        if operator in ("Exists", "DoesNotExist") and values:
            raise c.forbidden(rp + ".values",
                              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        if operator in ("Gt", "Lt") and len(values) != 1:
            raise c.required(rp + ".values", "must be specified single value when `operator` is 'Lt' or 'Gt'")


def _check_affinity(c: _Checker, spec: dict) -> None:
    affinity = _mapping(spec.get("affinity"))
    node_path = c.path("spec.affinity.nodeAffinity")
    node = _mapping(affinity.get("nodeAffinity"))
    required = _mapping(node.get("requiredDuringSchedulingIgnoredDuringExecution"))
    rp = node_path + ".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
    for i, term in enumerate(_sequence(required.get("nodeSelectorTerms"))):
        _check_requirements(c, _mapping(term).get("matchExpressions"), f"{rp}[{i}].matchExpressions")
    pp = node_path + ".preferredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(_sequence(node.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        preference = _mapping(_mapping(term).get("preference"))
        _check_requirements(c, preference.get("matchExpressions"), f"{pp}[{i}].preference.matchExpressions")
    for kind in ("podAffinity", "podAntiAffinity"):
        wp = c.path(f"spec.affinity.{kind}.preferredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(_sequence(_mapping(affinity.get(kind)).get(
                "preferredDuringSchedulingIgnoredDuringExecution"))):
            weight = _mapping(term).get("weight")
            if isinstance(weight, int) and not isinstance(weight, bool) and not 1 <= weight <= 100:
                raise c.invalid(f"{wp}[{i}].weight", weight, "must be in the range 1-100")


def _check_spread(c: _Checker, spec: dict) -> None:
    """validateTopologySpreadConstraints: maxSkew > 0; minDomains, when set, > 0 (both int32)."""
    for i, constraint in enumerate(_sequence(spec.get("topologySpreadConstraints"))):
        constraint, cp = _mapping(constraint), c.path(f"spec.topologySpreadConstraints[{i}]")
        for name in ("maxSkew", "minDomains"):
            value = constraint.get(name)
            if value is None and name == "minDomains":
                continue
            c.int32(value, f"{cp}.{name}")
            if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
                raise c.invalid(f"{cp}.{name}", value, NOT_POSITIVE)


def validate_pod(obj: dict, source: str, base: str = "") -> None:
    """The Pod checks kube-apiserver makes that schedkit's parser does not (see the module docstring)."""
    c = _Checker(source, base)
    meta = _mapping(obj.get("metadata"))
    c.name(meta.get("name"), c.path("metadata.name"))
    c.name(meta.get("namespace"), c.path("metadata.namespace"), label=True)
    spec = _mapping(obj.get("spec"))
    containers = spec.get("containers")
    if isinstance(containers, list) or containers is None:
        if not containers:
            raise c.required(c.path("spec.containers"))  # validateContainers: field.Required(fldPath, "")
        for i, container in enumerate(containers):
            _check_resources(c, _mapping(container), c.path(f"spec.containers[{i}]"))
    for i, container in enumerate(_sequence(spec.get("initContainers"))):
        _check_resources(c, _mapping(container), c.path(f"spec.initContainers[{i}]"))
    c.int32(spec.get("priority"), c.path("spec.priority"))  # PodSpec.Priority is *int32
    _check_affinity(c, spec)
    _check_spread(c, spec)


def validate_node(obj: dict, source: str, base: str = "") -> None:
    """A Node's name, and some capacity to place pods on (the kubelet always reports one)."""
    c = _Checker(source, base)
    c.name(_mapping(obj.get("metadata")).get("name"), c.path("metadata.name"))
    status = _mapping(obj.get("status"))
    if not status.get("allocatable") and not status.get("capacity"):
        # objects.parse_node falls back to status.capacity when allocatable is missing, as the API
        # server's defaulting does; with neither, the node would silently hold no pod at all.
        raise c.required(c.path("status.allocatable"), "a Node needs status.allocatable or status.capacity "
                                                        "(as the kubelet reports them)")


def validate_priority_class(obj: dict, source: str, base: str = "") -> None:
    """PriorityClass.Value is an int32."""
    c = _Checker(source, base)
    c.int32(obj.get("value"), c.path("value"))


VALIDATORS = {"Pod": validate_pod, "Node": validate_node, "PriorityClass": validate_priority_class}


def validate_object(obj: dict, source: str, base: str = "") -> None:
    """Integers in range everywhere, then the checks for the object's kind (others are left alone)."""
    check_integers(obj, source, base)
    check = VALIDATORS.get(obj.get("kind"))
    if check is not None:
        check(obj, source, base)


def validate_objects(objects: list[SourcedObject]) -> None:
    for item in objects:
        validate_object(item.obj, item.source, item.field)
