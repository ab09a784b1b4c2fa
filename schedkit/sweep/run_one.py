"""One run of a sweep, in whichever process runs it: the replay and its figures, no files.

Each worker process keeps the schedulers and traces it has built, so a worker running many seeds of one
trace parses it once.
"""

from __future__ import annotations

import copy
import time
import traceback

import pandas as pd

from .. import __version__
from ..errors import InputError, PluginError
from ..framework.config import parse_config
from ..framework.runtime import TIES
from ..framework.scheduler import Scheduler
from ..replay import report
from ..replay.engine import replay
from ..replay.fill import GPU_MILLI, default_resource, fill_workload
from ..replay.run import order_nodes
from ..traces.loader import load_trace
from .spec import Run

_traces: dict[str, object] = {}
_schedulers: dict[str, Scheduler] = {}


def _trace(path: str):
    if path not in _traces:
        _traces[path] = load_trace(path)[0]
    return _traces[path]


def prepare_workload(run: Run):
    workload = order_nodes(copy.copy(_trace(run.trace)), run.replay.node_order, run.seed)
    info = None
    if run.replay.mode == "fill":
        resource = run.replay.target_resource or (GPU_MILLI if run.replay.target_demand else default_resource(workload))
        workload, info = fill_workload(workload, run.replay.target_demand, resource, run.replay.shuffle, run.seed)
    elif not workload.has_times:
        raise InputError("the trace records no creation/deletion times: use replay: {mode: fill}", run.trace)
    return workload, info


def scheduler_for(run: Run) -> Scheduler:
    key = run.config_source + repr(sorted(run.config.items(), key=str))
    if key not in _schedulers:
        _schedulers[key] = Scheduler(parse_config(run.config, run.config_source))
    scheduler = _schedulers[key]
    scheduler.ties = TIES[run.replay.ties]
    return scheduler


def execute(run: Run) -> tuple[dict, pd.DataFrame | None]:
    """(row, curve): the row holds the run's identity, status and every summary figure (flattened with
    dots); a failed run has status "failed" and its error, and no curve."""
    started = time.perf_counter()
    row = {"config": run.config_name, "trace": run.trace_name, "seed": run.seed, "schedkit_version": __version__,
           "key": run.key}
    try:
        workload, info = prepare_workload(run)
        result = replay(scheduler_for(run), workload, seed=run.seed)
        gpu = report.gpu_report(result, fill=run.replay.mode == "fill")
        extra = {"ties": run.replay.ties, "nodeOrder": run.replay.node_order}
        if info is not None:
            extra["fill"] = info
        summary = report.summary(result, mode=run.replay.mode, seed=run.seed, trace=run.trace,
                                 config=run.config_source, extra=extra, gpu_figures=gpu)
        row.update(status="ok", error=None, wall_seconds=round(time.perf_counter() - started, 3),
                   trace_path=run.trace)
        for name, value in flatten(summary).items():
            row.setdefault(name, value)  # the summary's own trace, config and seed are the run's
        curve = None
        if gpu is not None and gpu.curve is not None:
            curve = gpu.curve.drop(columns=["pod"])
        return row, curve
    except (InputError, PluginError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:  # noqa: BLE001: a run's own failure is recorded, the sweep goes on
        message = f"{type(exc).__name__}: {exc} ({traceback.extract_tb(exc.__traceback__)[-1].name})"
    row.update(status="failed", error=message, wall_seconds=round(time.perf_counter() - started, 3))
    return row, None


def flatten(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif not isinstance(value, list):
            out[name] = value
    return out
