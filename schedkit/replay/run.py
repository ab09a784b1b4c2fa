"""``schedkit replay`` end to end: load, choose the submission, replay, write the files, summarise."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from ..compile_notice import QUIET_NOTICE_AFTER, CompileNotice, compile_message
from ..errors import InputError
from ..framework.runtime import TIES
from ..framework.scheduler import Scheduler
from ..packaged import sample_trace
from ..traces.loader import load_trace
from . import report
from .engine import replay
from .fill import GPU_MILLI, default_resource, fill_workload
from .reference import GRACE_CHOICES
from .output import OutLock, check_out_dir, json_writer, new_out_dir, parquet_writer, write_outputs

SAMPLE_TRACE = str(sample_trace())


@dataclass
class ReplayOptions:
    trace: str | None = None
    nodes: str | None = None
    config: str | None = None
    fmt: str = "auto"
    mode: str = "timed"
    seed: int = 0
    out: str | None = None
    quiet: bool = False
    target_demand: float | None = None
    target_resource: str | None = None
    shuffle: bool = False
    ties: str = "random"  # how selectHost breaks ties: "random" (upstream) or "first" (the FGD simulator)
    node_order: str = "trace"  # "trace", or "shuffled": a seeded permutation (the FGD simulator's node names)
    grace_period: str = "pod"  # preemption victims leave after their terminationGracePeriodSeconds, or "0": at once


def order_nodes(workload, order: str, seed: int):
    """The nodes in the order the scheduler lists them: as the trace gives them, or a permutation drawn
    from ``seed`` (the FGD simulator names nodes ``%04d-<name>`` from a random permutation, and its
    scheduler lists them by name)."""
    if order == "trace":
        return workload
    permutation = np.random.default_rng((seed, 1)).permutation(len(workload.nodes))
    workload.nodes = [workload.nodes[i] for i in permutation]
    return workload


class Progress:
    """A one-line progress bar on stderr, when stderr is a terminal, once the replay loop has run for a
    second; and a line saying so when numba compiles the loop for a while (on any stderr)."""

    def __init__(self, stream: TextIO, enabled: bool, delay: float = 1.0, quiet_delay: float | None = None):
        self.stream, self.enabled, self.delay = stream, enabled, delay
        self.quiet_delay = QUIET_NOTICE_AFTER if quiet_delay is None else quiet_delay
        self.bar = enabled and stream.isatty()  # redrawn in place with \r: noise in a log file
        self.start = time.perf_counter()
        self.last = 0.0
        self.shown = False
        self.latest: tuple[int, int, float] | None = None
        self.notice: CompileNotice | None = None

    def __call__(self, arrived: int, total: int, now: float) -> None:
        self.latest = (arrived, total, now)
        elapsed = time.perf_counter() - self.start
        if not self.bar or elapsed < self.delay or elapsed - self.last < 0.2:
            return
        self.last = elapsed
        self._draw(elapsed)

    def _draw(self, elapsed: float) -> None:
        arrived, total, now = self.latest
        share = arrived / total if total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\rreplay [{bar:<30}] {share:6.1%} {arrived:,}/{total:,} pods arrived, "
                          f"t={now:,.0f} s, {elapsed:.0f} s")
        self.stream.flush()
        self.shown = True

    def compiling(self, profile: str | None) -> None:
        """Say so when numba compiles the loop (the first replay with a profile), not when it only loads
        it from the cache; under --quiet only a compile that lasts over QUIET_NOTICE_AFTER. The bar's
        second of grace starts when the loop does."""
        if profile is None:
            if self.notice:
                self.notice.stop()
                self.notice = None
            self.start = time.perf_counter()
            return
        after = self.delay if self.enabled else self.quiet_delay
        self.notice = CompileNotice(self.stream, compile_message("replay loop", [profile]), after).start()

    def close(self) -> None:
        if self.notice:
            self.notice.stop()
            self.notice = None
        if self.shown:
            self._draw(time.perf_counter() - self.start)  # the final state, which throttling may have skipped
            self.stream.write("\n")
            self.stream.flush()


def run_replay(options: ReplayOptions, stderr: TextIO = sys.stderr) -> tuple[dict, list[str]]:
    """Returns the summary and the files written. An ``--out`` folder is locked for the whole run (a new
    default folder is this run's alone)."""
    if options.out:
        with OutLock(options.out):
            check_out_dir(options.out)  # under the lock: no other replay's files are half-written there now
            return _run_replay(options, stderr)
    return _run_replay(options, stderr)


def _run_replay(options: ReplayOptions, stderr: TextIO) -> tuple[dict, list[str]]:
    trace = options.trace or SAMPLE_TRACE
    if options.trace is None and not os.path.isdir(SAMPLE_TRACE):
        raise InputError("the bundled sample trace is missing from this installation; give a TRACE", SAMPLE_TRACE)
    if not options.out and not os.access(".", os.W_OK):
        raise InputError("the current folder is not writable; pass --out DIR", os.path.abspath("."))
    scheduler = Scheduler.from_file(options.config)
    if options.ties not in TIES:
        raise InputError(f"--ties must be one of {', '.join(TIES)}, got {options.ties!r}")
    if options.node_order not in ("trace", "shuffled"):
        raise InputError(f"--node-order must be trace or shuffled, got {options.node_order!r}")
    if options.grace_period not in GRACE_CHOICES:
        raise InputError(f"--grace-period must be pod or 0, got {options.grace_period!r}")
    scheduler.ties = TIES[options.ties]
    workload, fmt = load_trace(trace, options.nodes, options.fmt)
    workload = order_nodes(workload, options.node_order, options.seed)
    extra: dict = {"format": fmt, "ties": options.ties, "nodeOrder": options.node_order,
                   "gracePeriod": options.grace_period}
    if options.mode == "fill":
        resource = options.target_resource or default_resource(workload)
        if options.target_resource and options.target_resource != GPU_MILLI and not any(
                options.target_resource in node.allocatable for node in workload.nodes):
            raise InputError(f"--target-resource {options.target_resource!r}: no node has it "
                             f"(use a resource the nodes list, or {GPU_MILLI})")
        workload, info = fill_workload(workload, options.target_demand, resource, options.shuffle, options.seed)
        extra["fill"] = info
    elif options.target_demand is not None or options.shuffle:
        raise InputError("--target-demand and --shuffle apply to --mode fill")
    elif not workload.has_times:  # arrivals would be row numbers and the summary would still say "timed"
        raise InputError("the trace records no creation_time/deletion_time, so a timed replay has no arrival "
                         "times to follow; replay it with --mode fill", trace)
    progress = Progress(stderr, not options.quiet)
    try:
        result = replay(scheduler, workload, seed=options.seed, progress=progress, compiling=progress.compiling,
                        grace=options.grace_period)
    finally:
        progress.close()
    gpu = report.gpu_report(result, fill=options.mode == "fill")
    summary = report.summary(result, mode=options.mode, seed=options.seed, trace=trace, config=options.config,
                             extra=extra, gpu_figures=gpu)
    writers = {
        "placements.parquet": parquet_writer(report.placements(result)),
        "timeline.parquet": parquet_writer(report.timeline(result, gpu)),
    }
    if gpu is not None and gpu.curve is not None:
        writers["curve.parquet"] = parquet_writer(gpu.curve)
    writers["summary.json"] = json_writer(summary)
    out = options.out or new_out_dir(trace)
    files = write_outputs(out, writers, created=options.out is None)
    return summary, files
