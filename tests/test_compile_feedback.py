"""Compile feedback: the one-line notice while numba really compiles (never while it loads from its
cache), in replay, explain and schedule; and `schedkit cache info|clear`."""

from __future__ import annotations

import importlib.util
import io
import os
import time

import pytest
from click.testing import CliRunner

from schedkit import compile_notice
from schedkit.cli import main
from schedkit.compile_cache import _numba_subfolder, package_folders
from schedkit.compile_notice import CompileNotice
from schedkit.replay.run import Progress

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")

KERNEL = """\
from numba import njit


@njit(cache=True)
def add_one(x):
    return x + 1
"""


def fresh_function(folder, name: str):
    """``add_one`` from ``folder/cached.py`` as a new dispatcher (module ``name``): the first one made for
    a folder compiles, the next ones load what the first cached in ``folder/__pycache__``."""
    path = os.path.join(folder, "cached.py")
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write(KERNEL)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.add_one


def test_a_real_compile_is_announced_once_and_a_cache_load_never(tmp_path):
    stream = io.StringIO()
    compiled = fresh_function(tmp_path, "compile_feedback_first")
    with CompileNotice(stream, "compiling\n", after=0.0):
        assert compiled(1) == 2
        assert compiled(1.5) == 2.5  # a second signature: a second compile, still one line
        time.sleep(0.1)
    assert stream.getvalue() == "compiling\n"
    assert sum(compiled.stats.cache_misses.values()) == 2

    stream = io.StringIO()
    loaded = fresh_function(tmp_path, "compile_feedback_second")
    with CompileNotice(stream, "compiling\n", after=0.0):
        assert loaded(1) == 2
        time.sleep(0.1)
    assert sum(loaded.stats.cache_hits.values()) == 1  # it was loaded, not compiled
    assert stream.getvalue() == ""


def test_replay_says_nothing_when_a_slow_build_only_loads_from_the_cache(tmp_path):
    fresh_function(tmp_path, "compile_feedback_warm")(1)  # compile and cache
    stream = io.StringIO()
    progress = Progress(stream, True, delay=0.05)
    progress.compiling("default-scheduler")
    fresh_function(tmp_path, "compile_feedback_load")(1)
    time.sleep(0.3)  # loading took longer than the delay (a busy machine): still no compile
    progress.compiling(None)
    progress.close()
    assert stream.getvalue() == ""


def test_replay_announces_a_compile_and_so_does_quiet_when_it_is_long(tmp_path):
    stream = io.StringIO()
    progress = Progress(stream, True, delay=0.0)
    progress.compiling("default-scheduler")
    (tmp_path / "a").mkdir()
    fresh_function(tmp_path / "a", "compile_feedback_a")(1)
    time.sleep(0.1)
    progress.compiling(None)
    assert stream.getvalue() == (
        "compiling the replay loop for profile default-scheduler (first time only: about half a minute; "
        "then cached, see `schedkit cache info`)\n")

    quiet = io.StringIO()
    progress = Progress(quiet, False, quiet_delay=0.0)  # --quiet, a compile over the quiet threshold
    progress.compiling("default-scheduler")
    (tmp_path / "b").mkdir()
    fresh_function(tmp_path / "b", "compile_feedback_b")(1)
    time.sleep(0.1)
    progress.compiling(None)
    assert quiet.getvalue().startswith("compiling the replay loop for profile default-scheduler")

    short = io.StringIO()
    progress = Progress(short, False)  # --quiet: a compile of well under 5 s is not worth a line
    progress.compiling("default-scheduler")
    (tmp_path / "c").mkdir()
    fresh_function(tmp_path / "c", "compile_feedback_c")(1)
    progress.compiling(None)
    time.sleep(0.1)
    assert short.getvalue() == ""


# -- explain and schedule --------------------------------------------------------------------------------


CLUSTER = os.path.join(EXAMPLES, "cluster.yaml")


@pytest.fixture
def compile_in_scheduler(monkeypatch, tmp_path):
    """Every Scheduler.schedule/explain call first compiles a new function, as a first run compiles the
    loop; and the notice speaks after no delay."""
    from schedkit.framework.scheduler import Scheduler

    monkeypatch.setattr(compile_notice, "NOTICE_AFTER", 0.0)
    calls = {"n": 0}

    def compiling(method):
        def wrapper(self, *args, **kwargs):
            calls["n"] += 1
            folder = tmp_path / f"compile{calls['n']}"
            folder.mkdir()
            fresh_function(folder, f"compile_feedback_cli{calls['n']}")(1)
            time.sleep(0.1)
            return method(self, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(Scheduler, "schedule", compiling(Scheduler.schedule))
    monkeypatch.setattr(Scheduler, "explain", compiling(Scheduler.explain))


def example_args():
    return (["schedule", "--cluster", CLUSTER, "-o", "json"],
            ["explain", "--cluster", CLUSTER, "--pod", os.path.join(EXAMPLES, "pod.yaml"), "-o", "json"])


def test_explain_and_schedule_announce_a_compile_on_stderr(compile_in_scheduler):
    for args in example_args():
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert result.stderr == (
            "compiling the scheduling loop for profile default-scheduler (first time only: about half a minute; "
            "then cached, see `schedkit cache info`)\n")
        assert result.stdout.startswith("{")  # the output itself is untouched


def test_explain_and_schedule_say_nothing_when_the_loop_is_cached(monkeypatch):
    monkeypatch.setattr(compile_notice, "NOTICE_AFTER", 0.0)
    for args in example_args():
        CliRunner().invoke(main, args)  # compiles the first time this checkout runs it
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""


# -- schedkit cache info|clear ---------------------------------------------------------------------------


def make_cache(root):
    """A compile cache as schedkit and numba lay it out, with other people's files beside it."""
    loops = root / "schedkit" / "loops"
    (loops / "__pycache__").mkdir(parents=True)
    ours = [
        loops / "schedkit_loop_0123abcd.py",
        loops / "tmpk2j3h4.tmp",
        loops / "__pycache__" / "schedkit_loop_0123abcd.cpython-311.pyc",
        loops / "__pycache__" / "schedkit_loop_0123abcd.schedule_loop-41.py311.nbi",
        loops / "__pycache__" / "schedkit_loop_0123abcd.schedule_loop-41.py311.1.nbc",
    ]
    framework = next(f for f in package_folders() if f.endswith(os.path.join("schedkit", "framework")))
    kernels = root / "numba" / _numba_subfolder(framework)
    kernels.mkdir(parents=True)
    ours += [kernels / "runtime.hist_add-96.py311.nbi", kernels / "runtime.hist_add-96.py311.1.nbc"]
    theirs = [loops / "notes.txt", kernels / "elsewhere.f-3.py311.nbi",
              root / "numba" / "project_0000" / "runtime.f-1.py311.nbi"]
    (root / "numba" / "project_0000").mkdir()
    for number, path in enumerate(ours + theirs):
        path.write_bytes(b"x" * (1000 * (number + 1)))
    return ours, theirs


@pytest.fixture
def cache_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SCHEDKIT_CACHE_DIR", str(tmp_path / "schedkit"))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    return tmp_path


def test_cache_info_lists_the_folders_files_and_size(cache_env):
    ours, _ = make_cache(cache_env)
    result = CliRunner().invoke(main, ["cache", "info"])
    assert result.exit_code == 0, result.output
    size = sum(p.stat().st_size for p in ours)
    assert result.stdout.splitlines()[0] == f"compile cache: {len(ours)} files, {size / 1e6:.1f} MB"
    lines = result.stdout.splitlines()
    loops = str(cache_env / "schedkit" / "loops")
    counts = {line.split()[0]: int(line.split()[1]) for line in lines[1:-1]}
    assert counts == {loops: 2, os.path.join(loops, "__pycache__"): 3, os.path.dirname(str(ours[-1])): 2}


def test_cache_clear_removes_only_cache_files(cache_env):
    ours, theirs = make_cache(cache_env)
    result = CliRunner().invoke(main, ["cache", "clear"])
    assert result.exit_code == 0, result.output
    size = sum(1000 * (n + 1) for n in range(len(ours)))
    assert result.stdout == f"removed {len(ours)} files ({size / 1e6:.1f} MB)\n"
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in theirs)
    assert CliRunner().invoke(main, ["cache", "info"]).stdout.startswith("compile cache: 0 files, 0.0 MB")


def test_cache_info_and_clear_with_no_cache_yet(cache_env):
    for args in (["cache", "info"], ["cache", "clear"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    assert "(missing: nothing compiled yet)" in CliRunner().invoke(main, ["cache", "info"]).stdout
    assert CliRunner().invoke(main, ["cache", "clear"]).stdout == "removed 0 files (0.0 MB)\n"
    assert not (cache_env / "schedkit").exists()  # neither creates the folders
