"""How the queue's functions are compiled: like plugin kernels, for calls from the compiled driver."""

from __future__ import annotations

import glob
import os

from numba import njit

from ...framework.plugin import cache_with_sources, compiled_for_loops

# Every module of the package: a cached compile of any queue function is invalid once one changes (the
# functions call each other across modules and read the constants of records.py).
PACKAGE_SOURCES = tuple(sorted(glob.glob(os.path.join(os.path.dirname(__file__), "*.py"))))


def helper(function):
    """A queue function compiled without numba's reference counting: the helpers never create an
    array, and counting references to every array of ``tables`` on each call made replays of a backlog
    twice as slow."""
    return compiled_for_loops(function, PACKAGE_SOURCES, cache=True, nogil=True, _nrt=False)


def small_helper(function):
    """A few lines used in several places: inlined by numba where it is called instead of compiled as a
    function of its own."""
    return compiled_for_loops(function, PACKAGE_SOURCES, cache=True, nogil=True, _nrt=False, inline="always")


def called_from_python(function):
    """A queue function Python calls (once per replay): compiled with numba's CPython wrapper."""
    return cache_with_sources(njit(nogil=True, _nrt=False)(function), PACKAGE_SOURCES)
