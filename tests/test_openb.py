"""The openb trace adapter on the real files in ../shared/traces/openb (skipped when absent) and on
small files it must reject."""

from __future__ import annotations

import os

import pytest

from schedkit import Scheduler
from schedkit.cluster import Cluster
from schedkit.errors import InputError
from schedkit.traces import load_openb_nodes, load_openb_pods
from schedkit.traces.openb import GPU_MODEL_LABEL, GPU_RESOURCE

OPENB = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "shared", "traces", "openb")
needs_trace = pytest.mark.skipif(not os.path.isdir(OPENB), reason=f"openb trace not found at {OPENB}")


@needs_trace
def test_real_files_load_with_the_documented_counts_and_mapping():
    nodes = load_openb_nodes(os.path.join(OPENB, "openb_node_list_all_node.csv"))
    pods = load_openb_pods(os.path.join(OPENB, "openb_pod_list_default.csv"))
    assert (len(nodes), len(pods)) == (1523, 8152)  # traces/README.md row counts
    assert sum(1 for n in nodes if n.allocatable.get(GPU_RESOURCE, 0) > 0) == 1213
    assert sum(1 for t in pods if t.pod.requests.get("memory", 0) == 0) == 1  # the one 0 MiB pod
    sharing = [t for t in pods if t.pod.requests.get(GPU_RESOURCE) == 1
               and int(t.pod.raw["metadata"]["annotations"]["alibabacloud.com/gpu-milli"]) < 1000]
    assert sharing, "GPU-sharing pods ask the default scheduler for one whole device"
    with_spec = load_openb_pods(os.path.join(OPENB, "openb_pod_list_gpuspec33.csv"))
    spec = next(t for t in with_spec if t.pod.node_affinity is not None)
    values = spec.pod.node_affinity.required[0].match_expressions[0].values
    assert len(values) == len(set(values))  # repeated models in gpu_spec are folded
    assert all(t.departure >= t.arrival for t in pods)
    multi = load_openb_pods(os.path.join(OPENB, "openb_pod_list_multigpu20.csv"))
    assert len(multi) == 8324 and multi[5].arrival == 5.0 and multi[5].departure is None


@needs_trace
def test_a_fill_prefix_schedules_within_gpu_models_and_allocatable():
    nodes = load_openb_nodes(os.path.join(OPENB, "openb_node_list_all_node.csv"))
    pods = [t.pod for t in load_openb_pods(os.path.join(OPENB, "openb_pod_list_gpuspec33.csv"))[:1500]]
    result = Scheduler().schedule(Cluster(nodes, []), pods)
    by_name = {n.name: n for n in nodes}
    used: dict[str, dict[str, int]] = {}
    for pod, assignment in zip(sorted(pods, key=lambda p: p.key), sorted(result.assignments, key=lambda a: a.pod)):
        if assignment.node is None:
            continue
        node = by_name[assignment.node]
        if pod.node_affinity is not None:
            allowed = pod.node_affinity.required[0].match_expressions[0].values
            assert node.labels.get(GPU_MODEL_LABEL) in allowed
        for resource, amount in pod.requests.items():
            used.setdefault(node.name, {})[resource] = used.get(node.name, {}).get(resource, 0) + amount
    for name, resources in used.items():
        for resource, amount in resources.items():
            assert amount <= by_name[name].allocatable.get(resource, 0), (name, resource)
    assert result.scheduled > 1000


def test_missing_columns_and_bad_values_are_one_line_errors(tmp_path):
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("sn,cpu_milli,gpu\nn1,1000,0\n")
    with pytest.raises(InputError, match=r"nodes.csv: missing column\(s\) memory_mib, model"):
        load_openb_nodes(str(nodes))
    pods = tmp_path / "pods.csv"
    pods.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,1000,1x,0,0\n")
    with pytest.raises(InputError, match=r"pods.csv: row 2, column memory_mib: invalid integer '1x'"):
        load_openb_pods(str(pods))
    pods.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np1,-5,10,0,0\n")
    with pytest.raises(InputError, match="row 2, column cpu_milli: must be at least 0, got -5"):
        load_openb_pods(str(pods))
    timed = tmp_path / "timed.csv"
    timed.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,"
                     "deletion_time,scheduled_time\np1,1000,10,0,0,,LS,Running,50,10,50\n")
    with pytest.raises(InputError, match="deletion_time 10 is before creation_time 50"):
        load_openb_pods(str(timed))
    with pytest.raises(InputError, match="no such file or directory"):
        load_openb_pods(str(tmp_path / "absent.csv"))
