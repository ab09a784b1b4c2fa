"""replay.queue.slots and replay.queue.lifecycle, alone: per-signature slots and their histograms, the
change log's generations; arrivals, the next event time, an attempt's outcome, departures, deletions."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.replay.queue.lifecycle import admit_arrivals, delete_pending, departed, next_time, pop_finished, record
from schedkit.replay.queue.records import (
    ACTIVE, C_FINISH, C_G_FREE, C_GROUPS_ON, C_LOG_GEN, C_LOG_LEN, C_PENDING, C_RUNNING, C_SLOTS, C_UNSCHED, DELETED,
    DONE, F_BACKOFF_INITIAL, F_BACKOFF_MAX, F_LEFTOVER, GROUPED, HELD, NOT_ARRIVED, RUNNING, UNSCHEDULABLE,
    new_counters, new_tables,
)
from schedkit.replay.queue.slots import copy_slot_histogram, log_change, slot_for, slot_hist_add

Columns = namedtuple("Columns", ["requests"])  # the part of PodColumns the queue reads


def _tables(pods: int, **sizes):
    tables = new_tables(pods, **sizes)
    counts, times = new_counters()
    counts[C_G_FREE] = tables.g_free.shape[0]
    times[F_BACKOFF_INITIAL], times[F_BACKOFF_MAX], times[F_LEFTOVER] = 1.0, 10.0, 300.0
    return tables, counts, times


def test_slots_are_given_on_first_use_until_none_is_left():
    tables, counts, _ = _tables(1, signatures=4, slots=2, nodes=3)
    assert [slot_for(tables, counts, s) for s in (2, 0, 2, 3)] == [0, 1, 0, -1]
    assert counts[C_SLOTS] == 2
    tables.sig_slot[1] = -2  # disabled: its histogram overflowed
    assert slot_for(tables, counts, 1) == -2


def test_a_slot_histogram_counts_kinds_and_says_when_it_is_full():
    tables, counts, _ = _tables(1, slots=1, hist_width=2)
    assert slot_hist_add(tables, 0, 1, 5, 1) and slot_hist_add(tables, 0, 1, 5, 2)
    assert slot_hist_add(tables, 0, 2, 1, 1)
    assert not slot_hist_add(tables, 0, 3, 1, 1)  # a third kind
    assert slot_hist_add(tables, 0, 1, 5, -3)  # back to zero: kept, but not copied out
    out = [np.zeros((1, 4), dtype=np.int64) for _ in range(3)]
    length = np.zeros(1, dtype=np.int64)
    copy_slot_histogram(tables, 0, 0, *out, length)
    assert length[0] == 1 and (out[0][0, 0], out[1][0, 0], out[2][0, 0]) == (2, 1, 1)


def test_a_full_change_log_starts_a_new_generation():
    tables, counts, _ = _tables(1, nodes=1)  # room for 4 * 1 + 1 + 16 = 21 changes
    for k in range(21):
        log_change(tables, counts, k % 3)
    assert counts[C_LOG_GEN] == 0 and counts[C_LOG_LEN] == 21
    log_change(tables, counts, 2)
    assert counts[C_LOG_GEN] == 1 and counts[C_LOG_LEN] == 1 and tables.change_log[0] == 2


def _trace(tables, arrivals, durations, deadlines=None):
    P = len(arrivals)
    tables.pods.arrival[:] = arrivals
    tables.pods.duration[:] = durations
    tables.pods.deadline[:] = deadlines if deadlines is not None else [np.nan] * P
    tables.arrival_order[:] = np.lexsort((np.arange(P), arrivals))
    tables.items.status[:P] = NOT_ARRIVED
    tables.items.spec[:P] = 0


def test_arrivals_enter_the_active_queue_in_time_order_held_pods_wait():
    tables, counts, times = _tables(3)
    _trace(tables, [5.0, 1.0, 1.0], [10.0] * 3, [np.nan, np.nan, 3.0])
    tables.items[2].status = HELD
    assert next_time(tables, counts, times) == 1.0
    admit_arrivals(tables, counts, 1.0)
    assert tables.items[1].status == ACTIVE and tables.items[2].status == HELD and tables.items[0].status == NOT_ARRIVED
    assert counts[C_PENDING] == 2 and counts[C_FINISH] == 1  # the held pod's deadline still counts
    assert next_time(tables, counts, times) == 3.0
    assert pop_finished(tables, counts, 2.0) == -1 and pop_finished(tables, counts, 3.0) == 2
    delete_pending(tables, counts, 2, 3.0)
    assert tables.items[2].status == DELETED and tables.pods[2].left == 3.0 and counts[C_PENDING] == 1


def test_a_bound_pod_runs_until_its_duration_then_leaves_with_its_requests():
    tables, counts, times = _tables(1, resources=2)
    _trace(tables, [0.0], [4.0])
    admit_arrivals(tables, counts, 0.0)
    pods = Columns(np.array([[500, 64]], dtype=np.int64))
    hist = [np.zeros((1, 4), dtype=np.int64) for _ in range(3)] + [np.zeros(1, dtype=np.int64)]
    assert record(tables, counts, times, pods, 0, 2.0, 0, False, 7, -1, 0, *hist)
    assert tables.items[0].status == RUNNING and tables.pods[0].node == 7 and tables.pods[0].scheduled == 2.0
    assert tables.alloc_total.tolist() == [500, 64] and counts[C_RUNNING] == 1 and counts[C_PENDING] == 0
    assert next_time(tables, counts, times) == 6.0 and pop_finished(tables, counts, 6.0) == 0
    departed(tables, counts, pods, 0, 6.0)
    assert tables.items[0].status == DONE and tables.alloc_total.tolist() == [0, 0] and counts[C_RUNNING] == 0


def test_a_failed_attempt_backs_off_and_pods_failing_together_at_the_cap_form_a_group():
    tables, counts, times = _tables(3)
    _trace(tables, [0.0] * 3, [np.nan] * 3)
    counts[C_GROUPS_ON] = 1
    admit_arrivals(tables, counts, 0.0)
    hist = [np.zeros((1, 4), dtype=np.int64) for _ in range(3)] + [np.ones(1, dtype=np.int64)]
    hist[0][0, 0], hist[1][0, 0], hist[2][0, 0] = 2, 1, 3  # plugin 2, code 1, on 3 nodes
    tables.pods[0].attempts = 1
    assert not record(tables, counts, times, Columns(None), 0, 5.0, 9, True, -1, -1, 0, *hist)
    assert tables.items[0].status == UNSCHEDULABLE and tables.items[0].backoff_until == 6.0
    assert tables.items[0].reject_mask == 1 << 2
    # At the backoff cap, failing on every node (fast): pods 1 and 2 share one group item.
    for pod in (1, 2):
        tables.pods[pod].attempts = 9
        record(tables, counts, times, Columns(None), pod, 5.0, 9, True, -1, -1, 0, *hist)
    assert tables.items[1].status == GROUPED and tables.pods[1].group_of == tables.pods[2].group_of
    assert counts[C_UNSCHED] == 2  # pod 0 and the group
