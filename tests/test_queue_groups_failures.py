"""replay.queue.groups and replay.queue.failures, alone (the replay tests check them end to end): member
lists kept in row order, attempts made as a group handed back to members, merging, batches failing up
to a barrier, releasing a group's first member; failure records and the masks they give."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from schedkit.replay.queue.failures import copy_failure, write_failure
from schedkit.replay.queue.groups import (
    _absorb, batch_add, finish_batch, join, leave_group, new_group, release_head,
)
from schedkit.replay.queue.records import (
    ACTIVE, C_ACTIVE, C_BATCH, C_FAIL_USED, C_G_FREE, C_GROUP_ATTEMPTS, F_BACKOFF_MAX, GROUPED, IN_BATCH,
    UNSCHEDULABLE, new_counters, new_tables,
)

WIDTH = 4


def _tables(pods: int):
    tables = new_tables(pods, fail_width=WIDTH)
    counts, times = new_counters()
    counts[C_G_FREE] = tables.g_free.shape[0]
    times[F_BACKOFF_MAX] = 10.0
    return tables, counts, times


def _members(tables, item) -> list[int]:
    gi = item - tables.pods.shape[0]
    out, x = [], tables.groups[gi].head
    while x >= 0:
        out.append(int(x))
        x = tables.pods[x].g_next
    assert len(out) == tables.groups[gi].members
    back, x = [], tables.groups[gi].tail
    while x >= 0:
        back.append(int(x))
        x = tables.pods[x].g_prev
    assert back == out[::-1], "the list's back links disagree with its forward links"
    return out


def _histogram(rows: int, entries: list[tuple[int, int, int]]):
    plugin, code, count = (np.zeros((rows, 8), dtype=np.int64) for _ in range(3))
    for k, (p, c, n) in enumerate(entries):
        plugin[0, k], code[0, k], count[0, k] = p, c, n
    return plugin, code, count, np.array([len(entries)] * rows, dtype=np.int64)


@given(st.permutations(range(8)))
def test_members_join_in_row_order_whatever_the_order_they_fail_in(rows):
    tables, counts, _ = _tables(8)
    item = new_group(tables, counts, 0, rows[0])
    for pod in rows:
        join(tables, item, pod)
        assert tables.items[pod].status == GROUPED and tables.pods[pod].group_of == item
    assert _members(tables, item) == sorted(rows)


def test_leaving_a_group_hands_its_attempts_and_record_to_the_member():
    tables, counts, _ = _tables(4)
    item = new_group(tables, counts, 0, 0)
    tables.pods[1].attempts = 5
    join(tables, item, 1)
    tables.groups[item - 4].offset += 3  # three attempts made as a group
    tables.items[item].backoff_until = 42.0
    tables.items[item].reject_mask = 0b10
    leave_group(tables, 1)
    assert tables.pods[1].attempts == 8 and tables.pods[1].group_of == -1
    assert tables.items[1].backoff_until == 42.0 and tables.items[1].reject_mask == 0b10
    assert _members(tables, item) == []


def test_absorbing_merges_two_groups_in_row_order_and_frees_one():
    tables, counts, _ = _tables(8)
    a, b = new_group(tables, counts, 0, 0), new_group(tables, counts, 0, 0)
    for pod in (1, 4, 6):
        join(tables, a, pod)
    for pod in (0, 5, 7):
        join(tables, b, pod)
    tables.groups[b - 8].offset = 2  # b's members made two more attempts together than a's
    free_before = counts[C_G_FREE]
    _absorb(tables, counts, a, b)
    assert _members(tables, a) == [0, 1, 4, 5, 6, 7]
    assert counts[C_G_FREE] == free_before + 1
    leave_group(tables, 5)
    assert tables.pods[5].attempts == 2  # b's two attempts kept through the merge


def test_no_group_is_made_when_none_is_free():
    tables, counts, _ = _tables(2)
    counts[C_G_FREE] = 0
    assert new_group(tables, counts, 0, 0) == -1


def test_a_batch_fails_the_members_queued_before_the_barrier_and_requeues_the_rest():
    tables, counts, times = _tables(6)
    item = new_group(tables, counts, 0, 0)
    for pod in range(6):
        tables.items[pod].timestamp = 1.0
        tables.items[pod].spec = 0
    tables.items[item].timestamp = 1.0
    for pod in (0, 2, 4, 5):
        join(tables, item, pod)
    tables.groups[item - 6].origin = ACTIVE
    batch_add(tables, counts, item)
    assert tables.items[item].status == IN_BATCH and counts[C_BATCH] == 1
    plugin, code, count, length = _histogram(1, [(0, 1, 3)])
    reject_plugin, reject_code = np.array([-1]), np.array([0])
    # Pod 3 pops with the same keys: members with rows below 3 (0 and 2) were due before it and fail.
    finish_batch(tables, counts, times, 5.0, 7, 3, ACTIVE, reject_plugin, reject_code, plugin, code, count, length)
    assert counts[C_BATCH] == 0 and counts[C_GROUP_ATTEMPTS] == 2
    failed = tables.pods[0].group_of
    assert failed != item and _members(tables, failed) == [0, 2]
    assert tables.items[failed].status == UNSCHEDULABLE and tables.items[failed].backoff_until == 15.0
    assert _members(tables, item) == [4, 5] and tables.items[item].status == ACTIVE and counts[C_ACTIVE] == 1
    # Without a barrier the whole group fails: one attempt per member, counted once on the group.
    batch_add(tables, counts, item)
    finish_batch(tables, counts, times, 6.0, 8, -1, ACTIVE, reject_plugin, reject_code, plugin, code, count, length)
    assert tables.groups[item - 6].offset == 1 and counts[C_GROUP_ATTEMPTS] == 4


def test_releasing_a_head_sends_the_first_member_back_alone():
    tables, counts, _ = _tables(3)
    item = new_group(tables, counts, 0, 0)
    for pod in (0, 1):
        join(tables, item, pod)
    tables.groups[item - 3].origin = ACTIVE
    release_head(tables, counts, None, item)
    assert tables.items[0].status == ACTIVE and _members(tables, item) == [1]
    assert tables.items[item].status == ACTIVE and counts[C_ACTIVE] == 2
    release_head(tables, counts, None, item)
    assert _members(tables, item) == [] and counts[C_G_FREE] == tables.g_free.shape[0]


def test_failure_records_keep_the_width_and_give_the_rejecting_plugins_mask():
    tables, counts, _ = _tables(2)
    entries = [(1, 1, 2), (3, 2, 1), (1, 2, 4), (5, 1, 1), (6, 1, 1)]  # five kinds, width four
    plugin, code, count, length = _histogram(1, entries)
    mask = write_failure(tables, counts, 0, 0, -1, 0, plugin, code, count, length)
    assert mask == (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6)
    slot = tables.items[0].fail_slot
    assert slot == 0 and counts[C_FAIL_USED] == 1 and tables.fail[slot].length == 5
    assert tables.fail_plugin[slot].tolist() == [1, 3, 1, 5]
    # A PreFilter rejection names its plugin; no node left by PreFilterResults names the narrowing ones.
    assert write_failure(tables, counts, 1, 0, 2, 7, plugin, code, count, np.array([0])) == 1 << 2
    assert write_failure(tables, counts, 1, 0, -2, 0b1001, plugin, code, count, np.array([0])) == 0b1001
    copy_failure(tables, 0, 1)
    other = tables.items[1].fail_slot
    assert tables.fail[other].length == 5 and tables.fail_count[other].tolist() == [2, 1, 4, 1]
