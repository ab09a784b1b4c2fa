"""Label selectors over pods, and the pod table topology plugins count with.

Semantics: staging k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go (``LabelSelectorAsSelector``) and
pkg/labels/selector.go. A nil selector selects nothing; ``{}`` selects everything (and is ``Empty``);
matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) are ANDed; NotIn and DoesNotExist
also match pods without the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .objects import Pod

SELECTOR_OPS = ("In", "NotIn", "Exists", "DoesNotExist")
Requirement = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class LabelSelector:
    """``requirements`` None selects nothing; () selects everything."""

    requirements: tuple[Requirement, ...] | None

    @property
    def empty(self) -> bool:
        """labels.Selector.Empty(): true only for the select-everything selector."""
        return self.requirements == ()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.requirements is None:
            return False
        for key, op, values in self.requirements:
            present = key in labels
            if op == "In" and not (present and labels[key] in values):
                return False
            if op == "NotIn" and present and labels[key] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True

    def with_requirements(self, extra: tuple[Requirement, ...]) -> "LabelSelector":
        """AND more requirements in; selecting nothing stays nothing."""
        if self.requirements is None or not extra:
            return self
        return LabelSelector(tuple(sorted(set(self.requirements) | set(extra))))


NOTHING = LabelSelector(None)
EVERYTHING = LabelSelector(())


def parse_label_selector(raw: Any) -> LabelSelector:
    """A metav1.LabelSelector dict (None: select nothing). Bad shapes select nothing, as upstream's
    conversion error leaves the plugin without a usable selector."""
    if raw is None:
        return NOTHING
    if not isinstance(raw, dict):
        return NOTHING
    requirements: list[Requirement] = []
    for key, value in (raw.get("matchLabels") or {}).items():
        requirements.append((str(key), "In", (str(value),)))
    for expression in raw.get("matchExpressions") or []:
        if not isinstance(expression, dict):
            return NOTHING
        op = expression.get("operator")
        values = tuple(str(v) for v in expression.get("values") or [])
        if op not in SELECTOR_OPS:
            return NOTHING
        if op in ("In", "NotIn") and not values or op in ("Exists", "DoesNotExist") and values:
            return NOTHING
        requirements.append((str(expression.get("key", "")), op, values))
    return LabelSelector(tuple(sorted(set(requirements))))


def selector_from_set(labels: dict[str, str]) -> LabelSelector:
    """labels.Set.AsSelector(): equality requirements; an empty set selects everything."""
    return LabelSelector(tuple(sorted((k, "In", (v,)) for k, v in labels.items())))


def match_pods(pods: list[Pod], selector: LabelSelector, namespace: str | None = None,
               skip_terminating: bool = False) -> np.ndarray:
    """Which of ``pods`` the selector matches (in ``namespace`` when given)."""
    result = np.zeros(len(pods), dtype=np.bool_)
    if selector.requirements is None:
        return result
    for i, pod in enumerate(pods):
        if namespace is not None and pod.namespace != namespace:
            continue
        if skip_terminating and pod.deletion_timestamp is not None:
            continue
        result[i] = selector.matches(pod.labels)
    return result
