"""Compile cost in its own group: building the default profile's loop in a fresh process, with empty
caches (cold) and with the caches this machine already has (cached)."""

from __future__ import annotations

import subprocess

import pytest

from bench.conftest import timing
from schedkit.benchmark import child_env, child_python

CODE = ("import time; t = time.perf_counter(); "
        "from schedkit.workloads import scheduling_basic; from schedkit import Scheduler; "
        "w = scheduling_basic(10, 0, 1); r = Scheduler().schedule(w.cluster, w.measured); "
        "assert r.scheduled == 1; print(r.compile_seconds)")


@pytest.mark.parametrize("cold", [False, True], ids=["cached", "cold"])
def test_compile(benchmark, cold, tmp_path, request):
    if cold and not timing(request.config):
        pytest.skip("a cold compile takes about 30 s; only when timing (--benchmark-enable)")
    # the same schedkit copy as this process (see child_python), with empty caches when cold
    env = child_env({"NUMBA_CACHE_DIR": str(tmp_path / "numba"),
                     "SCHEDKIT_CACHE_DIR": str(tmp_path / "schedkit")} if cold else {})
    benchmark.group = "compile"
    out = benchmark.pedantic(subprocess.run, args=(child_python(CODE),),
                             kwargs={"env": env, "capture_output": True, "text": True, "check": True},
                             rounds=1, iterations=1)
    assert float(out.stdout.strip()) >= 0
