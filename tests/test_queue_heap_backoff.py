"""replay.queue.heap and replay.queue.backoff, alone: heap order against sorting, upstream's backoff
durations (backend/queue/backoff_queue.go calculateBackoffDuration)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from schedkit.replay.queue.backoff import backoff_duration
from schedkit.replay.queue.heap import heap_pop, heap_push
from schedkit.replay.queue.records import F_BACKOFF_INITIAL, F_BACKOFF_MAX, new_counters

SIZE = 0  # the counter slot holding the heap's size in these tests


@given(st.lists(st.tuples(st.integers(-3, 3), st.sampled_from([0.0, 0.5, 1.0, 2.0])), min_size=1, max_size=40),
       st.randoms())
def test_heap_pops_by_first_key_then_second_then_tie(keys, rnd):
    n = len(keys)
    k1 = np.array([float(a) for a, _ in keys])
    k2 = np.array([b for _, b in keys])
    tie = np.array(rnd.sample(range(100), n), dtype=np.int64)
    heap = np.zeros(n, dtype=np.int64)
    counts, _ = new_counters()
    counts[SIZE] = 0
    order = list(range(n))
    rnd.shuffle(order)
    for item in order:
        heap_push(heap, counts, SIZE, k1, k2, tie, item)
    assert counts[SIZE] == n
    popped = [heap_pop(heap, counts, SIZE, k1, k2, tie) for _ in range(n)]
    assert popped == sorted(range(n), key=lambda i: (k1[i], k2[i], tie[i]))
    assert counts[SIZE] == 0


def test_backoff_doubles_from_the_initial_and_stops_at_the_maximum():
    _, times = new_counters()
    times[F_BACKOFF_INITIAL], times[F_BACKOFF_MAX] = 1.0, 10.0  # podInitialBackoffSeconds, podMaxBackoffSeconds
    assert [backoff_duration(times, attempts) for attempts in range(1, 8)] == [1, 2, 4, 8, 10, 10, 10]
    assert backoff_duration(times, 10_000) == 10.0  # no overflow on a long backlog
    times[F_BACKOFF_INITIAL], times[F_BACKOFF_MAX] = 3.0, 20.0
    assert [backoff_duration(times, attempts) for attempts in range(1, 5)] == [3, 6, 12, 20]
