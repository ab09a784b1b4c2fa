"""Which loader reads a trace: ``--format`` or, with ``auto``, the file's name and header."""

from __future__ import annotations

import os

from ..errors import InputError
from .workload import Trace

FORMATS = ("auto", "schedkit", "openb", "k8s")
TABLE_SUFFIXES = (".csv", ".parquet")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
OPENB_DEFAULT_NODES = "openb_node_list_gpu_node.csv"  # the FGD paper's cluster: the trace's GPU nodes


def _header(path: str) -> list[str]:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # noqa: BLE001 - pyarrow's error types vary by version
            raise InputError(f"cannot read parquet: {exc}", path) from None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip().split(",")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path) from None


def _table_in(folder: str, stem: str) -> str | None:
    for suffix in TABLE_SUFFIXES:
        path = os.path.join(folder, stem + suffix)
        if os.path.exists(path):
            return path
    return None


def _is_openb(header: list[str]) -> bool:
    return "cpu_milli" in header and "num_gpu" in header


def _openb_lists(folder: str) -> list[str]:
    names = [name for name in os.listdir(folder)
             if name.startswith("openb_pod_list") and name.endswith(TABLE_SUFFIXES)]
    return sorted(names, key=lambda name: (not name.startswith("openb_pod_list_default"), name))


def _not_a_folder_of_openb(path: str) -> None:
    """A folder of openb pod lists is several traces: ask for one of them."""
    lists = _openb_lists(path)
    if lists:
        shown = ", ".join(lists[:4]) + (", ..." if len(lists) > 4 else "")
        raise InputError(f"folder holds openb pod lists ({shown}); give one of them as the trace", path)


def detect_format(path: str) -> str:
    if os.path.isdir(path):
        if _table_in(path, "pods"):
            return "schedkit"
        _not_a_folder_of_openb(path)
        return "k8s"
    if path.endswith(MANIFEST_SUFFIXES):
        return "k8s"
    if path.endswith(TABLE_SUFFIXES):
        header = _header(path)
        if _is_openb(header):
            return "openb"
        if "arrival" in header:
            return "schedkit"
        raise InputError("cannot tell the trace format from the header (no 'arrival' column, not an openb pod list); "
                         "pass --format schedkit|openb|k8s", path)
    raise InputError("cannot tell the trace format from the file name; pass --format schedkit|openb|k8s", path)


def load_trace(path: str, nodes: str | None = None, fmt: str = "auto") -> tuple[Trace, str]:
    """The workload in ``path`` (a file, or a folder holding pods.csv/parquet and nodes.csv/parquet) and the
    format it was read as."""
    if fmt not in FORMATS:
        raise InputError(f"unknown trace format {fmt!r}; expected one of {', '.join(FORMATS)}", path)
    if not os.path.exists(path):
        raise InputError("no such file or directory", path)
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "k8s":
        from .k8s import load_k8s_trace

        return load_k8s_trace([path], [nodes] if nodes else None), fmt
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    if fmt == "openb":
        from .openb import load_openb_workload

        if os.path.isdir(path):
            _not_a_folder_of_openb(path)
            raise InputError("is a folder; --format openb reads one openb pod list file", path)
        if not _is_openb(_header(path)):
            raise InputError("not an openb pod list (no cpu_milli and num_gpu columns); check --format", path)

        node_path = nodes or os.path.join(folder, OPENB_DEFAULT_NODES)
        if not nodes and not os.path.exists(node_path):
            raise InputError(f"no node list given and no {OPENB_DEFAULT_NODES} beside the trace; pass --nodes", path)
        return load_openb_workload(path, node_path), fmt
    from .schedkit_format import load_schedkit_trace

    pods_path = path
    if os.path.isdir(path):
        pods_path = _table_in(path, "pods") or ""
        if not pods_path:
            _not_a_folder_of_openb(path)
            raise InputError("folder has no pods.csv or pods.parquet", path)
    elif "arrival" not in _header(path):
        hint = " (it is an openb pod list: --format openb)" if _is_openb(_header(path)) else ""
        raise InputError(f"not a schedkit pod table: no 'arrival' column{hint}; check --format", path)
    node_path = nodes or _table_in(folder, "nodes")
    if not node_path:
        raise InputError("no nodes.csv or nodes.parquet beside the trace; pass --nodes", path)
    return load_schedkit_trace(pods_path, node_path), fmt
