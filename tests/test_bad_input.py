"""Bad input: exit code 2, exactly one line on stderr ("schedkit: error: <file>: <field>: ..."), no traceback,
nothing on stdout, and no --out file.

Each case is run through ``schedkit schedule ... --out <file>`` (so the --out guarantee is checked for every
case) and the cluster / config cases through ``schedkit explain`` as well; trace cases through ``schedkit
replay ... --out <folder>``, which must not create the folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from schedkit.cli import main
from schedkit.errors import InputError
from schedkit.replay.output import LOCK, OutLock
from schedkit.traces.workload import MAX_SECONDS, seconds_problem
from schedkit.validation import validate_object

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NODES = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
- apiVersion: v1
  kind: Node
  metadata: {name: n2}
  status: {allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
"""

GOOD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    resources: {requests: {cpu: "1", memory: 1Gi}}
"""

CONFIG_HEAD = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"


def pod_with(resources: str = '{requests: {cpu: "1"}}', spec_extra: str = "") -> str:
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata: {{name: p}}
        spec:
          containers:
          - name: c
            resources: {resources}
        """) + textwrap.indent(textwrap.dedent(spec_extra), "  ")


def pod_json(cpu_literal: str) -> str:
    return ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": '
            f'[{{"name": "c", "resources": {{"requests": {{"cpu": {cpu_literal}}}}}}}]}}}}')


def check_error(result, *needles: str) -> str:
    """The single-line error contract; returns the line."""
    assert not (result.exception is not None and not isinstance(result.exception, SystemExit)), (
        f"traceback: {result.exception!r}")
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("schedkit: error: "), line
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def nodes(tmp_path):
    path = tmp_path / "nodes.yaml"
    path.write_text(NODES)
    return str(path)


@pytest.fixture
def good_pod(tmp_path):
    path = tmp_path / "good-pod.yaml"
    path.write_text(GOOD_POD)
    return str(path)


# ---------------------------------------------------------------------------------------- pod manifests

POD_CASES = {
    "malformed-yaml": ("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: [p\nspec: {}\n",
                       ["malformed YAML at line"]),
    "malformed-json": ("bad.json", '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}',
                       ["malformed JSON at line 1"]),
    "cpu-1.5.0": ("pod.yaml", pod_with('{requests: {cpu: "1.5.0"}}'),
                  ["spec.containers[0].resources.requests.cpu", 'invalid quantity "1.5.0"']),
    "memory-1Gb": ("pod.yaml", pod_with("{requests: {memory: 1Gb}}"),
                   ["spec.containers[0].resources.requests.memory", 'invalid quantity "1Gb"']),
    "memory-lowercase-ki": ("pod.yaml", pod_with("{requests: {memory: 10ki}}"),
                            ["spec.containers[0].resources.requests.memory", 'invalid quantity "10ki"']),
    "negative-request": ("pod.yaml", pod_with('{requests: {cpu: "-1"}}'),
                         ["spec.containers[0].resources.requests.cpu", "greater than or equal to 0"]),
    "negative-limit": ("pod.yaml", pod_with("{limits: {memory: -1Gi}}"),
                       ["spec.containers[0].resources.limits.memory", "greater than or equal to 0"]),
    "negative-init-container": ("pod.yaml", pod_with(spec_extra="""\
        initContainers:
        - name: init
          resources: {requests: {cpu: -100m}}
        """), ["spec.initContainers[0].resources.requests.cpu"]),
    "negative-overhead": ("pod.yaml", pod_with(spec_extra="overhead: {cpu: -1}\n"), ["spec.overhead.cpu"]),
    "yaml-nan": ("pod.yaml", pod_with("{requests: {cpu: .nan}}"),
                 ["spec.containers[0].resources.requests.cpu", "invalid quantity"]),
    "yaml-inf": ("pod.yaml", pod_with("{requests: {memory: .inf}}"),
                 ["spec.containers[0].resources.requests.memory", "invalid quantity"]),
    "yaml-minus-inf": ("pod.yaml", pod_with("{requests: {memory: -.inf}}"),
                       ["spec.containers[0].resources.requests.memory", "invalid quantity"]),
    "string-NaN": ("pod.yaml", pod_with('{requests: {cpu: "NaN"}}'),
                   ["spec.containers[0].resources.requests.cpu", 'invalid quantity "NaN"']),
    "json-NaN": ("pod.json", pod_json("NaN"), ["spec.containers[0].resources.requests.cpu", "invalid quantity"]),
    "json-Infinity": ("pod.json", pod_json("Infinity"),
                      ["spec.containers[0].resources.requests.cpu", "invalid quantity"]),
    "quantity-bool": ("pod.yaml", pod_with("{requests: {cpu: true}}"),
                      ["spec.containers[0].resources.requests.cpu", "invalid quantity"]),
    "second-pod-in-list": ("pods.yaml", ("apiVersion: v1\nkind: List\nitems:\n"
                           "- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c}]}}\n"
                           "- {apiVersion: v1, kind: Pod, metadata: {name: q}, spec: {containers: "
                           "[{name: c, resources: {requests: {cpu: 2x}}}]}}\n"),
                           ["items[1].spec.containers[0].resources.requests.cpu"]),
    "second-document": ("pods.yaml", GOOD_POD + "---\n" + pod_with('{requests: {cpu: "1.5.0"}}'),
                        ["document 2.spec.containers[0].resources.requests.cpu"]),
    "pod-without-name": ("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\nspec: {}\n",
                         ["metadata.name"]),
    "bad-toleration-operator": ("pod.yaml", pod_with(spec_extra="tolerations: [{key: a, operator: Equals}]\n"),
                                ["spec.tolerations[0].operator", "Equals"]),
    "bad-toleration-effect": ("pod.yaml", pod_with(spec_extra="tolerations: [{key: a, effect: NoScheduled}]\n"),
                              ["spec.tolerations[0].effect", "NoScheduled"]),
    "host-port-out-of-range": ("pod.yaml", pod_with(spec_extra="").replace(
        "    resources:", "    ports: [{containerPort: 80, hostPort: 70000}]\n    resources:"),
        ["spec.containers[0].ports[0].hostPort"]),
    "bad-node-selector-operator": ("pod.yaml", pod_with(spec_extra="""\
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions: [{key: zone, operator: Within, values: [a]}]
        """), [("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
               ".nodeSelectorTerms[0].matchExpressions[0].operator")]),
    "unknown-priority-class": ("pod.yaml", pod_with(spec_extra="priorityClassName: gold\n"),
                               ["spec.priorityClassName", "gold"]),
    "containers-not-a-list": ("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: 3}\n",
                              ["spec.containers"]),
    "scalar-document": ("pod.yaml", "42\n", ["expected a Kubernetes object"]),
    # What kube-apiserver refuses (pkg/apis/core/validation/validation.go), with its messages.
    "name-not-dns-subdomain": ("pod.yaml", pod_with().replace("name: p}", "name: Web_1}"),
                               ['metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist']),
    "name-too-long": ("pod.yaml", pod_with().replace("name: p}", f"name: {'a' * 254}}}"),
                      ["metadata.name: Invalid value:", "must be no more than 253 characters"]),
    "namespace-not-dns-label": ("pod.yaml", pod_with().replace("name: p}", "name: p, namespace: team.a}"),
                                ['metadata.namespace: Invalid value: "team.a": a lowercase RFC 1123 label']),
    "containers-empty": ("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
                         ["spec.containers: Required value"]),
    "containers-missing": ("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n",
                           ["spec.containers: Required value"]),
    "limit-below-request": ("pod.yaml", pod_with('{requests: {cpu: "2"}, limits: {cpu: "1"}}'),
                            ['spec.containers[0].resources.requests: Invalid value: "2": '
                             "must be less than or equal to cpu limit of 1"]),
    "init-limit-below-request": ("pod.yaml", pod_with(spec_extra="""\
        initContainers:
        - name: init
          resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}
        """), ['spec.initContainers[0].resources.requests: Invalid value: "2Gi": '
               "must be less than or equal to memory limit of 1Gi"]),
    "max-skew-zero": ("pod.yaml", pod_with(spec_extra="""\
        topologySpreadConstraints:
        - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
        """), ["spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero"]),
    "min-domains-zero": ("pod.yaml", pod_with(spec_extra="""\
        topologySpreadConstraints:
        - {maxSkew: 1, minDomains: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
        """), ["spec.topologySpreadConstraints[0].minDomains: Invalid value: 0: must be greater than zero"]),
    "gt-two-values": ("pod.yaml", pod_with(spec_extra="""\
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions: [{key: gen, operator: Gt, values: ["1", "2"]}]
        """), ["nodeSelectorTerms[0].matchExpressions[0].values: Required value: "
               "must be specified single value when `operator` is 'Lt' or 'Gt'"]),
    "in-without-values": ("pod.yaml", pod_with(spec_extra="""\
        affinity:
          nodeAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 1
              preference: {matchExpressions: [{key: zone, operator: In, values: []}]}
        """), ["preference.matchExpressions[0].values: Required value: "
               "must be specified when `operator` is 'In' or 'NotIn'"]),
    "pod-affinity-weight-101": ("pod.yaml", pod_with(spec_extra="""\
        affinity:
          podAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - {weight: 101, podAffinityTerm: {topologyKey: zone}}
        """), ["spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
               "Invalid value: 101: must be in the range 1-100"]),
    "priority-beyond-int32": ("pod.yaml", pod_with(spec_extra="priority: 2147483648\n"),
                              ["spec.priority: Invalid value: 2147483648: must be a 32-bit integer"]),
    "priority-below-int32": ("pod.yaml", pod_with(spec_extra="priority: -2147483649\n"),
                             ["spec.priority: Invalid value: -2147483649: must be a 32-bit integer"]),
    "priority-beyond-int64": ("pod.yaml", pod_with(spec_extra=f"priority: {10**30}\n"),
                              [f"spec.priority: Invalid value: {10**30}: must be a 64-bit integer"]),
    "max-skew-beyond-int64": ("pod.yaml", pod_with(spec_extra=f"""\
        topologySpreadConstraints:
        - {{maxSkew: {2**64}, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}}
        """), [f"spec.topologySpreadConstraints[0].maxSkew: Invalid value: {2**64}: must be a 64-bit integer"]),
    "pod-affinity-weight-beyond-int64": ("pod.yaml", pod_with(spec_extra=f"""\
        affinity:
          podAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - {{weight: {10**20}, podAffinityTerm: {{topologyKey: zone}}}}
        """), ["preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: "
               f"{10**20}: must be a 64-bit integer"]),
    "priority-class-beyond-int32": ("pods.yaml", ("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"
                                    "metadata: {name: gold}\nvalue: 3000000000\n---\n" + pod_with()),
                                    ["document 1.value: Invalid value: 3000000000: must be a 32-bit integer"]),
}


@pytest.mark.parametrize("case", sorted(POD_CASES))
def test_bad_pod_file(tmp_path, nodes, case):
    name, text, needles = POD_CASES[case]
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "out.json"
    line = check_error(invoke("schedule", "--cluster", nodes, "--pods", str(path), "-o", "json", "--out", str(out)),
                       *needles)
    assert line.startswith(f"schedkit: error: {path}: ")
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == sorted(["nodes.yaml", name])  # no temp file left either
    check_error(invoke("explain", "--cluster", nodes, "--pod", str(path)), str(path), *needles)


def test_pod_error_names_the_field_exactly(tmp_path, nodes):
    path = tmp_path / "pod.yaml"
    path.write_text(pod_with('{requests: {cpu: "1.5.0"}}'))
    line = check_error(invoke("explain", "--cluster", nodes, "--pod", str(path)))
    assert line == (
        f"schedkit: error: {path}: spec.containers[0].resources.requests.cpu: invalid quantity \"1.5.0\": "
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


# ------------------------------------------------------------------------------------ cluster manifests

NODE_CASES = {
    "node-without-name": ("apiVersion: v1\nkind: Node\nmetadata: {labels: {a: b}}\n", ["metadata.name"]),
    "node-without-name-in-list": ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Node, metadata: {}}\n",
                                  ["items[0].metadata.name"]),
    "taint-bad-effect": (("apiVersion: v1\nkind: Node\nmetadata: {name: x}\n"
                         "spec: {taints: [{key: a, value: b, effect: NoScheduleX}]}\n"),
                         ["spec.taints[0].effect", "NoScheduleX"]),
    "taint-missing-effect": ("apiVersion: v1\nkind: Node\nmetadata: {name: x}\nspec: {taints: [{key: a}]}\n",
                             ["spec.taints[0].effect"]),
    "allocatable-bad-quantity": (("apiVersion: v1\nkind: List\nitems:\n"
                                 "- {apiVersion: v1, kind: Node, metadata: {name: a}}\n"
                                 "- {apiVersion: v1, kind: Node, metadata: {name: b}, "
                                 "status: {allocatable: {cpu: 4 cores}}}\n"),
                                 ["items[1].status.allocatable.cpu"]),
    "allocatable-negative": ("apiVersion: v1\nkind: Node\nmetadata: {name: x}\nstatus: {allocatable: {memory: -8Gi}}\n",
                             ["status.allocatable.memory"]),
    "capacity-nan": ("apiVersion: v1\nkind: Node\nmetadata: {name: x}\nstatus: {capacity: {cpu: .nan}}\n",
                     ["status.capacity.cpu"]),
    "unschedulable-not-bool": ("apiVersion: v1\nkind: Node\nmetadata: {name: x}\nspec: {unschedulable: 'yes'}\n",
                               ["spec.unschedulable"]),
    "label-not-string": ("apiVersion: v1\nkind: Node\nmetadata: {name: x, labels: {zone: 1}}\n",
                         ["metadata.labels.zone"]),
    "object-without-kind": ("apiVersion: v1\nmetadata: {name: x}\n", ["no kind"]),
    "duplicate-node": (("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Node, metadata: {name: a}}\n"
                       "- {apiVersion: v1, kind: Node, metadata: {name: a}}\n"), ["duplicate Node 'a'"]),
    "malformed-yaml": ("apiVersion: v1\nkind: Node\n  metadata: {name: x}\n", ["malformed YAML"]),
    "running-pod-bad-quantity": (("apiVersion: v1\nkind: List\nitems:\n"
                                 "- {apiVersion: v1, kind: Node, metadata: {name: a}}\n"
                                 "- {apiVersion: v1, kind: Pod, metadata: {name: r}, spec: {nodeName: a, "
                                 "containers: [{name: c, resources: {requests: {cpu: 1Gb}}}]}}\n"),
                                 ["items[1].spec.containers[0].resources.requests.cpu"]),
    # A Node with neither status.allocatable nor status.capacity would hold no pod at all.
    "node-without-capacity": ("apiVersion: v1\nkind: Node\nmetadata: {name: x}\n",
                              ["status.allocatable: Required value: a Node needs status.allocatable or "
                               "status.capacity"]),
    "node-with-empty-status": ("apiVersion: v1\nkind: Node\nmetadata: {name: x}\nstatus: {allocatable: {}}\n",
                               ["status.allocatable: Required value"]),
    "node-name-not-dns-subdomain": (("apiVersion: v1\nkind: Node\nmetadata: {name: Node_1}\n"
                                    "status: {allocatable: {cpu: '1'}}\n"),
                                    ['metadata.name: Invalid value: "Node_1": a lowercase RFC 1123 subdomain']),
    "empty-file": ("", ["no Node objects found"]),
    "comments-only": ("# kubectl get nodes printed nothing\n", ["no Node objects found"]),
    "pods-but-no-nodes": (("apiVersion: v1\nkind: Pod\nmetadata: {name: r}\n"
                          "spec: {containers: [{name: c}]}\n"), ["no Node objects found"]),
    "running-pod-limit-below-request": (("apiVersion: v1\nkind: List\nitems:\n"
                                        "- {apiVersion: v1, kind: Node, metadata: {name: a}, "
                                        "status: {allocatable: {cpu: '4'}}}\n"
                                        "- {apiVersion: v1, kind: Pod, metadata: {name: r}, spec: {nodeName: a, "
                                        "containers: [{name: c, resources: {requests: {cpu: '2'}, "
                                        "limits: {cpu: '1'}}}]}}\n"),
                                        ["items[1].spec.containers[0].resources.requests: Invalid value: \"2\""]),
    "huge-integer-in-node": (("apiVersion: v1\nkind: Node\nmetadata: {name: x}\n"
                             f"status: {{allocatable: {{cpu: '1'}}, images: [{{names: [a], sizeBytes: {2**63}}}]}}\n"),
                             [f"status.images[0].sizeBytes: Invalid value: {2**63}: must be a 64-bit integer"]),
}


@pytest.mark.parametrize("case", sorted(NODE_CASES))
def test_bad_cluster_file(tmp_path, good_pod, case):
    text, needles = NODE_CASES[case]
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    out = tmp_path / "out.csv"
    line = check_error(invoke("schedule", "--cluster", str(path), "--pods", good_pod, "-o", "csv", "--out", str(out)),
                       *needles)
    assert line.startswith(f"schedkit: error: {path}: ")
    assert not out.exists()
    check_error(invoke("explain", "--cluster", str(path), "--pod", good_pod), str(path), *needles)


def test_malformed_json_cluster(tmp_path, good_pod):
    path = tmp_path / "nodes.json"
    path.write_text('{"apiVersion": "v1", "kind": "NodeList", "items": [{"kind": "Node",}]}')
    line = check_error(invoke("schedule", "--cluster", str(path), "--pods", good_pod))
    assert line.startswith(f"schedkit: error: {path}: malformed JSON at line 1 column ")


def test_missing_files(tmp_path, nodes, good_pod):
    missing = str(tmp_path / "nope.yaml")
    expected = f"schedkit: error: {missing}: no such file or directory"
    out = tmp_path / "out.json"
    for args in (["schedule", "--cluster", missing],
                 ["schedule", "--cluster", nodes, "--cluster", missing],
                 ["schedule", "--cluster", nodes, "--pods", missing],
                 ["schedule", "--cluster", nodes, "--config", missing],
                 ["explain", "--cluster", missing, "--pod", good_pod],
                 ["explain", "--cluster", nodes, "--pod", missing],
                 ["explain", "--cluster", nodes, "--pod", good_pod, "--config", missing]):
        extra = ["--out", str(out)] if args[0] == "schedule" else []
        assert check_error(invoke(*args, *extra)) == expected, args
        assert not out.exists()


def test_directory_without_manifests(tmp_path, good_pod):
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing here")
    (folder / "sub").mkdir()
    line = check_error(invoke("schedule", "--cluster", str(folder), "--pods", good_pod))
    assert line == f"schedkit: error: {folder}: directory holds no .yaml, .yml or .json files"
    check_error(invoke("explain", "--cluster", str(folder), "--pod", good_pod), str(folder))


def test_bad_file_inside_directory_is_named(tmp_path, good_pod):
    folder = tmp_path / "dump"
    (folder / "pods").mkdir(parents=True)
    (folder / "nodes.yaml").write_text(NODES)
    bad = folder / "pods" / "team-a.json"
    bad.write_text(json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "team-a"},
         "spec": {"nodeName": "n1", "containers": [{"name": "c", "resources": {"requests": {"memory": "-5Mi"}}}]}}]}))
    check_error(invoke("schedule", "--cluster", str(folder)), str(bad),
                "items[0].spec.containers[0].resources.requests.memory")


def test_explain_pod_file_without_pods(tmp_path, nodes):
    check_error(invoke("explain", "--cluster", nodes, "--pod", nodes), nodes, "no Pod objects found")


def test_non_utf8_file(tmp_path, good_pod):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    check_error(invoke("schedule", "--cluster", str(path), "--pods", good_pod), str(path), "cannot read file")


# ---------------------------------------------------------------------------------------------- config

RTCR = """\
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{name: cpu, weight: 1}]
        requestedToCapacityRatio:
          shape: [{utilization: 50, score: 5}, {utilization: 10, score: 1}]
"""

CONFIG_CASES = {
    "malformed-yaml": ("profiles:\n- schedulerName: [x\n", ["malformed YAML"]),
    "unknown-plugin-multipoint": ("profiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: Foo}]\n",
                                  ["profiles[0].plugins.multiPoint.enabled[0]", '"Foo" does not exist']),
    "unknown-plugin-filter": ("profiles:\n- plugins:\n    filter:\n      enabled: [{name: Foo}]\n",
                              ["profiles[0].plugins.filter.enabled[0]", 'FilterPlugin "Foo" does not exist']),
    "unknown-plugin-score": ("profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesFitt, weight: 2}]\n",
                             ["profiles[0].plugins.score.enabled[0]", "NodeResourcesFitt"]),
    "unknown-field-profile": ("profiles:\n- plugin: {}\n",
                              ["profiles[0].plugin", 'strict decoding error: unknown field "profiles[0].plugin"']),
    "unknown-field-top": ("percentageOfNodeToScore: 50\n", ["percentageOfNodeToScore", "unknown field"]),
    "unknown-field-plugin-ref": ("profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesFit, wieght: 2}]\n",
                                 ["profiles[0].plugins.score.enabled[0].wieght", "unknown field"]),
    "unknown-extension-point": ("profiles:\n- plugins:\n    scores: {}\n", ["profiles[0].plugins.scores"]),
    "negative-weight-score": ("profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesFit, weight: -1}]\n",
                              ["profiles[0].plugins.score.enabled[0]", "weight -1"]),
    "negative-weight-multipoint": (("profiles:\n- plugins:\n    multiPoint:\n"
                                   "      enabled: [{name: TaintToleration, weight: -3}]\n"),
                                   ["profiles[0].plugins.multiPoint.enabled[0]", "weight -3"]),
    "weight-not-integer": ("profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesFit, weight: '2'}]\n",
                           ["profiles[0].plugins.score.enabled[0].weight"]),
    "fit-resource-weight-101": (("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n"
                                "      scoringStrategy:\n        type: LeastAllocated\n"
                                "        resources: [{name: cpu, weight: 101}]\n"),
                                ["profiles[0].pluginConfig[0].args", "scoringStrategy.resources[0].weight", "101"]),
    "fit-unknown-strategy": (("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n"
                             "      scoringStrategy: {type: LeastRequested}\n"),
                             ["profiles[0].pluginConfig[0].args", "scoringStrategy.type", "LeastRequested"]),
    "fit-rtcr-shape-unsorted": (RTCR, ["profiles[0].pluginConfig[0].args", "shape[1].utilization",
                                       "sorted in increasing order"]),
    "fit-unknown-arg": ("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategyy: {}}\n",
                        ["profiles[0].pluginConfig[0].args", "scoringStrategyy"]),
    "percentage-101": ("percentageOfNodesToScore: 101\n", ["percentageOfNodesToScore", "101"]),
    "percentage-101-profile": ("profiles:\n- percentageOfNodesToScore: 101\n",
                               ["profiles[0].percentageOfNodesToScore", "101"]),
    "percentage-negative": ("percentageOfNodesToScore: -1\n", ["percentageOfNodesToScore", "-1"]),
    "duplicate-profile": ("profiles:\n- schedulerName: a\n- schedulerName: a\n",
                          ["profiles[1].schedulerName", "Duplicate"]),
    "removed-plugin": ("profiles:\n- plugins:\n    filter:\n      enabled: [{name: EBSLimits}]\n",
                       ["profiles[0].plugins.filter.enabled[0].name", "EBSLimits"]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_bad_config(tmp_path, nodes, good_pod, case):
    body, needles = CONFIG_CASES[case]
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_HEAD + body)
    out = tmp_path / "out.json"
    line = check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--config", str(path),
                              "--out", str(out)), *needles)
    assert line.startswith(f"schedkit: error: {path}: ")
    assert not out.exists()
    check_error(invoke("explain", "--cluster", nodes, "--pod", good_pod, "--config", str(path)), str(path), *needles)


def test_config_wrong_api_version(tmp_path, nodes, good_pod):
    path = tmp_path / "config.yaml"
    path.write_text("apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n")
    check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--config", str(path)),
                str(path), "apiVersion", "v1beta3")


def test_config_two_documents(tmp_path, nodes, good_pod):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_HEAD + "---\n" + CONFIG_HEAD)
    check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--config", str(path)),
                str(path), "found 2")


def test_exact_config_error_line(tmp_path, nodes, good_pod):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_HEAD + "profiles:\n- plugin: {}\n")
    line = check_error(invoke("explain", "--cluster", nodes, "--pod", good_pod, "--config", str(path)))
    assert line == (f'schedkit: error: {path}: profiles[0].plugin: strict decoding error: unknown field '
                    '"profiles[0].plugin"; did you mean "plugins"?')


# ---------------------------------------------------------------------------------- CLI usage errors


def test_unknown_output_format_is_a_usage_error(nodes, good_pod):
    result = invoke("explain", "--cluster", nodes, "--pod", good_pod, "-o", "yaml")
    assert result.exit_code == 2
    assert "Invalid value for '--output'" in result.stderr


# ------------------------------------------------------- bugs found by trying the CLI (fixed; kept as tests)


def test_out_under_a_file_is_a_clean_error(tmp_path, nodes, good_pod):
    (tmp_path / "a-file").write_text("x")
    out = tmp_path / "a-file" / "sub" / "out.json"
    check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--out", str(out)), str(out))
    assert not out.exists()


def test_out_is_a_directory_is_a_clean_error(tmp_path, nodes, good_pod):
    folder = tmp_path / "results"
    folder.mkdir()
    check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--out", str(folder)), str(folder))


SEED_ERROR = "schedkit: error: --seed: must be between 0 and 18446744073709551615, got {}"


@pytest.mark.parametrize("command", ["explain", "schedule", "replay", "bench", "trace generate"])
@pytest.mark.parametrize("seed", ["-1", str(2**64)])
def test_seed_out_of_range_is_refused_on_every_command(tmp_path, nodes, good_pod, command, seed):
    """Negative seeds used to be accepted (and wrapped modulo 2**64 by the tie-breaking state)."""
    args = {"explain": ["--cluster", nodes, "--pod", good_pod],
            "schedule": ["--cluster", nodes, "--pods", good_pod, "--out", str(tmp_path / "out.json")],
            "replay": ["--out", str(tmp_path / "out"), "--quiet"],
            "bench": ["--quick"],
            "trace generate": ["--out", str(tmp_path / "out")]}[command]
    line = check_error(invoke(*command.split(), *args, "--seed", seed))
    assert line == SEED_ERROR.format(seed)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("flag, value, needle", [
    ("--pods", "1000000000000", "--pods: at most 5,000,000 (the most a replay holds here, at about 1.3 GB per "
                                "million pods), got 1,000,000,000,000"),
    ("--nodes", "99999999999", "--nodes: at most 100,000 (twenty times the 5,000 nodes Kubernetes supports), "
                               "got 99,999,999,999"),
])
def test_trace_generate_beyond_its_bounds_is_refused(tmp_path, flag, value, needle):
    """These used to end in a numpy MemoryError traceback."""
    out = tmp_path / "out"
    line = check_error(invoke("trace", "generate", flag, value, "--out", str(out)))
    assert line == f"schedkit: error: {needle}"
    assert not out.exists()


@pytest.mark.parametrize("resources", ['{requests: {memory: "10E"}}', '{requests: {cpu: "1E"}}',
                                       '{requests: {cpu: "1e100"}}'])
def test_request_beyond_int64_does_not_crash(tmp_path, nodes, resources):
    path = tmp_path / "pod.yaml"
    path.write_text(pod_with(resources))
    result = invoke("schedule", "--cluster", nodes, "--pods", str(path), "-o", "json")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:  # saturated: the pod cannot fit anywhere
        assert json.loads(result.stdout)["unschedulable"] == 1
    else:
        check_error(result, str(path))


def test_allocatable_beyond_int64_does_not_crash(tmp_path, good_pod):
    path = tmp_path / "node.yaml"
    path.write_text('apiVersion: v1\nkind: Node\nmetadata: {name: x}\nstatus: {allocatable: {cpu: "1E", pods: "10"}}\n')
    result = invoke("explain", "--cluster", str(path), "--pod", good_pod)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2)


def test_deeply_nested_json_is_a_clean_error(tmp_path, good_pod):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    check_error(invoke("schedule", "--cluster", str(path), "--pods", good_pod), str(path))


# ------------------------------------------------- what the API server accepts stays accepted


def test_node_with_only_capacity_falls_back_to_it(tmp_path, good_pod):
    """The API server's defaulting copies capacity into a missing allocatable: keep that."""
    path = tmp_path / "node.yaml"
    path.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: x}\n"
                    "status: {capacity: {cpu: '2', memory: 4Gi, pods: '10'}}\n")
    result = invoke("schedule", "--cluster", str(path), "--pods", good_pod, "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scheduled"] == 1


def test_gt_with_a_non_integer_value_is_accepted_and_matches_no_node(tmp_path, nodes):
    """kube-apiserver only counts a Gt/Lt requirement's values (ValidateNodeSelectorRequirement;
    kubernetes#89289, which would have checked them, was closed unmerged): the pod is valid and pending."""
    path = tmp_path / "pod.yaml"
    path.write_text(pod_with(spec_extra="""\
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions: [{key: gen, operator: Gt, values: ["1.5"]}]
        """))
    result = invoke("schedule", "--cluster", nodes, "--pods", str(path), "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unschedulable"] == 1


# ------------------------------------------------------------------------------------------ traces

SCHEDKIT_NODES = "name,cpu,memory\nn1,4,8Gi\n"
OPENB_NODES = "sn,cpu_milli,memory_mib,gpu,model\nn1,4000,8192,0,\n"
OPENB_TIMED_HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time\n"


def replay_error(tmp_path, trace, *args: str) -> str:
    """A replay refused before any work: the one-line contract, and no output folder left behind."""
    out = tmp_path / "out"
    line = check_error(invoke("replay", str(trace), *args, "--out", str(out), "--quiet"))
    assert not out.exists()
    return line


def schedkit_trace(tmp_path, pods: str, nodes: str = SCHEDKIT_NODES):
    folder = tmp_path / "trace"
    folder.mkdir()
    (folder / "pods.csv").write_text(pods)
    (folder / "nodes.csv").write_text(nodes)
    return folder


SCHEDKIT_TRACE_CASES = {
    # A short row was read as a pod with empty cells: a BestEffort pod with no requests.
    "pod-row-short": ("name,arrival,cpu,memory\na,0,1,1Gi\nb,1\n", SCHEDKIT_NODES,
                      "pods.csv: row 3: the row has 2 cells but the header has 4"),
    "node-row-short": ("name,arrival,cpu\na,0,1\n", "name,cpu,memory,pods\nn1,4,8Gi,110\nn2,4\n",
                       "nodes.csv: row 3: the row has 2 cells but the header has 4"),
    "arrival-1e300": ("name,arrival,cpu\na,1e300,1\n", SCHEDKIT_NODES,
                      "pods.csv: row 2, column arrival: 1e+300 s is beyond the 1e+11 s"),
    "arrival-in-milliseconds": ("name,arrival,cpu\na,1700000000000,1\n", SCHEDKIT_NODES,
                                "pods.csv: row 2, column arrival: 1.7e+12 s is beyond the 1e+11 s"),
    "arrival-infinite": ("name,arrival,cpu\na,inf,1\n", SCHEDKIT_NODES, "pods.csv: row 2, column arrival: "),
    "duration-1e300": ("name,arrival,duration,cpu\na,0,1e300,1\n", SCHEDKIT_NODES,
                       "pods.csv: row 2, column duration: 1e+300 s is beyond"),
    "end-1e300": ("name,arrival,end,cpu\na,0,1e300,1\n", SCHEDKIT_NODES, "pods.csv: row 2, column end: 1e+300 s"),
    "nodes-without-cpu-memory": ("name,arrival,cpu\na,0,1\n", "name,nvidia.com/gpu\nn1,8\n",
                                 "nodes.csv: missing column(s) cpu, memory"),
    "node-memory-empty": ("name,arrival,cpu\na,0,1\n", "name,cpu,memory\nn1,4,\n",
                          "nodes.csv: row 2, column memory: a value is required"),
    "priority-beyond-int32": ("name,arrival,cpu,priority\na,0,1,2147483648\n", SCHEDKIT_NODES,
                              "pods.csv: row 2, column priority: must be a 32-bit integer"),
    "priority-beyond-int64": (f"name,arrival,cpu,priority\na,0,1,{10**30}\n", SCHEDKIT_NODES,
                              "pods.csv: row 2, column priority: must be a 32-bit integer"),
    "max-skew-zero": ('name,arrival,cpu,topology_spread_constraints\na,0,1,"[{""maxSkew"":0,""topologyKey"":'
                      '""zone"",""whenUnsatisfiable"":""DoNotSchedule""}]"\n', SCHEDKIT_NODES,
                      "pods.csv: row 2.spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: "
                      "must be greater than zero"),
    "node-affinity-gt-two-values": ('name,arrival,cpu,affinity\na,0,1,"{""nodeAffinity"":{""requiredDuringScheduling'
                                    'IgnoredDuringExecution"":{""nodeSelectorTerms"":[{""matchExpressions"":[{""key"":'
                                    '""gen"",""operator"":""Lt"",""values"":[]}]}]}}}"\n', SCHEDKIT_NODES,
                                    "must be specified single value when `operator` is 'Lt' or 'Gt'"),
}


@pytest.mark.parametrize("case", sorted(SCHEDKIT_TRACE_CASES))
def test_bad_schedkit_trace(tmp_path, case):
    pods, nodes, needle = SCHEDKIT_TRACE_CASES[case]
    folder = schedkit_trace(tmp_path, pods, nodes)
    line = replay_error(tmp_path, folder)
    assert needle in line, line


OPENB_CASES = {
    "row-short": ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,100,0,0\np2,1000,100\n", ["fill"],
                  "row 3: the row has 3 cells but the header has 5"),
    "row-long": ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,100,0,0,7\n", ["fill"],
                 "row 2: the row has 6 cells but the header has 5"),
    # Timed mode used to invent arrivals from the row number and still call the replay "timed".
    "no-times-in-timed-mode": ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,100,0,0\n", ["timed"],
                               "records no creation_time/deletion_time, so a timed replay has no arrival times "
                               "to follow; replay it with --mode fill"),
    "creation-without-deletion": ("name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time\np1,1000,100,0,0,5\n",
                                  ["fill"], "has a creation_time column but no deletion_time"),
    "creation-time-huge": (OPENB_TIMED_HEADER + f"p1,1000,100,0,0,,LS,Running,{10**20},{10**20 + 5}\n", ["timed"],
                           "row 2, column creation_time: 1e+20 s is beyond the 1e+11 s"),
    "deletion-time-huge": (OPENB_TIMED_HEADER + f"p1,1000,100,0,0,,LS,Running,5,{10**20}\n", ["timed"],
                           "row 2, column deletion_time: 1e+20 s is beyond the 1e+11 s"),
}


@pytest.mark.parametrize("case", sorted(OPENB_CASES))
def test_bad_openb_trace(tmp_path, case):
    pods, (mode,), needle = OPENB_CASES[case]
    trace = tmp_path / "openb_pod_list_test.csv"
    trace.write_text(pods)
    (tmp_path / "openb_node_list_gpu_node.csv").write_text(OPENB_NODES)
    line = replay_error(tmp_path, trace, "--mode", mode)
    assert line.startswith(f"schedkit: error: {trace}: "), line
    assert needle in line, line


@pytest.mark.parametrize("value, needle", [("1e300", "1e+300 s is beyond the 1e+11 s"),
                                           ("inf", "must be a finite number of seconds"),
                                           ("nan", "must be a number of seconds, got 'nan'"),
                                           ("-1", "must be at least 0 seconds")])
def test_bad_k8s_trace_time(tmp_path, value, needle):
    trace = tmp_path / "scenario.yaml"
    trace.write_text(NODES + "---\n" + pod_with().replace(
        "metadata: {name: p}", f"metadata: {{name: p, annotations: {{schedkit.io/arrival: '{value}'}}}}"))
    line = replay_error(tmp_path, trace)
    assert f"{trace}: pod default/p: metadata.annotations[schedkit.io/arrival]: {needle}" in line, line


# ------------------------------------------------------------------------- one replay per --out folder

HOLD_LOCK = """
import sys, time
from schedkit.replay.output import OutLock
with OutLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_second_replay_into_the_same_out_fails_while_the_first_runs(tmp_path):
    """Two replays given the same --out: the second used to overwrite the first's files unnoticed."""
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True,
                              cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        line = check_error(invoke("replay", "--out", str(out), "--quiet"))
        assert line == (f"schedkit: error: {out}: another replay (pid {holder.pid}) is writing to this folder; "
                        "wait for it to finish or give another --out")
        assert os.listdir(out) == [LOCK]  # the first run's lock, untouched
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_dead_replay_is_taken_over_and_removed_at_the_end(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / LOCK).write_text(dead.stdout)  # as a replay killed with -9 leaves it
    result = invoke("replay", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out)) == ["placements.parquet", "summary.json", "timeline.parquet"]


def test_lock_is_removed_when_a_replay_fails_or_is_interrupted(tmp_path):
    out = tmp_path / "out"
    folder = schedkit_trace(tmp_path, "name,arrival,cpu\na,1e300,1\n")
    check_error(invoke("replay", str(folder), "--out", str(out), "--quiet"))
    assert not out.exists()  # created for the lock, removed with it
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        with OutLock(str(out)):
            assert os.listdir(out) == [LOCK]
            raise KeyboardInterrupt
    assert os.listdir(out) == []


# ------------------------------------------------------------------------------- properties

_keys = st.text(alphabet="abcxyz", min_size=1, max_size=4)
_manifests = st.recursive(st.integers(-(2**63), 2**63 - 1) | st.text(max_size=3) | st.booleans() | st.none(),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
                          max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(other=st.dictionaries(_keys, _manifests, max_size=4), big=st.integers(2**63, 2**200) | st.integers(
    -(2**200), -(2**63) - 1), where=st.lists(_keys, min_size=1, max_size=3))
def test_an_integer_beyond_int64_anywhere_is_refused_at_its_path(other, big, where):
    manifest = {"kind": "ConfigMap", **other}
    node = manifest
    for key in where[:-1]:
        node[key] = node = {}
    node[where[-1]] = big
    with pytest.raises(InputError) as error:
        validate_object(manifest, "f.yaml")
    assert str(error.value) == f"f.yaml: {'.'.join(where)}: Invalid value: {big}: must be a 64-bit integer: " \
                               "no API field is wider"


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_trace_times_are_finite_and_within_the_clock(value):
    assert (seconds_problem(value) is None) == (0 <= value <= MAX_SECONDS)


@settings(max_examples=100, deadline=None)
@given(st.integers(-(2**40), 2**40))
def test_priority_must_fit_int32(priority):
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}], "priority": priority}}
    if -(2**31) <= priority < 2**31:
        validate_object(pod, "p.yaml")
    else:
        with pytest.raises(InputError, match="spec.priority: Invalid value: .*must be a 32-bit integer"):
            validate_object(pod, "p.yaml")


@pytest.mark.parametrize("case", ["schedkit-node", "openb-node", "openb-pod"])
def test_trace_object_names_the_api_server_refuses(tmp_path, case):
    if case == "schedkit-node":
        trace = schedkit_trace(tmp_path, "name,arrival,cpu\na,0,1\n", "name,cpu,memory\nNode_1,4,8Gi\n")
        where = f"{trace / 'nodes.csv'}: row 2, column name"
        args = []
    else:
        trace = tmp_path / "openb_pod_list_test.csv"
        pod = "P_1" if case == "openb-pod" else "p1"
        trace.write_text(f"name,cpu_milli,memory_mib,num_gpu,gpu_milli\n{pod},1000,100,0,0\n")
        nodes = OPENB_NODES if case == "openb-pod" else OPENB_NODES.replace("\nn1,", "\nNode_1,")
        (tmp_path / "openb_node_list_gpu_node.csv").write_text(nodes)
        where = f"{trace}: row 2, column name" if case == "openb-pod" else \
            f"{tmp_path / 'openb_node_list_gpu_node.csv'}: row 2, column sn"
        args = ["--mode", "fill"]
    line = replay_error(tmp_path, trace, *args)
    assert line.startswith(f"schedkit: error: {where}: Invalid value: "), line
    assert "a lowercase RFC 1123 subdomain must consist of" in line
