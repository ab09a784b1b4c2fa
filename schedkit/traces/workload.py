"""A recorded workload ready to replay: nodes, and pods as columns over a few distinct pod specs.

Traces repeat the same pod spec many times (one Deployment, one job size). Each distinct spec is
parsed into a ``Pod`` once (a "shape"); the per-pod columns say which shape a pod has, when it
arrives, how long it runs and when it is deleted. A million-pod trace costs a million rows of numbers,
not a million parsed manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Hashable

import numpy as np

from ..objects import Node, Pod


@dataclass
class Workload:
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

    @property
    def num_pods(self) -> int:
        return int(self.shape_of.shape[0])

    def take(self, rows: np.ndarray, arrival: np.ndarray | None = None, timed: bool = True) -> "Workload":
        """The pods at ``rows`` (in that order), optionally with new arrival times and without
        departures (``timed=False``)."""
        count = len(rows)
        return Workload(
            self.nodes, self.shapes, self.shape_of[rows], self.names[rows], self.namespaces[rows],
            self.arrival[rows] if arrival is None else arrival,
            self.duration[rows] if timed else np.full(count, np.nan),
            self.deadline[rows] if timed else np.full(count, np.nan),
            self.source, self.running, self.namespace_labels)


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
