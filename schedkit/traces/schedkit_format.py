"""schedkit's own trace schema (traces/README.md): a pod table and a node table, CSV or parquet.

Every cell is read as text and checked column by column, so an error names the file, the row and the
column. Pods with the same spec (every column but name, arrival, duration and end) share one parsed
Pod: the table is grouped on those columns and each group's first row is parsed.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..objects import PREEMPTION_POLICIES, Node, parse_node, parse_pod
from ..quantity import QuantityError, parse_quantity
from ..validation import DNS_LABEL, DNS_SUBDOMAIN, INT32_MAX, INT32_MIN, check_name, validate_object
from .workload import MAX_SECONDS, Trace, seconds_problem

NATIVE_RESOURCES = ("cpu", "memory", "ephemeral-storage")
POD_COLUMNS = ("name", "namespace", "arrival", "duration", "end", "priority", "labels", "annotations",
               "node_selector", "tolerations", "affinity", "topology_spread_constraints", "owner", "scheduler_name", "preemption_policy",
               "termination_grace_period", "recreate")
# Per-pod columns that are not part of the pod's spec (pods differing only there share a shape).
POD_ONLY_COLUMNS = ("name", "arrival", "duration", "end", "recreate")
RECREATE_VALUES = {"": False, "false": False, "true": True}
NODE_COLUMNS = ("name", "pods", "labels", "taints")
NODE_REQUIRED = ("name", "cpu", "memory")
JSON_COLUMNS = {"labels": dict, "annotations": dict, "node_selector": dict, "tolerations": list, "affinity": dict,
                "topology_spread_constraints": list, "taints": list}
TIME_COLUMNS = ("arrival", "duration", "end")


def is_resource_column(name: str) -> bool:
    return name in NATIVE_RESOURCES or "/" in name or name.startswith("hugepages-")


def read_table(path: str) -> pd.DataFrame:
    """A CSV or parquet file with every cell as a string ("" where empty)."""
    if not os.path.exists(path):
        raise InputError("no such file or directory", path)
    try:
        if path.endswith(".parquet"):
            frame = pd.read_parquet(path)
            frame = frame.astype(object).where(frame.notna(), "")
            return frame.map(lambda v: v if isinstance(v, str) else _text(v))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
        if len(frame.columns) > 1 and (frame.iloc[:, -1] == "").any():  # pandas pads a short row with ""
            _check_short_rows(path)
        return frame
    except InputError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        kind = "parquet" if path.endswith(".parquet") else "CSV"
        raise InputError(f"cannot read {kind}: {str(exc).splitlines()[0]}", path) from None
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise InputError(f"cannot read file: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                         path) from None


def _check_short_rows(path: str) -> None:
    """A CSV row with fewer cells than the header is a damaged file, not a pod with empty columns. pandas
    pads such rows silently, so the file is scanned again (pyarrow, cells not converted) for the first one;
    only files whose last column has empty cells need this."""
    import pyarrow.csv as pa_csv

    short: list = []

    def note(row) -> str:
        if not short:
            short.append(row)
        return "skip"

    pa_csv.read_csv(path, read_options=pa_csv.ReadOptions(use_threads=False),  # row numbers need one thread
                    parse_options=pa_csv.ParseOptions(invalid_row_handler=note, newlines_in_values=True),
                    convert_options=pa_csv.ConvertOptions(include_columns=[]))
    if short:
        row = short[0]
        raise InputError(f"the row has {row.actual_columns} cells but the header has {row.expected_columns}",
                         path, f"row {row.number}")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Table:
    """A table with error locations: CSV rows by line number (header is line 1), parquet rows 1-based."""

    def __init__(self, path: str, frame: pd.DataFrame, allowed: tuple[str, ...], required: tuple[str, ...]):
        self.path, self.frame = path, frame
        self.first_row = 2 if not path.endswith(".parquet") else 1
        unknown = [c for c in frame.columns if c not in allowed and not is_resource_column(c)]
        if unknown:
            raise InputError(f"unknown column(s) {', '.join(map(repr, unknown))}; expected {', '.join(allowed)} "
                             "or resource names (cpu, memory, ephemeral-storage, vendor.com/resource)", path)
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}", path)

    def error(self, index: int, column: str, message: str) -> InputError:
        return InputError(message, self.path, f"row {index + self.first_row}, column {column}")

    def numbers(self, column: str, *, minimum: float | None = 0.0, required: bool = False) -> np.ndarray:
        """The column as float64 (NaN where empty, unless ``required``)."""
        if column not in self.frame.columns:
            return np.full(len(self.frame), np.nan)
        text = self.frame[column].str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        empty = (text == "").to_numpy()
        bad = (np.isnan(values) & ~empty) | ~np.isfinite(np.where(np.isnan(values), 0.0, values))
        if required:
            bad |= empty
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raw = self.frame[column].iloc[i]
            raise self.error(i, column, "a value is required" if raw.strip() == "" else f"not a number: {raw!r}")
        if minimum is not None:
            low = np.flatnonzero(values < minimum)
            if len(low):
                i = int(low[0])
                raise self.error(i, column, f"must be at least {minimum:g}, got {self.frame[column].iloc[i]!r}")
        return values

    def seconds(self, column: str, *, required: bool = False) -> np.ndarray:
        """A time column: numbers within the trace clock (workload.MAX_SECONDS)."""
        values = self.numbers(column, required=required)
        late = np.flatnonzero(values > MAX_SECONDS)
        if len(late):
            raise self.error(int(late[0]), column, seconds_problem(float(values[late[0]])))
        return values

    def check_cells(self, column: str) -> None:
        """Each distinct value of a resource or JSON column, checked once; the first bad row is named."""
        series = self.frame[column]
        for value, index in zip(*np.unique(series.to_numpy(dtype=object), return_index=True)):
            if value == "":
                continue
            try:
                if column in JSON_COLUMNS:
                    parsed = json.loads(value)
                    if not isinstance(parsed, JSON_COLUMNS[column]):
                        raise ValueError(f"expected a JSON {'object' if JSON_COLUMNS[column] is dict else 'list'}")
                elif is_resource_column(column):
                    if parse_quantity(value.strip()) < 0:
                        raise ValueError(f"must be greater than or equal to 0, got {value!r}")
                elif column == "termination_grace_period":
                    # terminationGracePeriodSeconds: a non-negative int64
                    if not value.strip().isdigit() or int(value) >= 2**63:
                        raise ValueError(f"must be a whole number of seconds, at least 0, got {value!r}")
                elif column == "preemption_policy":
                    if value.strip() not in PREEMPTION_POLICIES:
                        raise ValueError(f"must be {' or '.join(PREEMPTION_POLICIES)}, got {value!r}")
                elif column == "priority":
                    if not INT32_MIN <= int(value) <= INT32_MAX:  # PodSpec.Priority is an int32
                        raise ValueError(f"must be a 32-bit integer ({INT32_MIN} to {INT32_MAX}), "
                                         f"got {value}")
            except (ValueError, QuantityError) as exc:
                first = int(np.flatnonzero((series == value).to_numpy())[0])
                raise self.error(first, column, str(exc) if not isinstance(exc, json.JSONDecodeError)
                                 else f"invalid JSON: {exc.msg}") from None


def _json(value: str) -> Any:
    return json.loads(value) if value else None


def _pod_manifest(row: dict[str, str], resources: list[str]) -> dict:
    requests = {r: row[r].strip() for r in resources if row.get(r, "").strip()}
    meta: dict[str, Any] = {"name": row["name"], "namespace": row.get("namespace") or "default"}
    for column, field in (("labels", "labels"), ("annotations", "annotations")):
        if row.get(column):
            meta[field] = _json(row[column])
    owner = row.get("owner", "").strip()
    if owner:
        kind, _, name = owner.partition("/")
        meta["ownerReferences"] = [{"apiVersion": "apps/v1" if kind in ("ReplicaSet", "StatefulSet") else "v1",
                                    "kind": kind, "name": name, "uid": owner, "controller": True}]
    spec: dict[str, Any] = {"containers": [{"name": "main", "resources": {"requests": requests}}]}
    for column, field in (("node_selector", "nodeSelector"), ("tolerations", "tolerations"), ("affinity", "affinity"),
                          ("topology_spread_constraints", "topologySpreadConstraints")):
        if row.get(column):
            spec[field] = _json(row[column])
    if row.get("priority", "").strip():
        spec["priority"] = int(row["priority"])
    if row.get("scheduler_name", "").strip():
        spec["schedulerName"] = row["scheduler_name"].strip()
    if row.get("preemption_policy", "").strip():
        spec["preemptionPolicy"] = row["preemption_policy"].strip()
    if row.get("termination_grace_period", "").strip():
        spec["terminationGracePeriodSeconds"] = int(row["termination_grace_period"])
    return {"kind": "Pod", "metadata": meta, "spec": spec}


def load_schedkit_nodes(path: str) -> list[Node]:
    # Every node reports cpu and memory (the kubelet always does); without them it would hold no pod.
    table = _Table(path, read_table(path), NODE_COLUMNS, NODE_REQUIRED)
    frame = table.frame
    for column in NODE_REQUIRED[1:]:
        empty = (frame[column].str.strip() == "").to_numpy()
        if empty.any():
            raise table.error(int(np.flatnonzero(empty)[0]), column, "a value is required: a node without "
                                                                     f"{column} has no room for any pod")
    resources = [c for c in frame.columns if is_resource_column(c)]
    for column in resources + [c for c in ("labels", "taints") if c in frame.columns]:
        table.check_cells(column)
    pods = table.numbers("pods", minimum=0)
    nodes = []
    for i, row in enumerate(frame.to_dict("records")):
        if not row["name"].strip():
            raise table.error(i, "name", "a node needs a name")
        allocatable = {r: row[r].strip() for r in resources if row[r].strip()}
        allocatable["pods"] = str(int(pods[i])) if not np.isnan(pods[i]) else "110"
        manifest = {"kind": "Node", "metadata": {"name": row["name"].strip(), "labels": _json(row.get("labels", ""))
                                                 or {}},
                    "spec": {"taints": _json(row.get("taints", "")) or []}, "status": {"allocatable": allocatable}}
        nodes.append(parse_node(manifest, path, f"row {i + table.first_row}"))
        check_name(manifest["metadata"]["name"], path, f"row {i + table.first_row}, column name")
    return nodes


def _check_dns(table, values: pd.Series, column: str, pattern: str, limit: int, kind: str, chars: str) -> None:
    """Pod names and namespaces as the API server validates them (apimachinery IsDNS1123Subdomain/Label)."""
    bad = ~values.str.fullmatch(pattern) | (values.str.len() > limit)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise table.error(i, column, f"{values.iloc[i]!r}: a lowercase {kind} must consist of {chars}, must start "
                                     f"and end with an alphanumeric character and be at most {limit} characters")


def load_schedkit_trace(pods_path: str, nodes_path: str) -> Trace:
    nodes = load_schedkit_nodes(nodes_path)
    table = _Table(pods_path, read_table(pods_path), POD_COLUMNS, ("name", "arrival"))
    frame = table.frame
    if "duration" in frame.columns and "end" in frame.columns:
        raise InputError("has both duration and end columns; give one (a pod's runtime, or its deletion time)",
                         pods_path)
    arrival = table.seconds("arrival", required=True)
    duration = table.seconds("duration")
    deadline = table.seconds("end")
    early = np.flatnonzero(deadline < arrival)
    if len(early):
        i = int(early[0])
        raise table.error(i, "end", f"end {deadline[i]:g} is before arrival {arrival[i]:g}")
    names = frame["name"].str.strip()
    if (names == "").any():
        raise table.error(int(np.flatnonzero((names == "").to_numpy())[0]), "name", "a pod needs a name")
    namespaces = frame["namespace"].str.strip().replace("", "default") if "namespace" in frame.columns else \
        pd.Series(["default"] * len(frame), dtype=object)
    _check_dns(table, names, "name", DNS_SUBDOMAIN, 253, "RFC 1123 subdomain",
               "lower case alphanumeric characters, '-' or '.'")
    if "namespace" in frame.columns:
        _check_dns(table, namespaces, "namespace", DNS_LABEL, 63, "RFC 1123 label",
                   "lower case alphanumeric characters or '-'")
    keys = names + "\x00" + namespaces
    duplicated = keys.duplicated()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise table.error(i, "name", f"duplicate pod {namespaces.iloc[i]}/{names.iloc[i]}")
    resources = [c for c in frame.columns if is_resource_column(c)]
    spec_columns = [c for c in frame.columns if c not in POD_ONLY_COLUMNS]
    recreate = _recreate(table)
    for column in spec_columns:
        if column in JSON_COLUMNS or column in resources or column in ("priority", "termination_grace_period",
                                                                       "preemption_policy"):
            table.check_cells(column)
    if spec_columns:
        groups = frame.groupby(spec_columns, sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
    else:
        groups = np.zeros(len(frame), dtype=np.int64)
    count = int(groups.max()) + 1 if len(groups) else 0
    first = np.full(count, -1, dtype=np.int64)
    order = np.arange(len(groups))[::-1]
    first[groups[order]] = order  # the last write per group is its first row
    shapes = []
    for i in first.tolist():
        manifest, where = _pod_manifest(frame.iloc[i].to_dict(), resources), f"row {i + table.first_row}"
        shapes.append(parse_pod(manifest, pods_path, where))
        validate_object(manifest, pods_path, where)  # what the API server would refuse (maxSkew 0, ...)
    return Trace(nodes, shapes, groups, names.to_numpy(dtype=object), namespaces.to_numpy(dtype=object), arrival,
                 duration, deadline, pods_path, recreate=recreate)


def _recreate(table) -> np.ndarray | None:
    """The ``recreate`` column: true when the pod's owner (a ReplicaSet, a Job) creates a replacement
    once preemption deletes it; empty or false otherwise. None without the column."""
    if "recreate" not in table.frame.columns:
        return None
    text = table.frame["recreate"].str.strip().str.lower()
    bad = ~text.isin(list(RECREATE_VALUES))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise table.error(i, "recreate", f"must be true or false, got {table.frame['recreate'].iloc[i]!r}")
    return text.map(RECREATE_VALUES).to_numpy(dtype=bool)
