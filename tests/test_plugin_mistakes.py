"""Plugin authors' mistakes: a kernel that raises, a failure code missing from ``reason_table``, a
Score kernel returning a float. Each is one line naming the plugin, the kernel, the pod and the node,
exit 2 from explain, schedule and replay, and ``check_plugin`` finds it, on generated clusters that
carry the plugin's labels or on the author's own clusters and pods."""

from __future__ import annotations

import os
from collections import namedtuple

import numpy as np
import pytest
from click.testing import CliRunner

from schedkit import Kernels, Plugin, PluginError, kernel
from schedkit.cli import main
from schedkit.framework import registry as registry_module
from schedkit.framework.config import parse_config
from schedkit.framework.registry import Registry
from schedkit.framework.scheduler import Scheduler
from schedkit.nodeselector import node_label
from schedkit.testing import check_plugin, make_cluster, make_pod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}


def _node_row(cluster, name):
    return (np.array([cluster.node_index.get(name, -1)], dtype=np.int64),)


# -- plain-Python kernels ---------------------------------------------------------------------------

def _divide_on_n0(nodes, pods, p, n, state):
    return 0 if n != state[0][0] else 1 // 0  # ZeroDivisionError on node n0 (the first one examined)


class RaisingFilter(Plugin):
    name = "RaisingFilter"
    kernels = Kernels(filter=_divide_on_n0)

    def prepare(self, cluster, pods, pod_columns):
        return _node_row(cluster, "n0")


def _code_7(nodes, pods, p, n, state):
    return 7


class UnknownCode(Plugin):
    name = "UnknownCode"
    kernels = Kernels(filter=_code_7)
    reason_table = {1: "node(s) are not good enough"}


def _float_score(nodes, pods, p, n, state):
    return 99.5


class FloatScore(Plugin):
    name = "FloatScore"
    kernels = Kernels(score=_float_score)


# -- compiled kernels ---------------------------------------------------------------------------------

@kernel
def _compiled_raise_on_n1(nodes, pods, p, n, state):
    if n == state[0][0]:
        raise ValueError("no cost label")
    return 0


@kernel
def _compiled_float_score(nodes, pods, p, n, state):
    return 99.5


class CompiledMistakes(Plugin):
    """Filter raises on n1; Score returns a float (both found by the compiled loop)."""

    name = "CompiledMistakes"
    kernels = Kernels(filter=_compiled_raise_on_n1, score=_compiled_float_score)

    def prepare(self, cluster, pods, pod_columns):
        return _node_row(cluster, "n1")  # a cluster without n1: Filter passes everywhere


def nodes(count=3):
    return [{"metadata": {"name": f"n{i}"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}}
            for i in range(count)]


def pod(name="p"):
    return make_pod({"metadata": {"name": name, "namespace": "default"},
                     "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]}})


def only(*names, weight=None):
    """A small profile: PrioritySort, DefaultBinder and ``names`` (every default plugin off)."""
    enabled = [{"name": "PrioritySort"}, {"name": "DefaultBinder"}] + [
        {"name": n, **({"weight": weight} if weight else {})} for n in names]
    return {**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": enabled, "disabled": [{"name": "*"}]}}}]}


def scheduler(cls, with_defaults=False):
    config = {**BASE, "profiles": [{"plugins": {"multiPoint": {"enabled": [{"name": cls.name}]}}}]} \
        if with_defaults else only(cls.name)
    return Scheduler(parse_config(config), Registry.with_builtins(cls))


RAISED = r'^plugin "RaisingFilter": kernel filter raised ZeroDivisionError: integer division or modulo by zero ' \
         r"\(pod default/p, node n0\)$"
UNKNOWN = r'^plugin "UnknownCode": kernel filter returned failure code 7, which is not in its reason_table \[1\] ' \
          r"\(pod default/p, node n0\)$"
FLOAT = r'^plugin "FloatScore": kernel score returned 99.5, a float: Score kernels must return an integer ' \
        r"\(pod default/p, node n\d\)$"


@pytest.mark.parametrize("cls, message", [(RaisingFilter, RAISED), (UnknownCode, UNKNOWN), (FloatScore, FLOAT)])
def test_schedule_and_explain_name_the_plugin_kernel_pod_and_node(cls, message):
    with pytest.raises(PluginError, match=message):
        scheduler(cls).schedule(make_cluster(nodes()), [pod()])
    with pytest.raises(PluginError, match=message):
        scheduler(cls).explain(make_cluster(nodes()), pod())
    # With every default plugin too (node-local caches, NormalizeScore, Reserve around it).
    with pytest.raises(PluginError, match=message):
        scheduler(cls, with_defaults=True).schedule(make_cluster(nodes()), [pod()])


def test_the_compiled_loop_reports_a_raising_kernel_and_a_float_score():
    raised = r'^plugin "CompiledMistakes": kernel filter raised ValueError: no cost label \(pod default/p, node n1\)$'
    with pytest.raises(PluginError, match=raised):
        scheduler(CompiledMistakes).schedule(make_cluster(nodes()), [pod()])
    with pytest.raises(PluginError, match=raised):
        scheduler(CompiledMistakes).explain(make_cluster(nodes()), pod())
    assert scheduler(CompiledMistakes).profiles["default-scheduler"].compiled
    with pytest.raises(PluginError, match=r'^plugin "CompiledMistakes": kernel score returned 99.5, a float'):
        scheduler(CompiledMistakes).schedule(make_cluster(nodes(1) + [
            {"metadata": {"name": "n2"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}}]),
            [pod()])


NODES_YAML = "".join(f"""
- apiVersion: v1
  kind: Node
  metadata: {{name: n{i}}}
  status: {{allocatable: {{cpu: "4", memory: 8Gi, pods: "10"}}}}""" for i in range(3))
POD_YAML = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}
"""


@pytest.fixture
def registered(monkeypatch):
    """The CLI's default registry, made anew with the given plugins."""
    def register(*classes):
        monkeypatch.setattr(registry_module, "_default", Registry.with_builtins(*classes))
    return register


@pytest.mark.parametrize("cls, message", [(RaisingFilter, RAISED), (UnknownCode, UNKNOWN), (FloatScore, FLOAT)])
def test_the_cli_exits_2_with_one_line(tmp_path, registered, cls, message):
    import re

    registered(cls)
    (tmp_path / "nodes.yaml").write_text("apiVersion: v1\nkind: List\nitems:" + NODES_YAML + "\n")
    (tmp_path / "pod.yaml").write_text(POD_YAML)
    (tmp_path / "config.yaml").write_text(
        f"apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        f"profiles:\n- plugins: {{multiPoint: {{enabled: [{{name: {cls.name}}}]}}}}\n")
    config = ["--config", str(tmp_path / "config.yaml")]
    for args in (["explain", "--cluster", str(tmp_path / "nodes.yaml"), "--pod", str(tmp_path / "pod.yaml")],
                 ["schedule", "--cluster", str(tmp_path / "nodes.yaml"), "--pods", str(tmp_path / "pod.yaml")]):
        result = CliRunner().invoke(main, args + config)
        assert result.exit_code == 2, result.output
        assert result.output.count("\n") == 1
        assert re.match(message, result.output.removeprefix("schedkit: error: ").rstrip("\n")), result.output


@pytest.mark.parametrize("cls, message", [
    (RaisingFilter, "kernel filter raised ZeroDivisionError: integer division or modulo by zero"),
    # Filter codes are checked where a failing node is recorded: in the replay's per-signature verdicts too.
    (UnknownCode, "kernel filter returned failure code 7, which is not in its reason_table [1]"),
])
def test_replay_exits_2_naming_the_plugin_kernel_pod_and_node(tmp_path, registered, cls, message):
    registered(cls)
    (tmp_path / "config.yaml").write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        f"profiles:\n- plugins: {{multiPoint: {{enabled: [{{name: {cls.name}}}]}}}}\n")
    (tmp_path / "nodes.csv").write_text("name,cpu,memory,pods\nn0,4,8Gi,10\nn1,4,8Gi,10\nn2,4,8Gi,10\n")
    (tmp_path / "pods.csv").write_text("name,arrival,duration,cpu,memory\np,0,10,100m,1Gi\n")
    result = CliRunner().invoke(main, ["replay", str(tmp_path / "pods.csv"), "--config", str(tmp_path / "config.yaml"),
                                       "--quiet", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == (
        f'schedkit: error: plugin "{cls.name}": {message} (pod default/p, node n0)')


def test_a_compiled_replay_reports_a_raising_kernel(tmp_path):
    from schedkit.replay.engine import replay
    from schedkit.traces.loader import load_trace

    (tmp_path / "nodes.csv").write_text("name,cpu,memory,pods\nn0,4,8Gi,10\nn1,4,8Gi,10\nn2,4,8Gi,10\n")
    (tmp_path / "pods.csv").write_text("name,arrival,duration,cpu,memory\np,0,10,100m,1Gi\n")
    sched = scheduler(CompiledMistakes)
    assert sched.profiles["default-scheduler"].compiled
    workload, _ = load_trace(str(tmp_path / "pods.csv"))
    with pytest.raises(PluginError, match=r'^plugin "CompiledMistakes": kernel filter raised ValueError: no cost label '
                                          r"\(pod default/p, node n1\)$"):
        replay(sched, workload)


@kernel
def _no_op(nodes, pods, p, n, state):
    pass


@kernel
def _raise_undo(nodes, pods, p, n, state):
    raise ValueError("undo failed")


class BrokenUnreserve(Plugin):
    name = "BrokenUnreserve"
    kernels = Kernels(reserve=_no_op, unreserve=_raise_undo)


def test_a_compiled_replay_names_a_kernel_raising_outside_a_cycle_as_far_as_it_can(tmp_path, monkeypatch):
    # Unreserve runs when the pod departs, outside any pod's cycle: the compiled driver cannot say
    # where; NUMBA_DISABLE_JIT=1 (here: the plain-Python kernel) can.
    from schedkit.replay.engine import replay
    from schedkit.traces.loader import load_trace

    (tmp_path / "nodes.csv").write_text("name,cpu,memory,pods\nn0,4,8Gi,10\n")
    (tmp_path / "pods.csv").write_text("name,arrival,duration,cpu,memory\np,0,10,100m,1Gi\n")
    workload, _ = load_trace(str(tmp_path / "pods.csv"))
    with pytest.raises(PluginError, match=r"^a plugin's kernel raised ValueError: undo failed; run with "
                                          r"NUMBA_DISABLE_JIT=1 to see which plugin, kernel, pod and node$"):
        replay(scheduler(BrokenUnreserve), workload)
    monkeypatch.setattr(BrokenUnreserve, "kernels", Kernels(reserve=_no_op.py_func, unreserve=_raise_undo.py_func))
    with pytest.raises(PluginError, match=r'^plugin "BrokenUnreserve": kernel unreserve raised ValueError: undo failed '
                                          r"\(pod default/p, node n0\)$"):
        replay(scheduler(BrokenUnreserve), workload)


# -- check_plugin ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, message", [
    (UnknownCode, "kernel filter returned failure code 7, which the plugin cannot decode"),
    (FloatScore, "kernel score returned 99.5, a float"),
])
def test_check_plugin_reports_kernel_mistakes(cls, message):
    with pytest.raises(AssertionError, match=f'plugin "{cls.name}": {message}'):
        check_plugin(cls, examples=5)


def test_check_plugin_reports_a_raising_kernel_on_the_authors_cluster():
    check_plugin(RaisingFilter, examples=5)  # generated clusters have no node n0
    with pytest.raises(AssertionError, match=r'^plugin RaisingFilter, clusters\[0\], pod default/p: plugin "RaisingFilter": '
                                             r"kernel filter raised ZeroDivisionError: .* \(pod default/p, node n0\)$"):
        check_plugin(RaisingFilter, clusters=[make_cluster(nodes())], pods=[pod()], examples=5)


@kernel
def _raw_cost(nodes, pods, p, n, state):
    value = node_label(nodes, n, state[0][0])
    if value < 0 or not nodes.value_is_int[value]:
        return 0
    return nodes.value_int[value]  # forgot NormalizeScore: a cost of 500 is a score of 500


class CostWithoutNormalize(Plugin):
    name = "CostWithoutNormalize"
    kernels = Kernels(score=_raw_cost)

    def prepare(self, cluster, pods, pod_columns):
        return (np.array([cluster.label_keys("example.com/hourly-cost")], dtype=np.int64),)


def test_generated_clusters_carry_the_labels_the_plugin_interns():
    # The key appears only because prepare interns it; generated values include integers above 100.
    with pytest.raises(AssertionError, match=r"plugin CostWithoutNormalize, generated cluster .*"
                                             r"example\.com/hourly-cost=.*outside \[0, 100\]"):
        check_plugin(CostWithoutNormalize, examples=50)


def _taint_key_filter(nodes, pods, p, n, state):
    for t in range(nodes.taint_indptr[n], nodes.taint_indptr[n + 1]):
        if nodes.taint_key[t] == state[0][0]:
            return 2  # not in reason_table
    return 0


class TaintReader(Plugin):
    name = "TaintReader"
    kernels = Kernels(filter=_taint_key_filter)
    reason_table = {1: "node(s) had the example taint"}

    def prepare(self, cluster, pods, pod_columns):
        return (np.array([cluster.label_keys("example.com/maintenance")], dtype=np.int64),)


def test_generated_clusters_carry_the_taints_the_plugin_reads():
    with pytest.raises(AssertionError, match="kernel filter returned failure code 2"):
        check_plugin(TaintReader, examples=50)


def _fails_for_big_pods(nodes, pods, p, n, state):
    return 5 if pods.requests[p, 0] > 64000 else 0  # 64 cpu: more than generated pods ask for


class BigPodCode(Plugin):
    name = "BigPodCode"
    kernels = Kernels(filter=_fails_for_big_pods)
    reason_table = {1: "node(s) are too small"}


def test_check_plugin_runs_the_authors_own_clusters_and_pods():
    check_plugin(BigPodCode, examples=10)  # generated examples never ask for 64 cpu
    big = make_pod({"metadata": {"name": "big", "namespace": "default"},
                    "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100"}}}]}})
    cluster = make_cluster(nodes(2))
    with pytest.raises(AssertionError, match=r"^plugin BigPodCode, clusters\[0\], pod default/big: "
                                             r'plugin "BigPodCode": kernel filter returned failure code 5'):
        check_plugin(BigPodCode, clusters=[cluster], pods=[big], examples=0)
    # Pods alone run on generated clusters; clusters alone use their own pending pods.
    with pytest.raises(AssertionError, match="pod default/big"):
        check_plugin(BigPodCode, pods=[big], examples=3)
    with pytest.raises(AssertionError, match="pod default/big"):
        check_plugin(BigPodCode, clusters=[make_cluster(nodes(2), [{"metadata": {"name": "big"}, "spec": {
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "100"}}}]}}])], examples=0)


# -- check_plugin and the node_local promise ----------------------------------------------------------
# A wrong promise gives wrong placements without an error (the loop reuses answers it should not), so
# check_plugin is the only place it shows.

def _busier_next_node(nodes, pods, p, n, state):
    following = (n + 1) % nodes.pod_count.shape[0]
    return 1 if nodes.pod_count[following] > nodes.pod_count[n] else 0  # reads another node's column


class ReadsTheNextNode(Plugin):
    name = "ReadsTheNextNode"
    kernels = Kernels(filter=_busier_next_node)
    reason_table = {1: "node(s) are less busy than the next one"}
    node_local = True

    def signature(self, pod):
        return ()


def test_check_plugin_catches_a_node_local_filter_reading_another_node():
    with pytest.raises(AssertionError) as raised:
        check_plugin(ReadsTheNextNode, clusters=[make_cluster(nodes())], pods=[pod()], examples=0)
    assert str(raised.value) == (
        "plugin ReadsTheNextNode, clusters[0]: breaks its node_local promise: after pod default/p is placed on "
        "node n0, Filter of pod default/p on node n2 changes from 'Success' to 'failure code 1'")


def _half_the_node_cpu(nodes, pods, p, n, state):
    return 1 if pods.requests[p, 0] > nodes.allocatable[n, 0] // 2 else 0


class SignatureWithoutRequests(Plugin):
    name = "SignatureWithoutRequests"
    kernels = Kernels(filter=_half_the_node_cpu)
    reason_table = {1: "node(s) have less than twice the pod's cpu"}
    node_local = True

    def signature(self, pod):
        return tuple(sorted(pod.node_selector.items()))  # forgot the requests Filter reads


def test_check_plugin_catches_a_signature_leaving_out_what_filter_reads():
    with pytest.raises(AssertionError) as raised:
        check_plugin(SignatureWithoutRequests, clusters=[make_cluster(nodes())], pods=[pod()], examples=0)
    assert str(raised.value) == (
        "plugin SignatureWithoutRequests, clusters[0]: breaks its node_local promise: pods default/p and "
        "default/p-more-cpu have the same signature () but Filter on node n0 gives 'Success' for default/p "
        "and 'failure code 1' for default/p-more-cpu: the signature leaves out something the kernels read")
    with pytest.raises(AssertionError, match=r"^plugin SignatureWithoutRequests, generated cluster .*: breaks its "
                                             r"node_local promise: pods .* have the same signature"):
        check_plugin(SignatureWithoutRequests, examples=30)


def _count_on_next_node(nodes, pods, p, n, state):
    state[0][(n + 1) % state[0].shape[0]] += 1


def _uncount_on_next_node(nodes, pods, p, n, state):
    state[0][(n + 1) % state[0].shape[0]] -= 1


def _passes(nodes, pods, p, n, state):
    return 0


class ReservesTheNextNode(Plugin):
    """Its Filter reads nothing Reserve writes, but Reserve writes another node's row of a per-node array."""

    name = "ReservesTheNextNode"
    kernels = Kernels(filter=_passes, reserve=_count_on_next_node, unreserve=_uncount_on_next_node)
    node_local = True

    def signature(self, pod):
        return ()

    def prepare(self, cluster, pods, pod_columns):
        return (np.zeros(cluster.num_nodes, dtype=np.int64),)


NextNodeState = namedtuple("NextNodeState", ["load"])  # int64 [nodes]


class ReservesTheNextNodeNamed(ReservesTheNextNode):
    """The same mistake in a plugin whose state is a namedtuple."""

    name = "ReservesTheNextNodeNamed"

    def prepare(self, cluster, pods, pod_columns):
        return NextNodeState(np.zeros(cluster.num_nodes, dtype=np.int64))


# The message names a plain tuple's entry by position, a namedtuple's by field.
@pytest.mark.parametrize("cls, entry", [(ReservesTheNextNode, "state[0]"), (ReservesTheNextNodeNamed, "state.load")])
def test_check_plugin_catches_a_node_local_reserve_writing_another_nodes_row(cls, entry):
    with pytest.raises(AssertionError) as raised:
        check_plugin(cls, clusters=[make_cluster(nodes())], pods=[pod()], examples=0)
    assert str(raised.value) == (
        f"plugin {cls.name}, clusters[0]: breaks its node_local promise: after pod default/p is placed "
        f"on node n0, the plugin's {entry} changes in the row of node n1")
