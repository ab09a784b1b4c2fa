"""Alibaba's openb GPU cluster trace (FGD paper, USENIX ATC '23) as Nodes and Pods.

Mapping (the default scheduler's view of the trace): ``cpu_milli`` -> cpu in millicores,
``memory_mib`` -> memory in MiB, ``num_gpu`` -> whole ``nvidia.com/gpu`` (a GPU-sharing pod with
``gpu_milli`` < 1000 still asks for one device); ``gpu_milli`` and ``gpu_spec`` stay on the pod as
annotations for plugins that share GPUs; a node's GPU ``model`` becomes the label
``alibabacloud.com/gpu-card-model`` and a pod's ``gpu_spec`` a required node affinity on it;
``creation_time``/``deletion_time`` become arrival and departure. The five-column ``multigpu*`` files
have no times: their pods arrive in file order (arrival = row number) and never leave.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from ..errors import InputError
from ..objects import Node, Pod, parse_node, parse_pod

GPU_RESOURCE = "nvidia.com/gpu"
GPU_MODEL_LABEL = "alibabacloud.com/gpu-card-model"
GPU_MILLI_ANNOTATION = "alibabacloud.com/gpu-milli"
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
            return list(reader)
    except FileNotFoundError:
        raise InputError("no such file or directory", path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read CSV: {exc}", path) from None


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
    return nodes


def load_openb_pods(path: str, namespace: str = "default") -> list[TracePod]:
    """``openb_pod_list_*.csv`` -> pods with arrival/departure seconds, in file order."""
    rows = _rows(path, POD_COLUMNS)
    timed = bool(rows) and all(c in rows[0] for c in ("creation_time", "deletion_time"))
    pods = []
    for index, (line, row) in enumerate(enumerate(rows, start=2)):
        cpu = _int(row, "cpu_milli", path, line)
        memory = _int(row, "memory_mib", path, line)
        gpus = _int(row, "num_gpu", path, line)
        gpu_milli = _int(row, "gpu_milli", path, line)
        requests = {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}
        if gpus:
            requests[GPU_RESOURCE] = str(gpus)
        annotations = {GPU_MILLI_ANNOTATION: str(gpu_milli)}
        spec: dict = {"containers": [{"name": "main", "resources": {"requests": requests, "limits": requests}}]}
        gpu_spec = (row.get("gpu_spec") or "").strip()
        if gpu_spec:
            annotations[GPU_SPEC_ANNOTATION] = gpu_spec
            models = list(dict.fromkeys(gpu_spec.split("|")))  # the trace repeats some models
            spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": GPU_MODEL_LABEL, "operator": "In", "values": models}]}]}}}
        manifest = {"kind": "Pod", "metadata": {"name": row["name"], "namespace": namespace,
                                                "annotations": annotations}, "spec": spec}
        pod = parse_pod(manifest, path, f"row {line}")
        if timed:
            arrival = float(_int(row, "creation_time", path, line))
            departure = float(_int(row, "deletion_time", path, line))
            if departure < arrival:
                raise InputError(f"deletion_time {departure:.0f} is before creation_time {arrival:.0f}", path,
                                 f"row {line}")
        else:
            arrival, departure = float(index), None
        pods.append(TracePod(pod, arrival, departure, (row.get("qos") or "").strip()))
    return pods
