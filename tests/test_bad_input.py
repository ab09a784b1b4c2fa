"""Bad input: exit code 2, exactly one line on stderr ("schedkit: error: <file>: <field>: ..."), no traceback,
nothing on stdout, and no --out file.

Each case is run through ``schedkit schedule ... --out <file>`` (so the --out guarantee is checked for every
case) and the cluster / config cases through ``schedkit explain`` as well.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from click.testing import CliRunner

from schedkit.cli import main

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


def test_out_into_missing_folder_is_a_clean_error(tmp_path, nodes, good_pod):
    out = tmp_path / "missing-dir" / "out.json"
    check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--out", str(out)), str(out))
    assert not out.exists()


def test_out_is_a_directory_is_a_clean_error(tmp_path, nodes, good_pod):
    folder = tmp_path / "results"
    folder.mkdir()
    check_error(invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--out", str(folder)), str(folder))


def test_negative_seed_is_rejected_or_accepted_cleanly(nodes, good_pod):
    result = invoke("explain", "--cluster", nodes, "--pod", good_pod, "--seed", "-1")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code != 0:
        check_error(result, "seed")


def test_huge_seed_is_rejected_or_accepted_cleanly(nodes, good_pod):
    result = invoke("schedule", "--cluster", nodes, "--pods", good_pod, "--seed", str(2**64))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code != 0:
        check_error(result, "seed")


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
