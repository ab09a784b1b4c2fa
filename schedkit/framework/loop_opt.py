"""The generated loops are optimized by LLVM at -O1, not numba's -O3 (``NUMBA_OPT``).

A loop's LLVM module holds the loop and, linked in for inlining, every kernel and helper it calls, each
already optimized at -O3 when it was compiled on its own. -O1 still inlines the callees and cleans up the
loop, and costs less. Measured: the test suite (dozens of loops compiled, `.ci/run` on a clean clone)
took 244-266 s instead of 279-295 s; one cold ``schedkit replay`` of the bundled sample gained less than
its run-to-run noise (31-33 s either way, alternating runs); the scheduler_perf workloads ran within
-8%..+16% of -O3 (most faster), the 100,000-pod replay the same. Kernels and helpers keep numba's level.

numba has no per-function optimization level, so the two methods of its code library that build the
loop's pass managers are wrapped to lower ``numba.core.config.OPT`` while they run for a library named
after a generated loop. A numba without these methods (a future version) compiles the loops at its own
level, as before; a ``NUMBA_OPT`` below 1 is kept.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from numba.core import codegen, config

LOOP_OPT_LEVEL = 1
# The generated loops' function names (framework.loop, replay.driver): their code libraries carry them.
LOOP_FUNCTIONS = frozenset({"schedule_loop", "replay_loop"})
_WRAPPED = ("_optimize_functions", "_optimize_final_module")
_MARK = "_schedkit_loop_opt"


def _at_loop_level(method: Callable) -> Callable:
    @wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        saved = config.OPT
        if getattr(self, "name", None) not in LOOP_FUNCTIONS or int(saved) <= LOOP_OPT_LEVEL:
            return method(self, *args, **kwargs)
        try:
            config.OPT = type(saved)(LOOP_OPT_LEVEL)
        except (TypeError, ValueError):
            config.OPT = LOOP_OPT_LEVEL
        try:
            return method(self, *args, **kwargs)
        finally:
            config.OPT = saved

    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> bool:
    """Wrap numba's code library once; False when this numba lacks the methods (nothing is changed)."""
    library = getattr(codegen, "CPUCodeLibrary", None)
    methods = [getattr(library, name, None) for name in _WRAPPED]
    if library is None or any(method is None for method in methods):
        return False
    for name, method in zip(_WRAPPED, methods):
        if not getattr(method, _MARK, False):
            setattr(library, name, _at_loop_level(method))
    return True


def loop_opt_level() -> int:
    """The level the generated loops are optimized at in this process."""
    installed = all(getattr(getattr(codegen.CPUCodeLibrary, name, None), _MARK, False) for name in _WRAPPED)
    return min(int(config.OPT), LOOP_OPT_LEVEL) if installed else int(config.OPT)
