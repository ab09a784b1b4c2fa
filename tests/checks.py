"""What the differential and property tests share besides the strategies (strategies.py): one compiled
Scheduler per named configuration, the fast path's answers as plain data, the fast-path-against-reference
assertions, and the pod (anti-)affinity and spreading invariants every schedule must keep (checked on the
fast path's schedules and on the reference's own).

A plain module, not a test file (see strategies.py for how the test files import it).
"""

from __future__ import annotations

from strategies import CONFIGS, TOPOLOGY_CONFIGS

from schedkit.framework.config import parse_config
from schedkit.framework.registry import default_registry
from schedkit.framework.scheduler import Scheduler
from schedkit.reference import (
    cluster_view,
    initial_usage,
    pod_affinity_info,
    pts_filter,
    pts_pre_filter,
    reference_explain,
    reference_schedule,
)
from schedkit.state import snapshot_order

_SCHEDULERS: dict[str, Scheduler] = {}


def scheduler_for(name: str) -> Scheduler:
    """One Scheduler per config (its compiled loops are built once); the rotating start index is reset
    so every call starts a fresh batch, as the reference does."""
    if name not in _SCHEDULERS:
        raw = CONFIGS[name] if name in CONFIGS else TOPOLOGY_CONFIGS[name]
        _SCHEDULERS[name] = Scheduler(parse_config(raw) if raw is not None else None)
    sched = _SCHEDULERS[name]
    sched.next_start_node_index[:] = 0
    return sched


def topology_plugins_registered() -> bool:
    """Whether the fast path has both cross-node plugins (their fast-path tests skip until it does)."""
    registry = default_registry()
    return "PodTopologySpread" in registry and "InterPodAffinity" in registry


def plugin_enabled(profile, point: str, name: str) -> bool:
    """Whether ``profile`` runs plugin ``name`` at extension point ``point`` ("filter", "preFilter", ...)."""
    return any(profile.plugins[i].name == name for i in profile.points[point])


# --- comparisons -------------------------------------------------------------------------------------

def fast_schedule(sched: Scheduler, cluster, pods, seed: int):
    """(pod, node, message) in the input order of ``pods`` (the Scheduler reports queue order)."""
    assignments = sched.schedule(cluster, pods, seed).assignments
    by_key = {a.pod: (a.pod, a.node, a.message) for a in assignments}
    assert len(by_key) == len(assignments) == len(pods), "every pod is reported exactly once"
    return [by_key[pod.key] for pod in pods]


def fast_explain(sched: Scheduler, cluster, pod, seed: int, python: bool | None = None) -> dict:
    ex = sched.explain(cluster, pod, seed, python=python)
    return {"selectedNode": ex.selected_node, "message": ex.message, "nodes": {
        n.name: {"feasible": bool(n.feasible), "failedPlugin": n.failed_plugin, "reasons": list(n.reasons),
                 "scores": {p: {k: int(v) for k, v in s.items()} for p, s in n.scores.items()},
                 "totalScore": None if n.total_score is None else int(n.total_score)}
        for n in ex.nodes}}


def assert_same_schedule(config: str, cluster, pods, seed: int) -> None:
    sched = scheduler_for(config)
    expected = reference_schedule(sched, cluster, pods, seed)
    actual = fast_schedule(sched, cluster, pods, seed)
    for want, got in zip(expected, actual):
        assert got == want, f"config {config}: pod {want[0]}: fast {got[1:]} != reference {want[1:]}"
    assert len(actual) == len(expected)


def assert_same_explain(config: str, cluster, pod, seed: int, python: bool | None = None) -> None:
    """``python``: explain's loop as Python or compiled (None: as ``Scheduler.explain`` picks, Python for
    clusters this small)."""
    sched = scheduler_for(config)
    expected = reference_explain(sched, cluster, pod, seed)
    sched.next_start_node_index[:] = 0
    actual = fast_explain(sched, cluster, pod, seed, python)
    assert actual["selectedNode"] == expected["selectedNode"], (config, actual, expected)
    assert actual["message"] == expected["message"], config
    assert set(actual["nodes"]) == set(expected["nodes"])
    for name, want in expected["nodes"].items():
        assert actual["nodes"][name] == want, f"config {config}: node {name}"


# --- pod (anti-)affinity and spread constraints -------------------------------------------------------------

def _same_domain(key: str, a, b) -> bool:
    return key in a.labels and key in b.labels and a.labels[key] == b.labels[key]


def check_topology_invariants(sched, cluster, pods, placements, evicted=frozenset()) -> None:
    """``placements``: (pod key, node name or None) in queue order. Terms are matched with each target pod's
    Namespace labels, which equals the scheduler's resolved namespaceSelector as long as every namespace a
    pod uses has a Namespace object (the topology generators make sure of that). ``evicted``: keys of the
    pods preemption deleted; anti-affinity is checked against the pods that stayed (a victim may have
    supported a required affinity while it ran)."""
    nodes = {node.name: node for node in cluster.nodes}
    by_key = {pod.key: pod for pod in pods}
    ns = cluster.namespaces
    running = [(pod, nodes[pod.node_name], -1) for pod in cluster.pods if pod.node_name in nodes]
    placed = [(by_key[key], nodes[name], k) for k, (key, name) in enumerate(placements) if name is not None]

    def enforces(pod, plugin: str) -> bool:
        return plugin_enabled(sched.profiles[pod.scheduler_name], "filter", plugin)

    for pod, node, order in placed:
        if not enforces(pod, "InterPodAffinity"):
            continue
        info = pod_affinity_info(pod)
        # pods this one had to respect: all running and earlier pods, later pods placed by an enforcing profile
        others = [(q, m) for q, m, k in running + placed
                  if q is not pod and q.key not in evicted and (k < order or enforces(q, "InterPodAffinity"))]
        for term in info.required_anti:
            for q, m in others:
                assert not (_same_domain(term.key, node, m) and term.matches(q, ns.get(q.namespace))), \
                    f"{pod.key} on {node.name}: anti-affinity ({term.key}) with {q.key} on {m.name}"
        if info.required:
            assert all(t.key in node.labels for t in info.required), f"{pod.key} on {node.name}: missing key"
            supporters = [(q, m) for q, m, k in running + placed
                          if q is not pod and all(t.matches(q, ns.get(q.namespace)) for t in info.required)]
            supported = all(any(_same_domain(t.key, node, m) for _, m in supporters) for t in info.required)
            first_of_group = all(t.matches(pod, ns.get(pod.namespace)) for t in info.required)
            assert supported or first_of_group, f"{pod.key} on {node.name}: required pod affinity unmet"
    for existing, m, _ in running:
        if existing.key in evicted:
            continue
        for term in pod_affinity_info(existing).required_anti:
            for pod, node, _ in placed:
                if enforces(pod, "InterPodAffinity"):
                    assert not (_same_domain(term.key, m, node) and term.matches(pod, ns.get(pod.namespace))), \
                        f"{pod.key} on {node.name} breaks {existing.key}'s anti-affinity ({term.key})"

    # DoNotSchedule spreading: replay the placements in queue order through the reference's PTS filter
    # (with evictions, pods were placed in passes around them: queue order no longer replays the batch)
    if evicted:
        return
    order = snapshot_order(cluster.nodes)
    usage = initial_usage(cluster)
    for pod, node, _ in placed:
        profile = sched.profiles[pod.scheduler_name]
        if enforces(pod, "PodTopologySpread") and plugin_enabled(profile, "preFilter", "PodTopologySpread"):
            code, payload, state = pts_pre_filter(pod, cluster_view(sched, cluster, order, usage, pod.scheduler_name))
            assert code != "error", payload
            assert pts_filter(state, pod, node) == [], f"{pod.key} on {node.name} breaks a spread constraint"
        usage[node.name].add(pod)
