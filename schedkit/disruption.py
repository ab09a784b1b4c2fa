"""PodDisruptionBudgets as the scheduler's preemption reads them.

kube-scheduler never computes a budget: it reads ``status.disruptionsAllowed`` and
``status.disruptedPods`` as the disruption controller left them, and the selector of ``spec``
(pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go ``filterPodsWithPDBViolation``).
``minAvailable``/``maxUnavailable`` are validated and kept for display only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .objects import Pod
from .podselector import LabelSelector, parse_label_selector


@dataclass(frozen=True)
class DisruptionBudget:
    namespace: str
    name: str
    selector: LabelSelector
    disruptions_allowed: int
    disrupted_pods: frozenset[str]  # pod names the API server already counted as disrupted
    min_available: str | None = None
    max_unavailable: str | None = None

    def selects(self, pod: Pod) -> bool:
        """Same namespace and a non-empty selector that matches (an empty or invalid selector matches
        nothing, and a pod without labels matches no budget)."""
        if pod.namespace != self.namespace or not pod.labels:
            return False
        if self.selector.requirements is None or self.selector.empty:
            return False
        return self.selector.matches(pod.labels)


def _int_or_percent(value: Any, source: str, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError("must be an integer or a percentage string such as \"50%\"", source, path)
    text = str(value)
    digits = text[:-1] if text.endswith("%") else text
    if not digits.isdigit():
        raise InputError(f"must be an integer or a percentage string such as \"50%\", got {text!r}", source, path)
    return text


def parse_disruption_budget(obj: dict[str, Any], source: str = "", base: str = "") -> DisruptionBudget:
    def where(rest: str) -> str:
        return f"{base}.{rest}" if base else rest

    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InputError("a PodDisruptionBudget needs metadata.name", source, where("metadata.name"))
    namespace = meta.get("namespace") or "default"
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if not isinstance(spec, dict) or not isinstance(status, dict):
        raise InputError("spec and status must be mappings", source, where("spec"))
    allowed = status.get("disruptionsAllowed", 0)
    if isinstance(allowed, bool) or not isinstance(allowed, int):
        raise InputError(f"must be an integer, got {allowed!r}", source, where("status.disruptionsAllowed"))
    disrupted = status.get("disruptedPods") or {}
    if not isinstance(disrupted, dict):
        raise InputError("must be a map of pod name to time", source, where("status.disruptedPods"))
    selector = spec.get("selector")
    if selector is not None and not isinstance(selector, dict):
        raise InputError("must be a label selector mapping", source, where("spec.selector"))
    return DisruptionBudget(
        namespace=str(namespace),
        name=name,
        selector=parse_label_selector(selector),
        disruptions_allowed=allowed,
        disrupted_pods=frozenset(str(k) for k in disrupted),
        min_available=_int_or_percent(spec.get("minAvailable"), source, where("spec.minAvailable")),
        max_unavailable=_int_or_percent(spec.get("maxUnavailable"), source, where("spec.maxUnavailable")),
    )


__all__ = ["DisruptionBudget", "parse_disruption_budget"]
