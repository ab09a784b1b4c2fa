"""The plugin API: what a plugin declares and the signatures of its kernels.

Follows the shape of upstream's framework interfaces (staging ``k8s.io/kube-scheduler/framework/
interface.go``): each extension point is a separate, optional kernel, and a plugin implements only
what it needs. Kernels are plain functions over columns; decorate them with ``@kernel`` (``numba.njit``
with reference counting off; ``@numba.njit`` works too, slower per call) and the whole scheduling loop
runs compiled. Plain-Python kernels work too (the loop then runs as Python: slower, same semantics).

Kernel signatures (``nodes``: ``schedkit.state.NodeColumns``; ``pods``: ``PodColumns``; ``p``: the
pod's row; ``n``: a node's row; ``state``: the tuple the plugin's ``prepare`` returned, best a
namedtuple the kernels read by name, as the built-in plugins' are):

=============  ===================================================  ==========================================
kernel         signature                                            returns
=============  ===================================================  ==========================================
pre_filter     (nodes, pods, p, state, mask)                        SUCCESS, SKIP, NARROW (after writing 1/0
                                                                    per node into ``mask``: a PreFilterResult),
                                                                    or a positive code: pod fits no node
filter         (nodes, pods, p, n, state)                           SUCCESS or a positive failure code
post_filter    (nodes, pods, p, state)                              a node row to nominate, or -1
pre_score      (nodes, pods, p, feasible, count, state)             SUCCESS or SKIP
score          (nodes, pods, p, n, state)                           int64 score
normalize      (nodes, pods, p, feasible, scores, count, state)     None; rewrites ``scores[:count]``
reserve        (nodes, pods, p, n, state[, pod])                    None; update the plugin's own columns
unreserve      (nodes, pods, p, n, state[, pod])                    None; undo ``reserve``
permit         (nodes, pods, p, n, state[, pod])                    SUCCESS or a positive rejection code
=============  ===================================================  ==========================================

``feasible`` holds the rows of the nodes that passed Filter, ``count`` how many. ``pod`` (optional: declare
it to receive it) is the pod itself rather than its spec's row ``p``: its row in the batch, or in the
trace in a replay, where pods with the same spec share a ``p``; Reserve, Unreserve (also at the pod's
departure) and Permit of one pod get the same ``pod``, so a plugin may keep per-pod facts (which device
a pod got) in arrays of ``ClusterState.pod_ids`` rows and read them back. Failure codes are the
plugin's own small integers; ``Plugin.reasons(code)`` turns one into upstream's reason strings and
``Plugin.status(code)`` into its status code. Queue sort and bind are per batch, in Python:
``queue_order`` and ``bind``.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import inspect
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar

import numpy as np
from numba.core import config as numba_config
from numba.core import types as numba_types
from numba.core.caching import FunctionCache
from numba.core.registry import CPUDispatcher

SUCCESS = 0
SKIP = -1
NARROW = -2

# The cluster events a replay simulates, by the names plugins use in ``requeue_events``: a pod on a node
# went away (deleted), a pod was bound to a node, a node was added.
CLUSTER_EVENTS = ("pod_delete", "pod_add", "node_add")


class Code(enum.IntEnum):
    """Status codes in upstream's order (staging kube-scheduler/framework/interface.go)."""

    Success = 0
    Error = 1
    Unschedulable = 2
    UnschedulableAndUnresolvable = 3
    Wait = 4
    Skip = 5
    Pending = 6


KERNEL_SIGNATURES: dict[str, tuple[str, ...]] = {
    "pre_filter": ("nodes", "pods", "p", "state", "mask"),
    "filter": ("nodes", "pods", "p", "n", "state"),
    "post_filter": ("nodes", "pods", "p", "state"),
    "pre_score": ("nodes", "pods", "p", "feasible", "count", "state"),
    "score": ("nodes", "pods", "p", "n", "state"),
    "normalize": ("nodes", "pods", "p", "feasible", "scores", "count", "state"),
    "reserve": ("nodes", "pods", "p", "n", "state"),
    "unreserve": ("nodes", "pods", "p", "n", "state"),
    "permit": ("nodes", "pods", "p", "n", "state"),
}

# Kernels that may declare a last ``pod`` argument (see the module docstring).
POD_ARGUMENT_KERNELS = ("reserve", "unreserve", "permit")


@functools.lru_cache(maxsize=None)
def takes_pod(kernel: Callable) -> bool:
    """Whether a Reserve/Unreserve/Permit kernel declares the trailing ``pod`` argument (kept per kernel:
    replays ask at every binding and departure, and inspect.signature costs tens of microseconds)."""
    return len(inspect.signature(python_function(kernel)).parameters) == len(KERNEL_SIGNATURES["reserve"]) + 1


# Upstream's extension point names, for configuration and messages.
EXTENSION_POINTS = {
    "preEnqueue": "pre_enqueue",
    "queueSort": "queue_order",
    "preFilter": "pre_filter",
    "filter": "filter",
    "postFilter": "post_filter",
    "preScore": "pre_score",
    "score": "score",
    "reserve": "reserve",
    "permit": "permit",
    "bind": "bind",
}


@dataclass(frozen=True)
class Kernels:
    """The kernels a plugin implements; None where it does not implement that extension point."""

    pre_filter: Callable | None = None
    filter: Callable | None = None
    post_filter: Callable | None = None
    pre_score: Callable | None = None
    score: Callable | None = None
    normalize: Callable | None = None
    reserve: Callable | None = None
    unreserve: Callable | None = None
    permit: Callable | None = None

    def items(self) -> list[tuple[str, Callable]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]


class KernelDispatcher(CPUDispatcher):
    """A numba dispatcher for code called from compiled code: kernels, the helpers they call, the
    replay's queue helpers.

    Two differences from ``numba.njit``'s, both for compile time (a cold start compiles some hundred of
    these): no CPython wrapper is built with each compile (unboxing ``nodes``, ``pods`` and a plugin's
    state tuple from Python objects was half of every kernel's compile time), and argument types are
    widened from literals (``fc`` typed ``Literal[int](0)`` on one path compiled a kernel twice; a
    helper called with constant arguments once per distinct constant). Called from Python, it runs as
    Python (it has no wrapper to be called through): the plain-Python loop, explain's loop on small
    clusters and tests call kernels that way."""

    def get_call_template(self, args, kws):
        args = tuple(numba_types.unliteral(a) for a in args)
        kws = {key: numba_types.unliteral(value) for key, value in kws.items()}
        return super().get_call_template(args, kws)

    def __call__(self, *args, **kwargs):
        # From Python (the plain-Python loop, explain's, tests): the function runs as Python, like the
        # kernels that call it there. Compiled code calls the compiled version directly.
        return self.py_func(*args, **kwargs)


class _CacheWithSources(FunctionCache):
    """numba's on-disk cache of a function, also invalidated when any of ``sources`` changes: numba
    only looks at the function's own file, and a function that calls functions or reads constants of
    other modules would otherwise keep a stale compile after those change."""

    def __init__(self, py_func, sources: tuple[str, ...]):
        super().__init__(py_func)
        self._sources = sources

    def _index_key(self, sig, codegen):
        return super()._index_key(sig, codegen) + (_sources_digest(self._sources),)


_DIGESTS: dict[tuple[str, ...], str] = {}


def _sources_digest(paths: tuple[str, ...]) -> str:
    if paths not in _DIGESTS:
        digest = hashlib.sha256()
        for path in paths:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        _DIGESTS[paths] = digest.hexdigest()
    return _DIGESTS[paths]


def cache_with_sources(dispatcher, sources: tuple[str, ...]):
    """Give a numba dispatcher an on-disk cache that also depends on the files ``sources``."""
    if not numba_config.DISABLE_JIT:
        dispatcher._cache = _CacheWithSources(dispatcher.py_func, tuple(sources))
    return dispatcher


def compiled_for_loops(function: Callable, sources: tuple[str, ...] = (), **options: Any) -> Callable:
    """``function`` as a ``KernelDispatcher`` with numba ``options`` (``cache`` among them; a cached
    compile also depends on the files ``sources``); the function itself under ``NUMBA_DISABLE_JIT``, as
    ``numba.njit`` does."""
    if numba_config.DISABLE_JIT:
        return function
    cache = options.pop("cache", False)
    dispatcher = KernelDispatcher(py_func=function, locals={}, targetoptions={
        "nopython": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True, **options})
    if cache:
        dispatcher.enable_caching()
        if sources:
            cache_with_sources(dispatcher, sources)
    return dispatcher


def kernel(function: Callable | None = None, **options: Any) -> Callable:
    """Compile a kernel (or a helper it calls): like ``numba.njit(cache=True, nogil=True)`` with numba's
    reference counting off, built for calls from compiled code (``KernelDispatcher``).

    Kernels only read and write arrays they are given; they never create one (scratch space comes from
    ``prepare``). Without reference counting, a call costs a few nanoseconds instead of a few hundred:
    numba would otherwise count references to every array in ``nodes``, ``pods`` and ``state`` on each
    call. Use ``@kernel`` rather than ``@njit`` for anything called per node.
    """
    options = {"cache": True, "nogil": True, "_nrt": False, **options}
    if function is None:
        return lambda f: compiled_for_loops(f, **options)
    return compiled_for_loops(function, **options)


def is_compiled(kernel: Callable) -> bool:
    """A numba dispatcher (``@njit``), as opposed to a plain Python function."""
    return hasattr(kernel, "py_func") and hasattr(kernel, "signatures")


def python_function(kernel: Callable) -> Callable:
    return kernel.py_func if is_compiled(kernel) else kernel


class Plugin:
    """Base class of every plugin, built-in or not.

    Subclasses set ``name`` and ``kernels`` and, where needed, override ``prepare`` (the per-cluster,
    per-batch state tuple the kernels receive), ``reasons``/``status`` (decode a failure code),
    ``queue_order`` (QueueSort) and ``bind`` (Bind). ``__init__`` receives the plugin's args from the
    configuration's ``pluginConfig`` (a dict, possibly empty) and must raise ``ValueError`` for bad args.
    """

    name: ClassVar[str] = ""
    kernels: ClassVar[Kernels] = Kernels()
    # Reason strings by failure code, for plugins whose codes map to one fixed reason each.
    reason_table: ClassVar[dict[int, str]] = {}
    # Status of every failure code unless ``status`` is overridden.
    failure_status: ClassVar[Code] = Code.Unschedulable
    # True promises that Filter and Score for (pod, node) depend only on the pod's ``signature`` and on
    # node n's own columns and this plugin's state for node n, and that Reserve changes only node n's
    # state. The loop then reuses answers across consecutive pods with equal signatures, recomputing
    # only nodes that changed (upstream's pod signatures, OpportunisticBatching, serve the same end).
    node_local: ClassVar[bool] = False
    # Upstream's error when Filter runs in a cycle where this plugin's PreFilter did not (enabled at filter,
    # not at preFilter) and its Filter reads what PreFilter writes; None: Filter does without it.
    missing_pre_filter_state: ClassVar[str | None] = None
    # The same for Score without PreScore. None: Score computes that state itself, and where PreScore
    # would have returned Skip every node scores 0.
    missing_pre_score_state: ClassVar[str | None] = None
    # True: reserve/unreserve keep what upstream's scheduler cache keeps per node on assume/forget (ports,
    # pods), not a Reserve extension point: they run whenever the plugin is in the profile, and a
    # configuration cannot name the plugin at reserve.
    reserve_keeps_cache: ClassVar[bool] = False
    # The cluster events (names from CLUSTER_EVENTS) after which a pod this plugin rejected may fit: a
    # replay moves such a pod out of the unschedulable pods only on one of them, or when it has waited
    # there too long (upstream's EventsToRegister with their QueueingHints; see
    # tests/upstream_tables/NOTES-queue.md §6). None: every event, as upstream assumes for a plugin
    # without EnqueueExtensions.
    requeue_events: ClassVar[tuple[str, ...] | None] = None
    # Fields of the state namedtuple Unreserve need not restore: where Reserve keeps a record of what it
    # chose for each pod (for ``placement_columns`` to report after the pod has left, when Unreserve at
    # its departure would otherwise erase it), caches Reserve and Unreserve only invalidate, random
    # streams Reserve draws from. check_plugin's Unreserve-undoes-Reserve check skips them.
    unreserve_keeps: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: dict[str, Any] | None = None) -> None:
        if args:
            raise ValueError(f"plugin {self.name} takes no arguments, got {sorted(args)}")

    # -- per batch -------------------------------------------------------------------------------
    def prepare(self, cluster: Any, pods: list[Any], pod_columns: Any) -> tuple:
        """The state tuple passed to every kernel: numpy arrays (node-side, pod-side and scratch), best
        as a module-level namedtuple whose fields the kernels read by name (docs/plugins.md).

        ``cluster`` is a ``ClusterState`` (its running pods included), ``pods`` the batch's Pod
        objects in row order. Called once per batch, never per pod.
        """
        return (np.zeros(0, dtype=np.int64),)

    def signature(self, pod: Any) -> Any:
        """A hashable summary of everything this plugin reads from the pod, or None (never cache)."""
        return None

    def placement_columns(self, state: Any) -> dict[str, Any]:
        """Per-pod facts to report after a replay, as ``{column: values}`` with one value per pod id
        (``ClusterState.pod_ids``, Reserve's ``pod``), read from the ``state`` ``prepare`` returned:
        e.g. the devices Reserve gave each pod. They become columns of ``placements.parquet``."""
        return {}

    # -- decoding --------------------------------------------------------------------------------
    def reasons(self, code: int) -> list[str]:
        """Upstream's reason strings for a failure code returned by pre_filter/filter/permit."""
        return [self.reason_table[code]]

    def status(self, code: int) -> Code:
        return self.failure_status

    # -- Python-level extension points --------------------------------------------------------------
    pre_enqueue: ClassVar[Callable | None] = None  # (pod) -> message or None: None lets the pod into the queue
    queue_order: ClassVar[Callable | None] = None  # (pods: list[Pod]) -> list[int], for QueueSort plugins
    bind: ClassVar[Callable | None] = None  # (pod, node_name) -> None, for Bind plugins

    # -- what it implements ------------------------------------------------------------------------
    @classmethod
    def extension_points(cls) -> list[str]:
        points = []
        kernels = {name for name, _ in cls.kernels.items()}
        for point, attr in EXTENSION_POINTS.items():
            if point == "reserve" and cls.reserve_keeps_cache:
                continue
            if attr in kernels or (attr in ("pre_enqueue", "queue_order", "bind")
                                   and getattr(cls, attr, None) is not None) or (
                    point == "postFilter" and getattr(cls, "python_post_filter", False)):
                points.append(point)
        return points


def kernel_error(plugin: str, kernel: str, detail: str, pod: str, node: str | None = None) -> Exception:
    """The one-line error for a kernel that misbehaved on (pod, node): raised, returned a code its plugin
    cannot decode, or a score that is not an integer. The loop and ``schedkit.testing`` both use it."""
    from ..errors import PluginError

    where = f"pod {pod}" + (f", node {node}" if node is not None else "")
    return PluginError(f'plugin "{plugin}": kernel {kernel} {detail} ({where})')


def integer_result(value: Any) -> bool:
    """A Score kernel's result is an integer (bool and floats are not: an int64 array truncates 99.5)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def validate_plugin_class(cls: Any) -> None:
    """Checks made at registration, so a broken plugin fails early with its name and the problem."""
    from ..errors import PluginError

    label = getattr(cls, "__qualname__", repr(cls))
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise PluginError(f"plugin {label}: must be a subclass of schedkit.Plugin")
    if not isinstance(cls.name, str) or not cls.name:
        raise PluginError(f"plugin {label}: must set a non-empty `name`")
    if not isinstance(cls.kernels, Kernels):
        raise PluginError(f"plugin {cls.name}: `kernels` must be a schedkit.Kernels(...)")
    for point, kernel in cls.kernels.items():
        if not callable(kernel):
            raise PluginError(f"plugin {cls.name}: kernel {point} is not callable")
        expected = KERNEL_SIGNATURES[point]
        try:
            params = tuple(inspect.signature(python_function(kernel)).parameters)
        except (TypeError, ValueError):
            raise PluginError(f"plugin {cls.name}: cannot read the signature of kernel {point}") from None
        optional_pod = point in POD_ARGUMENT_KERNELS and len(params) == len(expected) + 1
        if len(params) != len(expected) and not optional_pod:
            raise PluginError(
                f"plugin {cls.name}: kernel {point}{tuple(params)} must take {len(expected)} arguments "
                f"({', '.join(expected)})".replace("'", "")
            )
    if cls.kernels.normalize is not None and cls.kernels.score is None:
        raise PluginError(f"plugin {cls.name}: has normalize but no score kernel")
    if (cls.kernels.reserve is None) != (cls.kernels.unreserve is None):
        raise PluginError(f"plugin {cls.name}: reserve and unreserve must be implemented together")
    if not cls.extension_points():
        raise PluginError(f"plugin {cls.name}: implements no extension point")
    problem = requeue_events_problem(cls.requeue_events)
    if problem:
        raise PluginError(f"plugin {cls.name}: {problem}")


def requeue_events_problem(events: Any) -> str | None:
    """What is wrong with a plugin's ``requeue_events``, or None."""
    if events is None:
        return None
    # A tuple, not any iterable: ("node_add") without its comma is a string, and would read as letters.
    if not isinstance(events, tuple) or not all(isinstance(event, str) for event in events):
        return f"`requeue_events` must be None or a tuple of event names, got {events!r}"
    unknown = [event for event in events if event not in CLUSTER_EVENTS]
    if unknown:
        return (f"`requeue_events` names unknown event(s) {', '.join(map(repr, unknown))}; "
                f"the events a replay knows are {', '.join(CLUSTER_EVENTS)}")
    return None


def requeued_on(plugin: Plugin) -> tuple[str, ...]:
    """The events that requeue a pod ``plugin`` rejected: its ``requeue_events``, every event for None."""
    return CLUSTER_EVENTS if plugin.requeue_events is None else plugin.requeue_events
