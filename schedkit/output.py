"""Render explanations and schedules as tables, JSON and CSV; write files atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from typing import Any

from .framework.scheduler import Explanation, ScheduleResult
from .preemption.explain import outcome_json, outcome_lines


def explanation_json(explanation: Explanation) -> dict[str, Any]:
    return {
        "pod": explanation.pod,
        "schedulerName": explanation.scheduler_name,
        "selectedNode": explanation.selected_node,
        "message": explanation.message,
        "nodes": [
            {
                "name": node.name,
                "feasible": node.feasible,
                "failedPlugin": node.failed_plugin,
                "status": node.status,
                "reasons": node.reasons,
                "scores": node.scores,
                "totalScore": node.total_score,
                "examined": node.examined,
            }
            for node in explanation.nodes
        ],
        "skippedScorePlugins": explanation.skipped_score_plugins,
        "scoringSkipped": explanation.scoring_skipped,
        "cycleError": explanation.cycle_error,
        "notModelled": explanation.not_modelled,
        "warnings": explanation.warnings,
        "boundNode": explanation.bound_node,
        "nominatedNode": explanation.nominated_node,
        "victims": explanation.victims,
        "preemption": outcome_json(explanation.preemption),
    }


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def explanation_table(explanation: Explanation) -> str:
    plugins: list[str] = []
    weights: dict[str, int] = {}
    for node in explanation.nodes:
        for name, score in node.scores.items():
            if name not in weights:
                plugins.append(name)
                weights[name] = score["weight"]
    headers = ["NODE", "FEASIBLE", "FILTER"] + [f"{p} (x{weights[p]})" for p in plugins] + ["TOTAL"]
    rows = []
    for node in explanation.nodes:
        if node.feasible:
            verdict = "yes"
            if node.total_score is not None or explanation.scoring_skipped:
                detail = ""
            elif explanation.cycle_error:
                detail = "not scored: the cycle failed (Error below)"
            else:
                detail = "not scored (past percentageOfNodesToScore)"
        else:
            verdict = "no" if node.examined else "-"
            detail = f"{node.failed_plugin}: {', '.join(node.reasons)}" if node.failed_plugin else ""
        cells = []
        for name in plugins:
            score = node.scores.get(name)
            cells.append("" if score is None else f"{score['normalized']} (raw {score['raw']})")
        total = "" if node.total_score is None else str(node.total_score)
        rows.append([node.name, verdict, detail, *cells, total])
    out = [f"Pod {explanation.pod} (schedulerName {explanation.scheduler_name})", ""]
    if explanation.bound_node is not None:
        out.append(f"Not scheduled: {explanation.message}")
        return "\n".join(out) + "\n"
    if explanation.nodes:
        out.append(_table(headers, rows))
        out.append("")
    if explanation.selected_node:
        out.append(f"Selected node: {explanation.selected_node}")
        if explanation.scoring_skipped:
            out.append("Only one feasible node: kube-scheduler picks it without scoring.")
    else:
        out.append(f"{'Error' if explanation.cycle_error else 'Unschedulable'}: {explanation.message}")
    out.extend(outcome_lines(explanation.preemption))
    if explanation.skipped_score_plugins:
        out.append(f"Score plugins skipped by PreScore: {', '.join(explanation.skipped_score_plugins)}")
    if explanation.not_modelled:
        out.append(f"Not modelled by schedkit yet (left out of this profile): {', '.join(explanation.not_modelled)}")
    for warning in explanation.warnings:
        out.append(f"Warning: {warning}")
    return "\n".join(out) + "\n"


def schedule_json(result: ScheduleResult) -> dict[str, Any]:
    return {
        "assignments": [{"pod": a.pod, "node": a.node, "message": a.message, "nominatedNode": a.nominated_node}
                        for a in result.assignments],
        "evicted": [{"pod": e.pod, "node": e.node, "by": e.by} for e in result.evicted],
        "scheduled": result.scheduled,
        "unschedulable": result.unschedulable,
        "notQueued": result.not_queued,
        "bound": result.bound,
        "podsPerSecond": round(result.pods_per_second, 1),
        "compileSeconds": round(result.compile_seconds, 3),
    }


def schedule_csv(result: ScheduleResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["pod", "node", "message", "nominated_node"])
    for a in result.assignments:
        writer.writerow([a.pod, a.node or "", a.message or "", a.nominated_node or ""])
    return buffer.getvalue()


def schedule_table(result: ScheduleResult) -> str:
    rows = [[a.pod, a.node or "-", a.message or ""] for a in result.assignments]
    out = [_table(["POD", "NODE", "MESSAGE"], rows), ""]
    held = f", {result.not_queued} not queued" if result.not_queued else ""
    held += f", {result.bound} already bound" if result.bound else ""
    for e in result.evicted:
        out.append(f"Preempted: {e.pod} on {e.node} (by {e.by})")
    if result.evicted:
        out.append("")
    out.append(f"{result.scheduled} scheduled, {result.unschedulable} unschedulable{held}"
               f"{f', {len(result.evicted)} preempted' if result.evicted else ''}; "
               f"{result.pods_per_second:,.0f} pods/s (compile {result.compile_seconds:.2f} s"
               f"{'' if result.compiled or result.with_preemption else ', Python plugins: not compiled'})"
               + ("; a pod may preempt: scheduled as plain Python with preemption" if result.with_preemption else "")
               + ("; a pod may preempt: compiled cycles, DefaultPreemption partly in Python"
                  if result.fast_preemption else ""))
    return "\n".join(out) + "\n"


def dumps_json(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def check_output_path(path: str) -> None:
    """Fail before any work when ``path`` cannot be written: a directory, or under a file or a folder that
    cannot be written (missing folders are created when writing, as ``mkdir -p`` would)."""
    from .errors import InputError
    from .paths import check_creatable

    if os.path.isdir(path):
        raise InputError("is a directory; --out needs a file name", path)
    check_creatable(os.path.dirname(os.path.abspath(path)), path)


def write_atomically(path: str, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it: an interrupted run leaves no partial file
    (nor the folders it created). The file gets the mode a plain ``open()`` would give it (the umask's)."""
    from .errors import InputError
    from .paths import make_folders, remove_empty_folders, user_file_mode

    check_output_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    created = make_folders(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".schedkit-", suffix=".tmp")
    except OSError as exc:
        remove_empty_folders(created)
        raise InputError(f"cannot write: {exc.strerror}", path) from None
    try:
        os.fchmod(fd, user_file_mode())  # mkstemp makes 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        remove_empty_folders(created)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write: {exc.strerror}", path) from None
        raise
