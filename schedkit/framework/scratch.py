"""Scratch space of the generated loops, allocated in Python and passed in as one named record.

The loops then create no array of their own and compile without numba's reference counting (every
exit path of a loop that allocates releases each live array, which made the loop's machine code, and
its compile, larger). A loop call gets fresh scratch: its per-node caches start empty, as they did
when the loop allocated them itself.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .loop import HISTOGRAM_WIDTH

LoopScratch = namedtuple("LoopScratch", [
    # per node (at least one row)
    "feasible",  # int64: rows of the nodes that passed Filter, in examination order
    "total",  # int64: weighted score sums, by position in ``feasible``
    "scores",  # int64: one plugin's scores, by position in ``feasible``
    "fresh",  # bool: the node's cached scores still hold, by position in ``feasible``
    "mask",  # uint8: a PreFilterResult being written
    "allowed",  # uint8: the intersection of the PreFilterResults so far
    "cand",  # int64: the nodes a PreFilterResult allows
    "node_stamp",  # int64: bumped at every change of the node
    "filter_epoch",  # int64: signature epoch of the node's cached Filter verdict (-1 none)
    "filter_stamp",  # int64: the node's stamp when it was cached
    "filter_code",  # int64: cached verdict: code
    "filter_plugin",  # int64: cached verdict: failing plugin
    "score_epoch",  # int64: as filter_epoch, for scores
    "score_stamp",  # int64
    "static_cache",  # int64: weighted sum of the node-local plugins without NormalizeScore
    "score_cache",  # int64 [score slots, nodes]: cached scores of node-local plugins
    # per failure kind of the pod being scheduled
    "hist_plugin",  # int64 [HISTOGRAM_WIDTH]
    "hist_code",  # int64
    "hist_count",  # int64
])


def new_scratch(num_nodes: int, score_slots: int) -> LoopScratch:
    rows = max(num_nodes, 1)

    def ints(fill: int = 0, shape=rows) -> np.ndarray:
        return np.full(shape, fill, dtype=np.int64)

    return LoopScratch(
        feasible=ints(), total=ints(), scores=ints(), fresh=np.zeros(rows, dtype=np.bool_),
        mask=np.zeros(rows, dtype=np.uint8), allowed=np.zeros(rows, dtype=np.uint8), cand=ints(),
        node_stamp=ints(), filter_epoch=ints(-1), filter_stamp=ints(), filter_code=ints(), filter_plugin=ints(),
        score_epoch=ints(-1), score_stamp=ints(), static_cache=ints(),
        score_cache=ints(0, (max(score_slots, 1), rows)),
        hist_plugin=ints(0, HISTOGRAM_WIDTH), hist_code=ints(0, HISTOGRAM_WIDTH), hist_count=ints(0, HISTOGRAM_WIDTH),
    )
