"""Shared NormalizeScore helpers (pkg/scheduler/framework/plugins/helper/normalize_score.go)."""

from __future__ import annotations

from .plugin import kernel

MAX_NODE_SCORE = 100


@kernel
def default_normalize_score(scores, count, reverse):
    """DefaultNormalizeScore(MaxNodeScore, reverse): scale so the highest becomes 100 (integer
    division); ``reverse`` flips to 100 - x. All zero: unchanged, or all 100 when reversed."""
    highest = 0
    for j in range(count):
        if scores[j] > highest:
            highest = scores[j]
    if highest == 0:
        if reverse:
            for j in range(count):
                scores[j] = MAX_NODE_SCORE
        return
    for j in range(count):
        score = MAX_NODE_SCORE * scores[j] // highest  # non-negative operands: // is Go's truncation
        if reverse:
            score = MAX_NODE_SCORE - score
        scores[j] = score
