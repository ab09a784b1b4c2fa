"""Resource names as kube-scheduler classifies them, and the args both resource plugins share.

Sources: pkg/scheduler/util/utils.go (``IsScalarResourceName``), pkg/apis/core/v1/helper/helpers.go
(``IsExtendedResourceName``, ``IsPrefixedNativeResource``, ``IsHugePageResourceName``,
``IsAttachableVolumeResourceName``), pkg/scheduler/framework/types.go (``Resource.Add``: names that
are none of these are not tracked at all).
"""

from __future__ import annotations

import re
from typing import Any

from .framework.config import check_fields
from .objects import CPU, EPHEMERAL_STORAGE, MEMORY, PODS

_QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                             r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def is_prefixed_native(name: str) -> bool:
    return "kubernetes.io/" in name


def is_native(name: str) -> bool:
    return "/" not in name or is_prefixed_native(name)


def is_extended(name: str) -> bool:
    if is_native(name) or name.startswith("requests."):
        return False
    quota_name = "requests." + name
    prefix, _, rest = quota_name.rpartition("/")
    return len(rest) <= 63 and len(prefix) <= 253 and bool(_QUALIFIED_NAME.match(quota_name))


def is_scalar(name: str) -> bool:
    return (is_extended(name) or name.startswith("hugepages-") or is_prefixed_native(name)
            or name.startswith("attachable-volumes-"))


def is_tracked(name: str) -> bool:
    """Whether the scheduler counts this resource at all."""
    return name in (CPU, MEMORY, EPHEMERAL_STORAGE, PODS) or is_scalar(name)


def resource_weights(raw: Any, path: str, must_be_one: bool = False) -> list[tuple[str, int]]:
    """``resources: [{name, weight}]`` with upstream defaulting (empty list: cpu and memory; weight 0: 1)
    and validation (weights in (0, 100], or exactly 1 for BalancedAllocation)."""
    if raw is None or raw == []:
        return [(CPU, 1), (MEMORY, 1)]
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list")
    seen: set[str] = set()
    result = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValueError(f"{path}[{i}]: expected a mapping")
        check_fields(item, f"{path}[{i}]", ("name", "weight"))
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{path}[{i}].name: Required value")
        weight = item.get("weight", 0)
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise ValueError(f"{path}[{i}].weight: Invalid value: {weight!r}: must be an integer")
        weight = weight or 1
        if must_be_one:
            if name in seen:
                raise ValueError(f'{path}[{i}].name: Duplicate value: "{name}"')
            if weight != 1:
                raise ValueError(f"{path}[{i}].weight: Invalid value: {weight}: must be 1")
        elif not 0 < weight <= 100:
            raise ValueError(f"{path}[{i}].weight: Invalid value: {weight}: resource weight of {name} not in valid "
                             "range (0, 100]")
        seen.add(name)
        result.append((name, weight))
    return result
