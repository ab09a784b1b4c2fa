"""What a sweep runs: the sweep file (or the same given on the command line), checked before anything runs.

    configs: [{name: FGD, config: <KubeSchedulerConfiguration file, or the document inline>}, ...]
    traces: [openb_pod_list_default, path/to/trace.csv, ...]   # names are looked up in the openb folder
    seeds: [42, 43] or "42-51"
    replay: {mode: fill, targetDemand: 1.3, targetResource: gpu-milli, shuffle: true, ties: first,
             nodeOrder: shuffled}

Each run is keyed by what decides its result: the configuration's content, the trace files' content, the
seed, the replay options and the schedkit version. A rerun skips the runs whose key is already done.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field

import yaml

from .. import __version__
from ..errors import InputError
from ..framework.config import parse_config
from ..framework.runtime import TIES

REPLAY_FIELDS = {"mode": "mode", "targetDemand": "target_demand", "targetResource": "target_resource",
                 "shuffle": "shuffle", "ties": "ties", "nodeOrder": "node_order"}
OPENB_ENV = "SCHEDKIT_OPENB"


@dataclass(frozen=True)
class ReplaySettings:
    mode: str = "timed"
    target_demand: float | None = None
    target_resource: str | None = None
    shuffle: bool = False
    ties: str = "random"
    node_order: str = "trace"


@dataclass(frozen=True)
class Run:
    """One replay of the grid (picklable: sent to worker processes)."""

    config_name: str
    config: dict  # the KubeSchedulerConfiguration document
    config_source: str  # where it came from, for error messages
    trace: str  # path
    trace_name: str  # file stem
    seed: int
    replay: ReplaySettings
    key: str = ""


@dataclass
class Sweep:
    runs: list[Run] = field(default_factory=list)
    source: str = ""


def _fail(source: str, where: str, message: str) -> InputError:
    return InputError(message, source or None, where or None)


def parse_seeds(value, source: str, where: str = "seeds") -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        values = [value]
    elif isinstance(value, str):
        values = []
        for part in value.split(","):
            part = part.strip()
            try:
                if "-" in part:
                    low, high = part.split("-", 1)
                    values.extend(range(int(low), int(high) + 1))
                else:
                    values.append(int(part))
            except ValueError:
                raise _fail(source, where, f"not a seed list: {value!r} (e.g. 42-51 or 1,2,3)") from None
    elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        values = list(value)
    else:
        raise _fail(source, where, f"must be a list of integers or a range like \"42-51\", got {value!r}")
    if not values:
        raise _fail(source, where, "no seeds")
    bad = [v for v in values if not 0 <= v <= 2**64 - 1]
    if bad:
        raise _fail(source, where, f"seed {bad[0]} is not between 0 and {2**64 - 1}")
    return list(dict.fromkeys(values))


def openb_folder(explicit: str | None) -> str:
    """--openb, else $SCHEDKIT_OPENB, else ../shared/traces/openb."""
    return explicit or os.environ.get(OPENB_ENV) or os.path.join("..", "shared", "traces", "openb")


def resolve_trace(entry, base: str, openb: str, source: str, where: str) -> str:
    if not isinstance(entry, str) or not entry.strip():
        raise _fail(source, where, f"must be a trace file name or path, got {entry!r}")
    candidates = [entry] if os.path.isabs(entry) else [os.path.join(base, entry), entry]
    for candidate in candidates:
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    if os.sep not in entry:
        for name in (entry, entry + ".csv"):
            candidate = os.path.join(openb, name)
            if os.path.exists(candidate):
                return os.path.normpath(candidate)
        raise _fail(source, where, f"no trace {entry!r} here nor in the openb folder {openb} (give --openb DIR or "
                                   f"set {OPENB_ENV})")
    raise _fail(source, where, f"no such file or folder: {entry}")


def _config_document(entry, base: str, source: str, where: str) -> tuple[dict, str]:
    if isinstance(entry, dict):
        return entry, f"{source}: {where}"
    if isinstance(entry, str):
        path = entry if os.path.isabs(entry) else os.path.join(base, entry)
        if not os.path.exists(path) and os.path.exists(entry):
            path = entry
        try:
            with open(path, encoding="utf-8") as handle:
                docs = [d for d in yaml.safe_load_all(handle) if d is not None]
        except FileNotFoundError:
            raise _fail(source, where, f"no such configuration file: {entry}") from None
        except (OSError, yaml.YAMLError) as exc:
            raise _fail(path, "", f"cannot read the configuration: {str(exc).splitlines()[0]}") from None
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise _fail(path, "", "expected one KubeSchedulerConfiguration document")
        return docs[0], path
    raise _fail(source, where, f"must be a KubeSchedulerConfiguration file or document, got {entry!r}")


def replay_settings(obj, source: str) -> ReplaySettings:
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise _fail(source, "replay", f"must be a mapping, got {obj!r}")
    unknown = sorted(set(obj) - set(REPLAY_FIELDS))
    if unknown:
        raise _fail(source, f"replay.{unknown[0]}", f"unknown field; known: {', '.join(REPLAY_FIELDS)}")
    values = {REPLAY_FIELDS[k]: v for k, v in obj.items()}
    settings = ReplaySettings(**values)
    if settings.mode not in ("timed", "fill"):
        raise _fail(source, "replay.mode", f"must be timed or fill, got {settings.mode!r}")
    if settings.target_demand is not None:
        if isinstance(settings.target_demand, bool) or not isinstance(settings.target_demand, (int, float)) \
                or not 0 < settings.target_demand < float("inf"):
            raise _fail(source, "replay.targetDemand", f"must be a number above 0, got {settings.target_demand!r}")
        if settings.mode != "fill":
            raise _fail(source, "replay.targetDemand", "applies to mode: fill")
    if not isinstance(settings.shuffle, bool):
        raise _fail(source, "replay.shuffle", f"must be true or false, got {settings.shuffle!r}")
    if settings.ties not in TIES:
        raise _fail(source, "replay.ties", f"must be one of {', '.join(TIES)}, got {settings.ties!r}")
    if settings.node_order not in ("trace", "shuffled"):
        raise _fail(source, "replay.nodeOrder", f"must be trace or shuffled, got {settings.node_order!r}")
    if settings.target_resource is not None and not isinstance(settings.target_resource, str):
        raise _fail(source, "replay.targetResource", f"must be a resource name, got {settings.target_resource!r}")
    return settings


def build_sweep(configs: list[tuple[str, object, str]], traces: list[tuple[object, str]], seeds: list[int],
                settings: ReplaySettings, base: str, openb: str, source: str) -> Sweep:
    """``configs``: (name, file or document, field path); ``traces``: (entry, field path)."""
    names: set[str] = set()
    documents = []
    for name, entry, where in configs:
        if not isinstance(name, str) or not name:
            raise _fail(source, f"{where}.name", f"must be a non-empty name, got {name!r}")
        if name in names:
            raise _fail(source, f"{where}.name", f"duplicate configuration name {name!r}")
        names.add(name)
        document, origin = _config_document(entry, base, source, f"{where}.config")
        parse_config(document, origin)  # every configuration checked (plugins, args) before any run
        documents.append((name, document, origin))
    paths = [(resolve_trace(entry, base, openb, source, where)) for entry, where in traces]
    if not documents:
        raise _fail(source, "configs", "no configurations")
    if not paths:
        raise _fail(source, "traces", "no traces")
    runs = []
    content = {path: trace_digest(path) for path in dict.fromkeys(paths)}
    for name, document, origin in documents:
        config_digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
        for path in dict.fromkeys(paths):
            stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
            for seed in seeds:
                key = hashlib.sha256(json.dumps([config_digest, content[path], seed, asdict(settings), __version__],
                                                sort_keys=True).encode()).hexdigest()[:24]
                runs.append(Run(name, document, origin, path, stem, seed, settings, key))
    return Sweep(runs, source)


def trace_digest(path: str) -> str:
    """The content of a trace file, or of the files of a trace folder, with the openb node list beside
    an openb pod list (what the replay reads)."""
    digest = hashlib.sha256()
    files = []
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if os.path.isfile(os.path.join(path, f)))
    else:
        files = [path]
        nodes = os.path.join(os.path.dirname(path), "openb_node_list_gpu_node.csv")
        if os.path.basename(path).startswith("openb_pod_list") and os.path.exists(nodes):
            files.append(nodes)
    for name in files:
        digest.update(os.path.basename(name).encode())
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def load_sweep_file(path: str, openb: str | None) -> Sweep:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the sweep file: {str(exc).splitlines()[0]}", path) from None
    if not isinstance(doc, dict):
        raise InputError("a sweep file is a mapping with configs, traces, seeds and replay", path)
    unknown = sorted(set(doc) - {"configs", "traces", "seeds", "replay"})
    if unknown:
        raise _fail(path, unknown[0], "unknown field; known: configs, traces, seeds, replay")
    configs = doc.get("configs")
    if not isinstance(configs, list) or not configs:
        raise _fail(path, "configs", "must be a list of {name, config}")
    entries = []
    for i, item in enumerate(configs):
        if not isinstance(item, dict) or set(item) - {"name", "config"} or "config" not in item:
            raise _fail(path, f"configs[{i}]", "must be {name: ..., config: <file or document>}")
        entries.append((item.get("name"), item["config"], f"configs[{i}]"))
    traces = doc.get("traces")
    if not isinstance(traces, list) or not traces:
        raise _fail(path, "traces", "must be a list of trace files or names")
    if "seeds" not in doc:
        raise _fail(path, "seeds", "missing (e.g. seeds: \"42-51\")")
    return build_sweep(entries, [(t, f"traces[{i}]") for i, t in enumerate(traces)], parse_seeds(doc["seeds"], path),
                       replay_settings(doc.get("replay"), path), os.path.dirname(os.path.abspath(path)),
                       openb_folder(openb), path)
