"""A cluster as users hand it to schedkit: Nodes, Pods, PriorityClasses and Namespaces from manifests.

``load_cluster`` reads files or directories (``kubectl get nodes,pods -A -o json`` dumps, per-namespace
PodLists, hand-written YAML) into plain objects; ``schedkit.state`` turns them into columns.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .disruption import DisruptionBudget, parse_disruption_budget
from .errors import InputError
from .manifests import SourcedObject, load_objects
from .objects import PREEMPTION_POLICIES, Node, Pod, parse_node, parse_pod
from .validation import validate_objects


@dataclass
class Cluster:
    nodes: list[Node]
    pods: list[Pod]  # every pod that holds or wants resources (not Succeeded/Failed)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> labels
    priority_classes: dict[str, int] = field(default_factory=dict)
    others: list[SourcedObject] = field(default_factory=list)  # Services, ReplicaSets, ... for later plugins
    warnings: list[str] = field(default_factory=list)
    preemption_policies: dict[str, str] = field(default_factory=dict)  # PriorityClass name ("" default) -> policy
    disruption_budgets: list[DisruptionBudget] = field(default_factory=list)

    @property
    def running_pods(self) -> list[Pod]:
        return [pod for pod in self.pods if pod.node_name]

    @property
    def pending_pods(self) -> list[Pod]:
        return [pod for pod in self.pods if not pod.node_name]


def _where(item: SourcedObject) -> str:
    return item.field


def _priority_classes(objects: list[SourcedObject]) -> tuple[dict[str, int], dict[str, str]]:
    """PriorityClass values and preemption policies by name; the globalDefault class also under ""."""
    classes: dict[str, int] = {}
    policies: dict[str, str] = {}
    for item in objects:
        if item.obj.get("kind") != "PriorityClass":
            continue
        meta = item.obj.get("metadata") or {}
        name, value = meta.get("name"), item.obj.get("value")
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int):
            raise InputError("a PriorityClass needs metadata.name and an integer value", item.source, _where(item))
        policy = item.obj.get("preemptionPolicy") or "PreemptLowerPriority"
        if policy not in PREEMPTION_POLICIES:
            where = f"{_where(item)}.preemptionPolicy" if _where(item) else "preemptionPolicy"
            raise InputError(f"Unsupported value: {policy!r}: supported values: "
                             f"{', '.join(map(repr, PREEMPTION_POLICIES))}", item.source, where)
        classes[name], policies[name] = value, policy
        if item.obj.get("globalDefault") is True:
            classes[""], policies[""] = value, policy
    return classes, policies


def parse_pods(objects: list[SourcedObject], priority_classes: dict[str, int] | None = None,
               preemption_policies: dict[str, str] | None = None) -> list[Pod]:
    """Pods among ``objects`` (other kinds ignored), Succeeded/Failed ones dropped."""
    pods = []
    for item in objects:
        if item.obj.get("kind") == "Pod":
            pod = parse_pod(item.obj, item.source, _where(item), priority_classes, preemption_policies)
            if pod.holds_resources:
                pods.append(pod)
    return pods


def cluster_from_objects(objects: list[SourcedObject]) -> Cluster:
    priority_classes, preemption_policies = _priority_classes(objects)
    nodes: list[Node] = []
    pod_objects: list[SourcedObject] = []
    namespaces: dict[str, dict[str, str]] = {}
    others: list[SourcedObject] = []
    budgets: list[DisruptionBudget] = []
    for item in objects:
        kind = item.obj.get("kind")
        if not isinstance(kind, str) or not kind:
            raise InputError("object has no kind", item.source, _where(item) or None)
        if kind == "Node":
            nodes.append(parse_node(item.obj, item.source, _where(item)))
        elif kind == "Pod":
            pod_objects.append(item)
        elif kind == "Namespace":
            meta = item.obj.get("metadata") or {}
            namespaces[str(meta.get("name", ""))] = dict(meta.get("labels") or {})
        elif kind == "PodDisruptionBudget":
            budgets.append(parse_disruption_budget(item.obj, item.source, _where(item)))
        elif kind != "PriorityClass":
            others.append(item)
    seen: dict[str, Node] = {}
    for node, item in zip(nodes, (o for o in objects if o.obj.get("kind") == "Node")):
        if node.name in seen:
            raise InputError(f"duplicate Node {node.name!r}", item.source, _where(item) or None)
        seen[node.name] = node
    cluster = Cluster(nodes, [], namespaces, priority_classes, others, preemption_policies=preemption_policies,
                      disruption_budgets=budgets)
    pods = parse_pods(pod_objects, priority_classes, preemption_policies)
    keys: set[str] = set()
    for pod in pods:
        if pod.key in keys:
            raise InputError(f"duplicate Pod {pod.key!r}", pod.source)
        keys.add(pod.key)
        if pod.node_name and pod.node_name not in seen:
            cluster.warnings.append(f"pod {pod.key} runs on node {pod.node_name!r}, which is not in the input; ignored")
            continue
        cluster.pods.append(pod)
    return cluster


def load_cluster(paths: str | list[str]) -> Cluster:
    """Nodes and pods (and PriorityClasses, Namespaces) from files or directories."""
    objects = load_objects(paths)
    cluster = cluster_from_objects(objects)
    validate_objects(objects)
    if not cluster.nodes:  # an empty file, or pods only: nothing to schedule onto
        raise InputError("no Node objects found", paths if isinstance(paths, str) else ", ".join(paths))
    return cluster


def load_pods(paths: str | list[str], priority_classes: dict[str, int] | None = None,
              preemption_policies: dict[str, str] | None = None) -> list[Pod]:
    objects = load_objects(paths)
    own_classes, own_policies = _priority_classes(objects)
    pods = parse_pods(objects, {**own_classes, **(priority_classes or {})},
                      {**own_policies, **(preemption_policies or {})})
    validate_objects(objects)
    keys: set[str] = set()
    for pod in pods:
        if pod.key in keys:
            raise InputError(f"duplicate Pod {pod.key!r}", pod.source)
        keys.add(pod.key)
    if not pods:
        where = paths if isinstance(paths, str) else ", ".join(paths)
        raise InputError("no Pod objects found", where)
    return pods


def warn(message: str) -> None:
    print(f"schedkit: warning: {message}", file=sys.stderr)


__all__ = ["Cluster", "load_cluster", "load_pods", "cluster_from_objects", "parse_pods"]
