"""The ``schedkit`` command: explain one scheduling decision, schedule a batch of pending pods."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Callable

import click

from . import KUBERNETES_VERSION, __version__
from .cluster import load_cluster, load_pods, warn
from .compile_notice import CompileNotice, compile_message
from .errors import InputError
from .framework.scheduler import Scheduler
from .output import (check_output_path, dumps_json, explanation_json, explanation_table, schedule_csv, schedule_json,
                     schedule_table, write_atomically)



def _fail(message: str) -> None:
    click.echo(f"schedkit: error: {message}", err=True)
    sys.exit(2)


def _check_seed(seed: int) -> None:
    """Seeds feed numpy's SeedSequence and a 64-bit tie-breaking state: larger ones would alias smaller."""
    if not 0 <= seed <= 2**64 - 1:
        raise InputError(f"must be between 0 and {2**64 - 1}, got {seed}", field="--seed")


def _guard(run: Callable[[], None]) -> None:
    """User errors are one line on stderr and exit code 2, never a traceback."""
    try:
        run()
    except InputError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; no output was written")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, message=f"schedkit %(version)s (kube-scheduler v{KUBERNETES_VERSION} semantics)")
def main() -> None:
    """schedkit: where would these pods go, and why? kube-scheduler's decisions, computed in seconds."""


@main.command()
@click.option("--cluster", "cluster_path", required=True, multiple=True,
              help="Nodes and running pods (and the Services, ReplicaSets, ... default spreading reads): a file or "
                   "directory of manifests, e.g. the README's `kubectl get nodes,pods,services,... -A -o json`.")
@click.option("--pod", "pod_path", required=True, help="The pod to explain (a Pod manifest, YAML or JSON).")
@click.option("--config", "config_path", default=None, help="A KubeSchedulerConfiguration file (default: upstream's profile).")
@click.option("--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for breaking ties between top-scoring nodes and for the start of preemption's dry run.")
def explain(cluster_path: tuple[str, ...], pod_path: str, config_path: str | None, output: str, seed: int) -> None:
    """Show what kube-scheduler would do with one pod, node by node and plugin by plugin."""

    def run() -> None:
        _check_seed(seed)
        scheduler = Scheduler.from_file(config_path)
        cluster = load_cluster(list(cluster_path))
        for message in scheduler.config_warnings + cluster.warnings:
            warn(message)
        pods = load_pods(pod_path, cluster.priority_classes, cluster.preemption_policies)
        if len(pods) != 1:
            raise InputError(f"expected exactly one Pod, found {len(pods)}", pod_path)
        for message in scheduler.spread_owner_warnings(cluster, pods):
            warn(message)
        with CompileNotice(sys.stderr, compile_message("scheduling loop", [pods[0].scheduler_name])):
            explanation = scheduler.explain(cluster, pods[0], seed=seed)
        click.echo(dumps_json(explanation_json(explanation)) if output == "json" else explanation_table(explanation),
                   nl=False)

    _guard(run)


@main.command()
@click.option("--cluster", "cluster_path", required=True, multiple=True,
              help="Nodes and running pods (files or directories of manifests).")
@click.option("--pods", "pods_path", default=None, multiple=True,
              help="Pods to schedule (default: the pending pods in the cluster input).")
@click.option("--config", "config_path", default=None, help="A KubeSchedulerConfiguration file.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for breaking ties between top-scoring nodes and for the start of preemption's dry run.")
@click.option("--output", "-o", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--out", "out_path", default=None, help="Write the output to this file instead of stdout.")
def schedule(cluster_path: tuple[str, ...], pods_path: tuple[str, ...], config_path: str | None, seed: int,
             output: str, out_path: str | None) -> None:
    """Schedule every pending pod in queue order and report where each one lands."""

    def run() -> None:
        _check_seed(seed)
        if out_path:
            check_output_path(out_path)
        scheduler = Scheduler.from_file(config_path)
        cluster = load_cluster(list(cluster_path))
        for message in scheduler.config_warnings + cluster.warnings:
            warn(message)
        pods = load_pods(list(pods_path), cluster.priority_classes, cluster.preemption_policies) if pods_path else cluster.pending_pods
        for message in scheduler.spread_owner_warnings(cluster, pods) + scheduler.volume_warnings(pods):
            warn(message)
        with CompileNotice(sys.stderr, compile_message("scheduling loop", list(scheduler.profiles))):
            result = scheduler.schedule(cluster, pods, seed=seed)
        if output == "json":
            text = dumps_json(schedule_json(result))
        elif output == "csv":
            text = schedule_csv(result)
        else:
            text = schedule_table(result)
        if out_path:
            write_atomically(out_path, text)
            bound = f", {result.bound} already bound" if result.bound else ""
            click.echo(f"{result.scheduled} scheduled, {result.unschedulable} unschedulable{bound}; wrote {out_path}",
                       err=True)
        else:
            click.echo(text, nl=False)

    _guard(run)


@main.command()
@click.argument("workloads", nargs=-1)
@click.option("--nodes", type=click.IntRange(1), default=None,
              help="Nodes per workload (init and measured pods scale with it); default upstream's 5000.")
@click.option("--scoring", type=click.Choice(["adaptive", "full", "both"]), default="both", show_default=True,
              help="percentageOfNodesToScore: upstream's adaptive default, 100 (full), or both.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "json_path", default=None, help="Also write the results as JSON to this file.")
@click.option("--baseline", default=None, help="A --json file from an earlier run: flag regressions over 10%.")
@click.option("--quick", is_flag=True, help="500 nodes: a smoke run.")
@click.option("--cold-compile", is_flag=True,
              help="Also time compiling the default profile's loop in a fresh process with empty caches "
                   "(about a minute).")
@click.option("--openb", "openb_path", default=None,
              help="Folder of the Alibaba openb trace for OpenbFill (default $SCHEDKIT_OPENB, else "
                   "../shared/traces/openb; skipped when absent unless named).")
def bench(workloads: tuple[str, ...], nodes: int | None, scoring: str, seed: int, json_path: str | None,
          baseline: str | None, quick: bool, cold_compile: bool, openb_path: str | None) -> None:
    """Run upstream scheduler_perf workloads (and OpenbFill, a trace replay) and print pods/s next to
    upstream's CI floors."""
    from .benchmark import (OPENB_FGD, OPENB_FILL, OPENB_TRACE_ROWS, WORKLOADS, compare, cold_compile_seconds,
                            machine, openb_dir, run_openb_fgd, run_openb_fill, run_workload, table)

    def run() -> None:
        _check_seed(seed)
        available = [*WORKLOADS, *OPENB_TRACE_ROWS]
        names = list(workloads) or [name for name in available if name not in WORKLOADS
                                    or not WORKLOADS[name].by_name_only]
        if not workloads:
            slow = [name for name in WORKLOADS if WORKLOADS[name].by_name_only]
            if slow:
                click.echo(f"{', '.join(slow)} skipped: it runs for about a minute; name it to run it", err=True)
        for name in names:
            if name not in available:
                raise InputError(f"unknown workload {name!r}; available: {', '.join(available)}")
        if json_path:
            check_output_path(json_path)
        wanted = [name for name in names if name in OPENB_TRACE_ROWS]
        trace_dir = openb_dir(openb_path) if wanted else None
        if wanted and trace_dir is None:
            if workloads:
                raise InputError(f"{' and '.join(wanted)} need{'s' if len(wanted) == 1 else ''} the openb trace: "
                                 "pass --openb DIR or set SCHEDKIT_OPENB")
            click.echo(f"{', '.join(wanted)} skipped: no openb trace (pass --openb DIR or set SCHEDKIT_OPENB)",
                       err=True)
            names = [name for name in names if name not in OPENB_TRACE_ROWS]
        size = nodes or (500 if quick else None)
        cold = cold_compile_seconds() if cold_compile and any(n not in OPENB_TRACE_ROWS for n in names) else None
        results = []
        for name in names:
            if name == OPENB_FILL:
                results.append(run_openb_fill(trace_dir, seed, reference=True,
                                              progress=lambda line: click.echo(line, err=True)))
                continue
            if name == OPENB_FGD:
                results.append(run_openb_fgd(trace_dir, progress=lambda line: click.echo(line, err=True)))
                continue
            results.extend(run_workload(WORKLOADS[name], size, scoring, seed, reference=True, cold=cold,
                                        progress=lambda line: click.echo(line, err=True)))
        click.echo(table(results), nl=False)
        if json_path:
            write_atomically(json_path, dumps_json({"machine": machine(), "results": [r.json() for r in results]}))
        if baseline:
            comparison = compare(results, baseline)
            for line in comparison.report():
                click.echo(line)
            if comparison.regressions:
                sys.exit(1)

    _guard(run)


@main.command()
@click.argument("trace", required=False)
@click.option("--nodes", "nodes_path", default=None,
              help="The node table or manifests (default: nodes.csv/parquet beside the trace; for openb, "
                   "openb_node_list_gpu_node.csv beside it).")
@click.option("--config", "config_path", default=None, help="A KubeSchedulerConfiguration file.")
@click.option("--format", "fmt", type=click.Choice(["auto", "schedkit", "openb", "k8s"]), default="auto",
              show_default=True, help="Trace format (auto: from the file name and header).")
@click.option("--mode", type=click.Choice(["timed", "fill"]), default="timed", show_default=True,
              help="timed: arrivals and departures on the trace clock; fill: submit pods in order, no departures.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed for ties between nodes, the start of preemption's dry run (and --shuffle).")
@click.option("--out", "out_dir", default=None,
              help="Output folder: new, empty, or an earlier replay's (default: a new replay-<trace>-<time> folder here).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--target-demand", type=float, default=None,
              help="Fill mode: submit until requests reach this multiple of capacity, e.g. 1.3.")
@click.option("--target-resource", default=None,
              help="Fill mode: the resource the target counts (default nvidia.com/gpu if nodes have GPUs, else cpu; "
                   "gpu-milli counts shared GPUs by their fraction).")
@click.option("--shuffle", is_flag=True, help="Fill mode: submit in a seeded random order instead of trace order.")
@click.option("--ties", type=click.Choice(["random", "first"]), default="random", show_default=True,
              help="Between nodes with the best score: a seeded random one (kube-scheduler) or the first in node "
                   "order (the FGD paper's simulator).")
@click.option("--node-order", type=click.Choice(["trace", "shuffled"]), default="trace", show_default=True,
              help="The scheduler's node order: as the trace lists them, or a seeded permutation (the FGD simulator).")
@click.option("--grace-period", type=click.Choice(["pod", "0"]), default="pod", show_default=True,
              help="How long a pod preemption deletes keeps its node: its terminationGracePeriodSeconds (default "
                   "30 s) on the simulated clock, or 0 (it leaves at once).")
def replay(trace: str | None, nodes_path: str | None, config_path: str | None, fmt: str, mode: str, seed: int,
           out_dir: str | None, quiet: bool, target_demand: float | None, target_resource: str | None,
           shuffle: bool, ties: str, node_order: str, grace_period: str) -> None:
    """Replay a recorded workload through the scheduler (default: the bundled sample trace)."""
    from .replay.report import human_summary
    from .replay.run import ReplayOptions, run_replay

    def run() -> None:
        _check_seed(seed)
        summary, files = run_replay(ReplayOptions(trace, nodes_path, config_path, fmt, mode, seed, out_dir, quiet,
                                                  target_demand, target_resource, shuffle, ties, node_order,
                                                  grace_period))
        click.echo(human_summary(summary), nl=False)
        click.echo(f"wrote {', '.join(files)}")

    _guard(run)


@main.command()
@click.argument("sweep_file", required=False)
@click.option("--config", "configs", multiple=True, help="A KubeSchedulerConfiguration file (repeat); named by its stem.")
@click.option("--trace", "traces", multiple=True, help="A trace file or openb list name (repeat).")
@click.option("--seeds", default=None, help='Seeds: "42-51" or "1,2,3".')
@click.option("--mode", type=click.Choice(["timed", "fill"]), default=None, help="Replay mode (default timed).")
@click.option("--target-demand", type=float, default=None, help="Fill mode: tune the workload to this multiple of capacity.")
@click.option("--target-resource", default=None, help="Fill mode: what the target counts (gpu-milli by default with a target).")
@click.option("--shuffle", is_flag=True, default=None, help="Fill mode: submit in a seeded random order.")
@click.option("--ties", type=click.Choice(["random", "first"]), default=None, help="selectHost's ties (default random).")
@click.option("--node-order", type=click.Choice(["trace", "shuffled"]), default=None, help="Node order (default trace).")
@click.option("--workers", type=click.IntRange(1), default=None, help="Processes (default: one per core).")
@click.option("--dask", "dask_address", default=None, help="Run on a Dask cluster: its scheduler's address, or local.")
@click.option("--openb", "openb_dir", default=None,
              help="Where openb pod lists named in traces are (default $SCHEDKIT_OPENB, else ../shared/traces/openb).")
@click.option("--out", "out_dir", default=None, help="The sweep's folder (default sweep-<sweep file name>); rerun to resume.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sweep(sweep_file: str | None, configs: tuple[str, ...], traces: tuple[str, ...], seeds: str | None,
          mode: str | None, target_demand: float | None, target_resource: str | None, shuffle: bool | None,
          ties: str | None, node_order: str | None, workers: int | None, dask_address: str | None,
          openb_dir: str | None, out_dir: str | None, quiet: bool) -> None:
    """Run a grid of replays (configurations x traces x seeds) and gather their figures into
    runs.parquet/runs.csv (a row per run) and curves.parquet; a rerun skips the runs already done."""
    import pandas as pd

    from .sweep.runner import run_sweep
    from .sweep.spec import ReplaySettings, build_sweep, load_sweep_file, openb_folder, parse_seeds, replay_settings
    from .sweep.table import allocation_table, format_table

    def run() -> None:
        options = {"mode": mode, "targetDemand": target_demand, "targetResource": target_resource,
                   "shuffle": shuffle, "ties": ties, "nodeOrder": node_order}
        given = {k: v for k, v in options.items() if v is not None}
        if sweep_file:
            if configs or traces or seeds or given:
                raise InputError("give either a sweep file or --config/--trace/--seeds and replay options, not both",
                                 sweep_file)
            spec = load_sweep_file(sweep_file, openb_dir)
            out = out_dir or f"sweep-{os.path.splitext(os.path.basename(sweep_file))[0]}"
        else:
            if not configs or not traces:
                raise InputError("give a sweep file, or --config (one or more) and --trace (one or more)")
            settings = replay_settings(given, "command line") if given else ReplaySettings()
            names = [os.path.splitext(os.path.basename(c))[0] for c in configs]
            spec = build_sweep([(n, c, f"--config {c}") for n, c in zip(names, configs)],
                               [(t, f"--trace {t}") for t in traces],
                               parse_seeds(seeds or "0", "command line", "--seeds"), settings, os.getcwd(),
                               openb_folder(openb_dir), "")
            out = out_dir or "sweep"
        files, total, failed = run_sweep(spec, out, workers, dask_address, quiet=quiet)
        table = allocation_table(pd.read_parquet(os.path.join(out, "runs.parquet")))
        if table is not None:
            click.echo(format_table(table), nl=False)
        click.echo(f"wrote {', '.join(files)} ({total} runs" + (f", {failed} failed: see the error column" if failed
                                                                 else "") + ")")

    _guard(run)


@main.command()
@click.argument("sweep_dir")
@click.option("--out", "out_dir", default=None, help="Where the figures go (default SWEEP_DIR/plots).")
def plot(sweep_dir: str, out_dir: str | None) -> None:
    """Draw a sweep's figures (PNG and SVG): allocation and fragmentation against arrived GPU demand per
    configuration, and allocation at 100% demand per trace. Needs the plot extra (matplotlib)."""
    from .sweep.plot import plot_sweep

    def run() -> None:
        files = plot_sweep(sweep_dir, out_dir)
        click.echo(f"wrote {len(files)} files in {os.path.dirname(files[0]) if files else out_dir}")

    _guard(run)


@main.group()
def trace() -> None:
    """Make and inspect workload traces."""


@trace.command("generate")
@click.option("--like", type=click.Choice(["openb"]), default="openb", show_default=True,
              help="Whose statistics to follow (traces/README.md).")
@click.option("--nodes", type=click.IntRange(1), default=200, show_default=True)
@click.option("--pods", type=click.IntRange(1), default=3000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--load", type=click.FloatRange(0, 100, min_open=True), default=0.65, show_default=True,
              help="Steady-state share of the cluster's GPUs requested by live pods (sets the arrival rate).")
@click.option("--gpu-spec-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of GPU pods constrained to GPU models, drawn like openb_pod_list_gpuspec33.csv.")
@click.option("--out", "out_dir", default=None,
              help="Output folder: new, empty, or an earlier trace's (default: trace-openb-<nodes>n-<pods>p-s<seed>).")
def trace_generate(like: str, nodes: int, pods: int, seed: int, load: float, gpu_spec_share: float,
                   out_dir: str | None) -> None:
    """Generate a synthetic trace (nodes.csv, pods.csv) in schedkit's schema."""
    from .replay.output import check_out_dir
    from .traces.generate import TRACE_FILES, check_size, generate_like_openb, write_trace

    def run() -> None:
        _check_seed(seed)
        check_size(nodes, pods)
        folder = out_dir or f"trace-{like}-{nodes}n-{pods}p-s{seed}"
        check_out_dir(folder, owned=TRACE_FILES)
        try:
            node_table, pod_table = generate_like_openb(nodes=nodes, pods=pods, seed=seed, load=load,
                                                        gpu_spec_share=gpu_spec_share)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        written = write_trace(node_table, pod_table, folder)
        click.echo(f"wrote {', '.join(written)} ({nodes} nodes, {pods} pods)")

    _guard(run)


@main.command()
@click.option("--copy", "copy_to", default=None, metavar="DIR",
              help="Copy the example files into DIR (created if missing; existing files are not replaced).")
def examples(copy_to: str | None) -> None:
    """Print the folder holding the packaged examples (or copy them), e.g.

    schedkit explain --cluster "$(schedkit examples)/cluster.yaml" --pod "$(schedkit examples)/pod.yaml"
    """
    from .packaged import examples as examples_folder

    def run() -> None:
        folder = examples_folder()
        if copy_to is None:
            click.echo(str(folder))
            return
        # The YAML files, those of examples/fgd (the FGD study's sweeps and configurations) included.
        names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.yaml"))
        clashes = [n for n in names if os.path.exists(os.path.join(copy_to, n))]
        if clashes:
            raise InputError(f"already holds {', '.join(clashes)}; give a new or empty folder for --copy", copy_to)
        try:
            for name in names:
                os.makedirs(os.path.dirname(os.path.join(copy_to, name)), exist_ok=True)
                shutil.copyfile(folder / name, os.path.join(copy_to, name))
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror or exc}", copy_to) from None
        top = [n for n in names if os.sep not in n]
        click.echo(f"copied {', '.join(top)} and {len(names) - len(top)} files under fgd/ to {copy_to}")

    _guard(run)


@main.group()
def cache() -> None:
    """Show or empty the compile cache (generated loops and numba's cache of them and the kernels)."""


@cache.command("info")
def cache_info() -> None:
    """Print the cache's folders, file counts and sizes."""
    from .compile_cache import cache_folders, info_text

    click.echo(info_text(cache_folders()), nl=False)


@cache.command("clear")
def cache_clear() -> None:
    """Remove the cached compiled code (the next run compiles again); nothing else is touched."""
    from .compile_cache import cache_folders, clear

    def run() -> None:
        cleared = clear(cache_folders())
        click.echo(f"removed {cleared.files} files ({cleared.size / 1e6:.1f} MB)")
        if cleared.failed:
            raise InputError(f"could not remove {len(cleared.failed)} files, e.g. {cleared.failed[0]}")

    _guard(run)


if __name__ == "__main__":
    main()
