"""``schedkit plot SWEEP_DIR``: the figures such studies publish, from a sweep's tables (PNG and SVG).

- ``allocation-<trace>``: GPU allocation (% of capacity) against arrived GPU demand, one line per
  configuration (mean over seeds, the band from the lowest to the highest seed), the ideal diagonal;
- ``fragmentation-<trace>``: the FGD paper's fragmentation (% of capacity) against arrived demand;
- ``allocation-at-100``: per trace, each configuration's allocation at 100% arrived demand (bars).

Curves are bucketed per whole percent of arrived demand as the paper's analysis scripts do
(``gpu_metrics.at_arrived_demand``).
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from ..errors import InputError
from ..replay.gpu_metrics import at_arrived_demand

PERCENTS = tuple(range(0, 131))


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise InputError("schedkit plot needs matplotlib: pip install 'schedkit[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bucketed(curves: pd.DataFrame, column: str) -> pd.DataFrame:
    """config, trace, seed, percent, value: one row per run and whole percent of arrived demand."""
    rows = []
    for (config, trace, seed), run in curves.groupby(["config", "trace", "seed"], sort=False):
        table = at_arrived_demand(run, column, PERCENTS)
        rows.extend((config, trace, seed, int(p), v) for p, v in table.items() if v is not None)
    return pd.DataFrame(rows, columns=["config", "trace", "seed", "percent", "value"])


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _save(plt, figure, folder: str, name: str) -> list[str]:
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(folder, f"{name}.{ext}")
        tmp = path + f".tmp-{os.getpid()}.{ext}"
        figure.savefig(tmp, dpi=150, bbox_inches="tight")
        os.replace(tmp, path)
        paths.append(path)
    plt.close(figure)
    return paths


def _lines(plt, data: pd.DataFrame, trace: str, ylabel: str, title: str, diagonal: bool):
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for config, part in data.groupby("config", sort=False):
        stats = part.groupby("percent")["value"].agg(["mean", "min", "max"])
        line = axes.plot(stats.index, stats["mean"], label=config, linewidth=1.6)[0]
        axes.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.15, linewidth=0)
    if diagonal:
        axes.plot([0, 100], [0, 100], linestyle=":", color="grey", linewidth=1, label="ideal")
    axes.set_xlabel("arrived GPU demand (% of GPU capacity)")
    axes.set_ylabel(ylabel)
    axes.set_title(f"{title}: {trace}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def plot_sweep(folder: str, out: str | None = None) -> list[str]:
    runs_path, curves_path = os.path.join(folder, "runs.parquet"), os.path.join(folder, "curves.parquet")
    if not os.path.exists(runs_path):
        raise InputError("no runs.parquet: not a finished sweep folder (schedkit sweep writes it when all runs "
                         "are done)", folder)
    curves = pd.read_parquet(curves_path) if os.path.exists(curves_path) else pd.DataFrame()
    if curves.empty:
        raise InputError("curves.parquet holds no curves: the figures need fill runs on a GPU cluster", folder)
    plt = _pyplot()
    out = out or os.path.join(folder, "plots")
    os.makedirs(out, exist_ok=True)
    written: list[str] = []
    allocation = bucketed(curves, "gpu_allocation")
    fragmentation = bucketed(curves, "fragmentation")
    for trace in dict.fromkeys(curves["trace"]):
        written += _save(plt, _lines(plt, allocation[allocation["trace"] == trace], trace,
                                     "GPU allocation (% of GPU capacity)", "GPU allocation", True),
                         out, f"allocation-{_safe(trace)}")
        written += _save(plt, _lines(plt, fragmentation[fragmentation["trace"] == trace], trace,
                                     "fragmented GPU (% of GPU capacity)", "Fragmentation", False),
                         out, f"fragmentation-{_safe(trace)}")
    at100 = allocation[allocation["percent"] == 100].groupby(["trace", "config"], sort=False)["value"].mean()
    if len(at100):
        table = at100.unstack("config")
        configs = list(dict.fromkeys(allocation["config"]))
        table = table[[c for c in configs if c in table.columns]]
        figure, axes = plt.subplots(figsize=(max(6, 0.9 * len(table) + 2), 4.5))
        width = 0.8 / max(len(table.columns), 1)
        x = np.arange(len(table))
        for i, config in enumerate(table.columns):
            axes.bar(x + i * width - 0.4 + width / 2, table[config], width, label=config)
        axes.set_xticks(x, [t.replace("openb_pod_list_", "") for t in table.index], rotation=45, ha="right")
        low = np.nanmin(table.to_numpy())
        axes.set_ylim(max(0, low - 5), 100)
        axes.set_ylabel("GPU allocation at 100% arrived demand (%)")
        axes.set_title("GPU allocation at 100% arrived demand, mean over seeds")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(fontsize=8, ncol=min(3, len(table.columns)))
        written += _save(plt, figure, out, "allocation-at-100")
    return written
