"""Running a sweep's runs: warm the compile cache once, then fan out over a local process pool (one
numba thread per worker) or a Dask cluster, saving each run as it finishes, with a progress bar."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import TextIO

import numpy as np

from ..errors import InputError
from .run_one import execute, prepare_workload, scheduler_for
from .spec import Run, Sweep
from .store import RunStore


class RunProgress:
    """``sweep [#####     ] 12/60 runs, 1 failed, 35 s`` redrawn on a terminal; a line at the end."""

    def __init__(self, total: int, skipped: int, stream: TextIO, quiet: bool):
        self.total, self.done, self.failed = total, skipped, 0
        self.stream, self.quiet = stream, quiet
        self.bar = not quiet and stream.isatty()
        self.start = time.perf_counter()
        if skipped and not quiet:
            stream.write(f"sweep: {skipped} of {total} runs already done in this folder, skipped\n")

    def advance(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.bar:
            share = self.done / self.total if self.total else 1
            self.stream.write(f"\rsweep [{'#' * int(share * 30):<30}] {self.done}/{self.total} runs"
                              f"{f', {self.failed} failed' if self.failed else ''}, "
                              f"{time.perf_counter() - self.start:.0f} s")
            self.stream.flush()

    def close(self) -> None:
        if self.bar:
            self.stream.write("\n")


def warm(runs: list[Run]) -> None:
    """Compile (or load) each configuration's replay loop here, once, before the workers start: they
    then load it from the cache instead of each compiling it (configurations that differ only in
    numbers, and the six GPU policies, share one loop: the later ones only load it)."""
    from ..replay.engine import replay

    seen = set()
    for run in runs:
        if run.config_source in seen:
            continue
        seen.add(run.config_source)
        try:
            workload, _ = prepare_workload(run)
        except InputError:
            continue  # the run itself will fail with this error
        small = workload.take(np.arange(min(3, workload.num_pods)))
        replay(scheduler_for(run), small, seed=run.seed)


def _worker_setup() -> None:
    os.environ["NUMBA_NUM_THREADS"] = "1"


def run_local(todo: list[Run], store: RunStore, workers: int, progress: RunProgress) -> None:
    if workers <= 1:
        for run in todo:
            row, curve = execute(run)
            store.save(row, curve)
            progress.advance(row["status"] == "ok")
        return
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by the spawned workers before they import numba
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_worker_setup) as pool:
        pending = set()
        queue = list(todo)
        try:
            while queue or pending:
                while queue and len(pending) < workers * 2:
                    pending.add(pool.submit(execute, queue.pop(0)))
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    row, curve = future.result()
                    store.save(row, curve)
                    progress.advance(row["status"] == "ok")
        except BaseException:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def run_dask(todo: list[Run], store: RunStore, address: str, workers: int, progress: RunProgress) -> None:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("--dask needs Dask's distributed scheduler: pip install 'schedkit[dask]'") from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               env={"NUMBA_NUM_THREADS": "1"})
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler: {exc}", address) from None
    try:
        futures = [client.submit(execute, run, pure=False) for run in todo]
        for future in as_completed(futures):
            row, curve = future.result()
            store.save(row, curve)
            progress.advance(row["status"] == "ok")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(sweep: Sweep, out: str, workers: int | None = None, dask: str | None = None,
              stream: TextIO | None = None, quiet: bool = False) -> tuple[list[str], int, int]:
    """Run what is not done yet; returns (tables written, runs, failed runs)."""
    stream = stream or sys.stderr  # looked up now: a caller may have replaced it (click's test runner)
    store = RunStore(out)
    todo = [run for run in sweep.runs if not store.done(run)]
    workers = workers or os.cpu_count() or 1
    progress = RunProgress(len(sweep.runs), len(sweep.runs) - len(todo), stream, quiet)
    try:
        if todo:
            warm(todo)
            if dask:
                run_dask(todo, store, dask, workers, progress)
            else:
                run_local(todo, store, min(workers, len(todo)), progress)
    except KeyboardInterrupt:
        progress.close()
        done = sum(store.done(run) for run in sweep.runs)
        raise InputError(f"interrupted: {done} of {len(sweep.runs)} runs are saved in {store.runs}; run the same "
                         "command again to finish the others (no table was written)") from None
    progress.close()
    files = store.write_tables(sweep.runs)
    failed = sum(store.row(run)["status"] != "ok" for run in sweep.runs)
    return files, len(sweep.runs), failed
