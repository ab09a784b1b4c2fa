"""A sweep's folder: one file per finished run (written whole, then renamed, so an interrupted sweep
keeps every run that finished and nothing half-written), and the tables built from them at the end.

    DIR/runs/<key>.json            the run's row
    DIR/runs/<key>.curve.parquet   its curve (fill runs on GPU clusters)
    DIR/runs.parquet, runs.csv     one row per run of the sweep
    DIR/curves.parquet             config, trace, seed and the curve's columns, per run
"""

from __future__ import annotations

import json
import math
import os

import pandas as pd

from ..errors import InputError
from ..replay.output import write_outputs
from .spec import Run

TABLES = ("runs.parquet", "runs.csv", "curves.parquet")


class RunStore:
    def __init__(self, folder: str):
        self.folder = folder
        self.runs = os.path.join(folder, "runs")
        try:
            os.makedirs(self.runs, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the sweep folder: {exc.strerror or exc}", folder) from None

    def _path(self, key: str, suffix: str) -> str:
        return os.path.join(self.runs, key + suffix)

    def done(self, run: Run) -> bool:
        return os.path.exists(self._path(run.key, ".json"))

    def save(self, row: dict, curve: pd.DataFrame | None) -> None:
        key = row["key"]
        if curve is not None:
            tmp = self._path(key, f".curve.parquet.tmp-{os.getpid()}")
            curve.to_parquet(tmp, index=False)
            os.replace(tmp, self._path(key, ".curve.parquet"))
        tmp = self._path(key, f".json.tmp-{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({k: _plain(v) for k, v in row.items()}, handle)
        os.replace(tmp, self._path(key, ".json"))  # last: a run counts as done once its row is there

    def row(self, run: Run) -> dict:
        with open(self._path(run.key, ".json"), encoding="utf-8") as handle:
            return json.load(handle)

    def curve(self, run: Run) -> pd.DataFrame | None:
        path = self._path(run.key, ".curve.parquet")
        return pd.read_parquet(path) if os.path.exists(path) else None

    def write_tables(self, runs: list[Run]) -> list[str]:
        rows = [self.row(run) for run in runs]
        first = ["config", "trace", "seed", "status", "error", "wall_seconds", "schedkit_version"]
        table = pd.DataFrame(rows)
        table = table[first + [c for c in table.columns if c not in first]]
        curves = []
        for run, row in zip(runs, rows):
            curve = self.curve(run) if row["status"] == "ok" else None
            if curve is not None:
                curves.append(curve.assign(config=run.config_name, trace=run.trace_name, seed=run.seed)[
                    ["config", "trace", "seed", *curve.columns]])
        curve_table = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
            columns=["config", "trace", "seed", "arrived_gpu_demand", "gpu_allocation", "fragmentation"])
        writers = {  # renamed in this order: runs.parquet, the one a reader looks for, last
            "curves.parquet": lambda tmp: curve_table.to_parquet(tmp, index=False),
            "runs.csv": lambda tmp: table.to_csv(tmp, index=False),
            "runs.parquet": lambda tmp: table.to_parquet(tmp, index=False),
        }
        return write_outputs(self.folder, writers)


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
