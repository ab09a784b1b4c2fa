"""Alibaba's openb GPU cluster trace (FGD paper, USENIX ATC '23) as Nodes and Pods.

Mapping (the default scheduler's view of the trace): ``cpu_milli`` -> cpu in millicores,
``memory_mib`` -> memory in MiB, ``num_gpu`` -> whole ``nvidia.com/gpu`` (a GPU-sharing pod with
``gpu_milli`` < 1000 still asks for one device); ``num_gpu``, ``gpu_milli`` and ``gpu_spec`` also become
open-gpu-share's annotations ``alibabacloud.com/gpu-count``, ``-gpu-milli`` and ``-gpu-card-model`` for
plugins that share GPUs device by device (``plugins/gpu_share.py``); a node's GPU ``model`` becomes the label
``alibabacloud.com/gpu-card-model`` and a pod's ``gpu_spec`` a required node affinity on it;
``creation_time``/``deletion_time`` become arrival and departure. The five-column ``multigpu*`` files
have no times: their pods arrive in file order (arrival = row number) and never leave, which only a
fill replay (``--mode fill``) may use.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..objects import Node, Pod, parse_node, parse_pod
from ..validation import check_name
from .workload import ShapeTable, Trace, seconds_problem

GPU_RESOURCE = "nvidia.com/gpu"
GPU_MODEL_LABEL = "alibabacloud.com/gpu-card-model"
GPU_MILLI_ANNOTATION = "alibabacloud.com/gpu-milli"
GPU_COUNT_ANNOTATION = "alibabacloud.com/gpu-count"
GPU_SPEC_ANNOTATION = "alibabacloud.com/gpu-card-model"
POD_LIMIT = 1001  # pods per node, as the trace's own node YAML (openb_node_list_gpu_node.yaml) sets it
NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
POD_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli")
TIMED_COLUMNS = ("gpu_spec", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time")


@dataclass
class TracePod:
    pod: Pod
    arrival: float
    departure: float | None  # None: stays until the end of the replay
    qos: str = ""


def _rows(path: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing column(s) {', '.join(missing)}; found {', '.join(reader.fieldnames or [])}",
                                 path)
            rows = list(reader)
    except FileNotFoundError:
        raise InputError("no such file or directory", path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read CSV: {exc}", path) from None
    header = len(reader.fieldnames or [])
    for line, row in enumerate(rows, start=2):
        # DictReader fills a short row's missing cells with None and keeps a long row's extra ones under None
        cells = header + len(row[None]) if None in row else sum(value is not None for value in row.values())
        if cells != header:
            raise InputError(f"the row has {cells} cells but the header has {header}", path, f"row {line}")
    return rows


def _int(row: dict[str, str], column: str, path: str, line: int, minimum: int = 0) -> int:
    text = (row.get(column) or "").strip()
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"invalid integer {text!r}", path, f"row {line}, column {column}") from None
    if value < minimum:
        raise InputError(f"must be at least {minimum}, got {value}", path, f"row {line}, column {column}")
    return value


def load_openb_nodes(path: str) -> list[Node]:
    """``openb_node_list_*.csv`` -> Nodes (row order kept; names are as the file gives them)."""
    nodes = []
    for line, row in enumerate(_rows(path, NODE_COLUMNS), start=2):
        gpus = _int(row, "gpu", path, line)
        allocatable = {"cpu": f"{_int(row, 'cpu_milli', path, line)}m",
                       "memory": f"{_int(row, 'memory_mib', path, line)}Mi", "pods": str(POD_LIMIT)}
        labels = {"kubernetes.io/hostname": row["sn"]}
        if gpus:
            allocatable[GPU_RESOURCE] = str(gpus)
        if row.get("model"):
            labels[GPU_MODEL_LABEL] = row["model"]
        manifest = {"kind": "Node", "metadata": {"name": row["sn"], "labels": labels},
                    "status": {"allocatable": allocatable}}
        nodes.append(parse_node(manifest, path, f"row {line}"))
        check_name(row["sn"], path, f"row {line}, column sn")
    return nodes


def _pod_manifest(name: str, namespace: str, cpu: int, memory: int, gpus: int, gpu_milli: int, gpu_spec: str) -> dict:
    requests = {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}
    if gpus:
        requests[GPU_RESOURCE] = str(gpus)
    annotations = {GPU_MILLI_ANNOTATION: str(gpu_milli), GPU_COUNT_ANNOTATION: str(gpus)}
    spec: dict = {"containers": [{"name": "main", "resources": {"requests": requests, "limits": requests}}]}
    if gpu_spec:
        annotations[GPU_SPEC_ANNOTATION] = gpu_spec
        models = list(dict.fromkeys(gpu_spec.split("|")))  # the trace repeats some models
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": GPU_MODEL_LABEL, "operator": "In", "values": models}]}]}}}
    return {"kind": "Pod", "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "spec": spec}


TIME_COLUMNS = ("creation_time", "deletion_time")


def _has_times(path: str) -> bool:
    """Whether the pod list records creation and deletion times (both columns, or neither)."""
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    present = [c for c in TIME_COLUMNS if c in header]
    if len(present) == 1:
        missing = next(c for c in TIME_COLUMNS if c not in present)
        raise InputError(f"has a {present[0]} column but no {missing}: give both, or neither (then replay it "
                         "with --mode fill)", path)
    return len(present) == 2


def _pod_rows(path: str):
    """(line, row, spec key, arrival, departure) per pod row, validated."""
    rows = _rows(path, POD_COLUMNS)
    timed = _has_times(path)
    for index, (line, row) in enumerate(enumerate(rows, start=2)):
        key = (_int(row, "cpu_milli", path, line), _int(row, "memory_mib", path, line),
               _int(row, "num_gpu", path, line), _int(row, "gpu_milli", path, line), (row.get("gpu_spec") or "").strip())
        if not row.get("name"):
            raise InputError("empty pod name", path, f"row {line}, column name")
        check_name(row["name"], path, f"row {line}, column name")
        if timed:
            arrival = float(_int(row, "creation_time", path, line))
            departure: float | None = float(_int(row, "deletion_time", path, line))
            for column, seconds in (("creation_time", arrival), ("deletion_time", departure)):
                problem = seconds_problem(seconds)
                if problem:
                    raise InputError(problem, path, f"row {line}, column {column}")
            if departure < arrival:
                raise InputError(f"deletion_time {departure:.0f} is before creation_time {arrival:.0f}", path,
                                 f"row {line}")
        else:
            arrival, departure = float(index), None
        yield line, row, key, arrival, departure


def load_openb_pods(path: str, namespace: str = "default") -> list[TracePod]:
    """``openb_pod_list_*.csv`` -> pods with arrival/departure seconds, in file order."""
    pods = []
    for line, row, key, arrival, departure in _pod_rows(path):
        pod = parse_pod(_pod_manifest(row["name"], namespace, *key), path, f"row {line}")
        pods.append(TracePod(pod, arrival, departure, (row.get("qos") or "").strip()))
    return pods


def load_openb_workload(pod_path: str, node_path: str, namespace: str = "default") -> Trace:
    """An openb pod list on an openb node list, ready to replay: each distinct pod spec parsed once;
    ``deletion_time`` is each pod's deadline (it leaves then, whether or not it ever ran)."""
    nodes = load_openb_nodes(node_path)
    table = ShapeTable()
    shape_of, names, arrival, deadline = [], [], [], []
    for line, row, key, start, end in _pod_rows(pod_path):
        shape_of.append(table.add(key, lambda: parse_pod(_pod_manifest(row["name"], namespace, *key), pod_path,
                                                          f"row {line}")))
        names.append(row["name"])
        arrival.append(start)
        deadline.append(np.nan if end is None else end)
    count = len(names)
    return Trace(nodes, table.shapes, np.asarray(shape_of, dtype=np.int64), np.asarray(names, dtype=object),
                 np.full(count, namespace, dtype=object), np.asarray(arrival, dtype=np.float64),
                 np.full(count, np.nan), np.asarray(deadline, dtype=np.float64), pod_path,
                 has_times=_has_times(pod_path))
