"""The QueueingHints the batch with preemption asks (schedkit/preemption/hints.py), case by case after
upstream's isSchedulableAfterPod* functions (interpodaffinity/plugin.go, podtopologyspread/plugin.go,
nodeports/node_ports.go, noderesources/fit.go)."""

from __future__ import annotations

import pytest

from schedkit.framework.scheduler import Scheduler
from schedkit.objects import parse_pod
from schedkit.preemption.hints import POD_ADD, POD_DELETE, requeues


def pod(name, labels=None, namespace="default", spec=None):
    body = {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}], **(spec or {})}
    return parse_pod({"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
                      "spec": body}, "test", name)


def plugin(name):
    profile = Scheduler().profiles["default-scheduler"]
    return profile.plugins[profile.plugin_index(name)]


AFFINITY = {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "db"}}}]}}}
ANTI = {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "web"}}}]}}}
SPREAD = {"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                                         "labelSelector": {"matchLabels": {"app": "web"}}}]}
PORT = {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}


@pytest.mark.parametrize("name, target, event, other, expected", [
    # InterPodAffinity: an added pod matching all affinity terms; a deleted one matching all anti terms
    ("InterPodAffinity", pod("t", spec=AFFINITY), POD_ADD, pod("o", {"app": "db"}), True),
    ("InterPodAffinity", pod("t", spec=AFFINITY), POD_ADD, pod("o", {"app": "web"}), False),
    ("InterPodAffinity", pod("t", spec=AFFINITY), POD_DELETE, pod("o", {"app": "db"}), False),
    ("InterPodAffinity", pod("t", spec=ANTI), POD_DELETE, pod("o", {"app": "web"}), True),
    ("InterPodAffinity", pod("t", spec=ANTI), POD_ADD, pod("o", {"app": "web"}), False),
    ("InterPodAffinity", pod("t"), POD_DELETE, pod("o", {"app": "web"}), False),  # no terms: skip
    # PodTopologySpread: same namespace, labels matching a DoNotSchedule constraint's selector
    ("PodTopologySpread", pod("t", spec=SPREAD), POD_ADD, pod("o", {"app": "web"}), True),
    ("PodTopologySpread", pod("t", spec=SPREAD), POD_DELETE, pod("o", {"app": "web"}), True),
    ("PodTopologySpread", pod("t", spec=SPREAD), POD_ADD, pod("o", {"app": "db"}), False),
    ("PodTopologySpread", pod("t", spec=SPREAD), POD_ADD, pod("o", {"app": "web"}, "other"), False),
    # NodePorts: a deleted pod freeing a host port the pod wants
    ("NodePorts", pod("t", spec=PORT), POD_DELETE, pod("o", spec=PORT), True),
    ("NodePorts", pod("t", spec=PORT), POD_DELETE, pod("o"), False),
    # NodeResourcesFit: any deleted bound pod; bindings are not its events
    ("NodeResourcesFit", pod("t"), POD_DELETE, pod("o"), True),
    ("NodeResourcesFit", pod("t"), POD_ADD, pod("o"), False),
])
def test_hint(name, target, event, other, expected):
    assert requeues(plugin(name), target, event, other, {}, []) is expected
