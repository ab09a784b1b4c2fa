"""The generated loops are optimized at -O1 (schedkit.framework.loop_opt): only libraries named after a
generated loop, never a kernel, and never above a lower NUMBA_OPT the user chose."""

from __future__ import annotations

import pytest
from numba.core import codegen, config

from schedkit.framework import loop_opt


class _Library:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[int] = []

    def _optimize_functions(self, module):
        self.seen.append(int(config.OPT))
        return module


_Library._optimize_functions = loop_opt._at_loop_level(_Library._optimize_functions)


@pytest.mark.parametrize("name, user_level, expected", [
    ("schedule_loop", 3, 1),
    ("replay_loop", 3, 1),
    ("_filter", 3, 3),  # a kernel keeps numba's level
    ("schedule_loop", 0, 0),  # NUMBA_OPT=0 is kept
    ("schedule_loop", 2, 1),
])
def test_only_the_loops_are_optimized_at_o1(monkeypatch, name, user_level, expected):
    monkeypatch.setattr(config, "OPT", config._OptLevel(user_level))
    library = _Library(name)
    assert library._optimize_functions("module") == "module"
    assert library.seen == [expected]
    assert int(config.OPT) == user_level and isinstance(config.OPT, config._OptLevel)  # restored


def test_an_error_restores_the_level(monkeypatch):
    monkeypatch.setattr(config, "OPT", config._OptLevel(3))

    class Failing:
        name = "schedule_loop"

        def _optimize_final_module(self):
            raise RuntimeError("LLVM failed")

    Failing._optimize_final_module = loop_opt._at_loop_level(Failing._optimize_final_module)
    with pytest.raises(RuntimeError):
        Failing()._optimize_final_module()
    assert int(config.OPT) == 3


def test_installed_once_on_numba_code_library():
    import schedkit.framework.loop_build  # noqa: F401  (installs on import)

    assert loop_opt.install()
    for name in loop_opt._WRAPPED:
        method = getattr(codegen.CPUCodeLibrary, name)
        assert getattr(method, loop_opt._MARK)
        assert not getattr(method.__wrapped__, loop_opt._MARK, False)  # wrapped once, not twice
    assert loop_opt.loop_opt_level() == min(int(config.OPT), 1)


def test_a_compiled_loop_library_carries_the_loop_name(monkeypatch):
    """The wrapper recognizes a loop by its code library's name: a real compile must produce it."""
    from schedkit import Kernels, Plugin
    from schedkit.framework.config import parse_config
    from schedkit.framework.plugin import kernel
    from schedkit.framework.registry import Registry
    from schedkit.framework.scheduler import Scheduler
    from schedkit.testing import make_cluster, make_pod

    @kernel(cache=False)
    def _always(nodes, pods, p, n, state):
        return 0

    class LocalPlugin(Plugin):  # defined here: its loop is compiled afresh, never loaded from a cache
        name = "LocalPlugin"
        kernels = Kernels(filter=_always)

    names: list[str] = []
    wrapped = codegen.CPUCodeLibrary._optimize_final_module

    def recording(self):
        names.append(self.name)
        return wrapped(self)

    monkeypatch.setattr(codegen.CPUCodeLibrary, "_optimize_final_module", recording)
    config_doc = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
                  "profiles": [{"plugins": {"multiPoint": {"enabled": [
                      {"name": "PrioritySort"}, {"name": "DefaultBinder"}, {"name": "LocalPlugin"}],
                      "disabled": [{"name": "*"}]}}}]}
    cluster = make_cluster([{"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "1", "pods": "5"}}}])
    pod = make_pod({"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [{"name": "c"}]}})
    result = Scheduler(parse_config(config_doc), Registry.with_builtins(LocalPlugin)).schedule(cluster, [pod])
    assert result.compiled and result.assignments[0].node == "n1"
    assert any(name in loop_opt.LOOP_FUNCTIONS for name in names), names
