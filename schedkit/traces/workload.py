"""A recorded trace ready to replay (``Trace``): nodes, and pods as columns over a few distinct pod specs.

Traces repeat the same pod spec many times (one Deployment, one job size). Each distinct spec is
parsed into a ``Pod`` once (a "shape"); the per-pod columns say which shape a pod has, when it
arrives, how long it runs and when it is deleted. A million-pod trace costs a million rows of numbers,
not a million parsed manifests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Hashable

import numpy as np

from ..objects import Node, Pod

# The latest time a trace may give (arrival, duration, end, creation/deletion time), in seconds: about
# 3,000 years, well past Unix-epoch seconds. The replay clock is float64 seconds; far beyond this it
# loses the millisecond resolution queue timers need (their 1-10 s backoffs stop advancing near 1e16 s),
# and such values are mostly milli- or nanoseconds given as seconds.
MAX_SECONDS = 1e11


def seconds_problem(value: float) -> str | None:
    """Why ``value`` cannot be a trace time in seconds, or None when it can."""
    if not math.isfinite(value):
        return f"must be a finite number of seconds, got {value}"
    if value < 0:
        return f"must be at least 0 seconds, got {value:g}"
    if value > MAX_SECONDS:
        return (f"{value:g} s is beyond the {MAX_SECONDS:g} s (about 3,000 years) a trace clock may reach; "
                "are these milliseconds or nanoseconds?")
    return None


@dataclass
class Trace:
    """What ``load_trace`` returns and ``replay`` runs: the cluster's nodes (and pods already bound), and
    every pod's shape, arrival, runtime and deletion time. (Not a scheduler_perf benchmark workload:
    that is ``schedkit.workloads.BenchWorkload``.)"""

    nodes: list[Node]
    shapes: list[Pod]  # one parsed Pod per distinct spec (its name is the first such pod's)
    shape_of: np.ndarray  # int64 [pods]: index into shapes
    names: np.ndarray  # object [pods]
    namespaces: np.ndarray  # object [pods]
    arrival: np.ndarray  # float64 [pods], seconds
    duration: np.ndarray  # float64 [pods]: runtime once scheduled; NaN runs to the end
    deadline: np.ndarray  # float64 [pods]: absolute deletion time; NaN none
    source: str = ""
    running: list[Pod] = field(default_factory=list)  # pods already bound when the replay starts
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # False when the trace records no times (openb's multigpu lists): arrivals are row numbers, which
    # only a fill replay (submit in order) may use
    has_times: bool = True
    # int64 [shapes]: pods per shape in the trace as recorded, before a fill inflated or thinned it (the
    # FGD paper's typical pods come from the recorded list); None: count shape_of
    base_counts: np.ndarray | None = None
    # bool [pods]: the pod's owner creates a replacement when preemption deletes it; None: none do
    recreate: np.ndarray | None = None
    disruption_budgets: list = field(default_factory=list)  # PodDisruptionBudgets (schedkit.disruption)
    # keys of the pods bound before the replay whose owner creates a replacement when preemption deletes them
    running_recreate: frozenset = frozenset()

    def recorded_counts(self) -> np.ndarray:
        if self.base_counts is not None:
            return self.base_counts
        return np.bincount(self.shape_of, minlength=len(self.shapes)).astype(np.int64)

    @property
    def num_pods(self) -> int:
        return int(self.shape_of.shape[0])

    def take(self, rows: np.ndarray, arrival: np.ndarray | None = None, timed: bool = True) -> "Trace":
        """The pods at ``rows`` (in that order), optionally with new arrival times and without
        departures (``timed=False``)."""
        count = len(rows)
        return Trace(
            self.nodes, self.shapes, self.shape_of[rows], self.names[rows], self.namespaces[rows],
            self.arrival[rows] if arrival is None else arrival,
            self.duration[rows] if timed else np.full(count, np.nan),
            self.deadline[rows] if timed else np.full(count, np.nan),
            self.source, self.running, self.namespace_labels, self.has_times, self.recorded_counts(),
            None if self.recreate is None else self.recreate[rows], self.disruption_budgets, self.running_recreate)


class ShapeTable:
    """Interns pod specs: ``add(key, make)`` returns the shape index for ``key``, calling ``make()`` to
    parse the Pod only the first time a key is seen."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}
        self.shapes: list[Pod] = []

    def add(self, key: Hashable, make: Callable[[], Pod]) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.shapes)
            self.shapes.append(make())
        return found
