"""The study's table from a sweep's runs: GPU allocation (% of capacity) at arrived demand, mean over
seeds, per trace and configuration (the FGD paper's Table/Figure 9 numbers)."""

from __future__ import annotations

import pandas as pd

POINTS = ("50", "80", "90", "100", "130")


def allocation_table(runs: pd.DataFrame, points: tuple[str, ...] = POINTS) -> pd.DataFrame | None:
    columns = [f"gpu.allocationAtArrivedDemand.{p}" for p in points]
    if not set(columns) <= set(runs.columns):
        return None
    ok = runs[runs["status"] == "ok"]
    if ok.empty:
        return None
    table = ok.groupby(["trace", "config"], sort=False)[columns].mean().round(2)
    table.columns = [f"{p}%" for p in points]
    table["seeds"] = ok.groupby(["trace", "config"], sort=False).size()
    return table


def format_table(table: pd.DataFrame) -> str:
    lines = ["GPU allocation (% of GPU capacity) at arrived GPU demand, mean over seeds"]
    for trace, part in table.groupby(level=0, sort=False):
        lines.append(f"  {trace}")
        header = "    " + f"{'config':<16}" + "".join(f"{c:>9}" for c in part.columns)
        lines.append(header)
        for (_, config), row in part.iterrows():
            cells = "".join(f"{v:>9.2f}" if c != "seeds" else f"{int(v):>9}" for c, v in row.items())
            lines.append(f"    {config:<16}{cells}")
    return "\n".join(lines) + "\n"
