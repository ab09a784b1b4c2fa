"""PriorityClasses, pods' priority and preemptionPolicy as the Priority admission plugin leaves them
(plugin/pkg/admission/priority/admission.go), PodDisruptionBudgets as preemption reads them, and the
pod status fields preemption uses."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from schedkit.cli import main
from schedkit.cluster import cluster_from_objects
from schedkit.errors import InputError
from schedkit.manifests import SourcedObject

NODE = {"kind": "Node", "metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}


def _class(name, value, default=False, policy=None):
    obj = {"kind": "PriorityClass", "metadata": {"name": name}, "value": value, "globalDefault": default}
    if policy:
        obj["preemptionPolicy"] = policy
    return obj


def _pod(name="p", **spec):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c"}], **spec}}


def _cluster(*objects):
    return cluster_from_objects([SourcedObject(o, "in.yaml", f"items[{i}]") for i, o in enumerate([NODE, *objects])])


def test_class_gives_priority_and_policy_and_the_global_default_applies_without_one():
    cluster = _cluster(_class("low", -10, default=True, policy="Never"), _class("high", 1000),
                       _pod("a", priorityClassName="high"), _pod("b"))
    by = {p.name: p for p in cluster.pods}
    assert (by["a"].priority, by["a"].preemption_policy) == (1000, "PreemptLowerPriority")
    assert (by["b"].priority, by["b"].preemption_policy) == (-10, "Never")


def test_no_class_and_no_default_is_priority_zero():
    pod = _cluster(_pod()).pods[0]
    assert (pod.priority, pod.preemption_policy) == (0, "PreemptLowerPriority")


@pytest.mark.parametrize("spec, message", [
    ({"priorityClassName": "gold"}, 'pods "p" is forbidden: no PriorityClass with name gold was found'),
    ({"priorityClassName": "high", "priority": 5},
     'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission '
     "controller computed 1000 from the given PriorityClass name"),
    ({"priorityClassName": "high", "preemptionPolicy": "Never"},
     'pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority '
     "admission controller computed PreemptLowerPriority from the given PriorityClass name"),
])
def test_admission_refuses_what_upstream_refuses(spec, message):
    with pytest.raises(InputError) as info:
        _cluster(_class("high", 1000), _pod(**spec))
    assert str(info.value).endswith(message)
    assert "in.yaml: items[2].spec." in str(info.value)


def test_a_stored_pod_keeps_its_priority_when_its_class_is_gone():
    pod = _cluster(_pod(priorityClassName="deleted", priority=7, preemptionPolicy="Never")).pods[0]
    assert (pod.priority, pod.preemption_policy) == (7, "Never")


def test_pod_status_fields_preemption_reads():
    pod = _cluster(_pod(nodeName="n1") | {"status": {
        "phase": "Running", "startTime": "2026-01-01T00:00:01.000000005Z", "nominatedNodeName": "n1",
        "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]}}).pods[0]
    assert pod.start_time == 1767225601 * 10**9 + 5
    assert pod.nominated_node == "n1" and pod.preempted_by_scheduler


def test_disruption_budgets_are_read_with_their_status():
    pdb = {"kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}},
           "status": {"disruptionsAllowed": 1, "disruptedPods": {"web-1": "2026-01-01T00:00:00Z"}}}
    budget = _cluster(pdb).disruption_budgets[0]
    assert (budget.namespace, budget.name, budget.disruptions_allowed, budget.min_available) == ("shop", "web", 1, "50%")
    assert budget.disrupted_pods == {"web-1"}


def test_bad_priority_input_is_a_one_line_error_with_exit_code_2(tmp_path):
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"kind": "List", "items": [NODE, _pod(priorityClassName="gold")]}))
    result = CliRunner().invoke(main, ["schedule", "--cluster", str(dump)])
    assert result.exit_code == 2
    assert 'no PriorityClass with name gold was found' in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    bad = tmp_path / "pdb.json"
    bad.write_text(json.dumps({"kind": "List", "items": [NODE, {"kind": "PodDisruptionBudget",
                                                               "metadata": {"name": "x"},
                                                               "status": {"disruptionsAllowed": "two"}}]}))
    result = CliRunner().invoke(main, ["schedule", "--cluster", str(bad)])
    assert result.exit_code == 2 and "status.disruptionsAllowed" in result.output
