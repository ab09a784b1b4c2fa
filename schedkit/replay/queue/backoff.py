"""The backoff queue's timing (upstream backend/queue/backoff_queue.go calculateBackoffDuration)."""

from __future__ import annotations

from .compiled import helper
from .records import F_BACKOFF_INITIAL, F_BACKOFF_MAX


@helper
def backoff_duration(times, attempts):
    """Upstream's calculateBackoffDuration: the initial backoff doubled per attempt after the first,
    capped at the maximum."""
    duration = times[F_BACKOFF_INITIAL]
    for _ in range(1, attempts):
        if duration > times[F_BACKOFF_MAX] - duration:
            return times[F_BACKOFF_MAX]
        duration += duration
    return min(duration, times[F_BACKOFF_MAX])
