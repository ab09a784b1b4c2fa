"""replay.queue.active, .unschedulable and .events, alone: activeQ order (PrioritySort), backoffQ
popped when activeQ is empty (SchedulerPopFromBackoffQ), stale heap entries skipped, the unschedulable
FIFO with its per-plugin counts, cluster events moving only interested items."""

from __future__ import annotations

from schedkit.replay.queue.active import pop_item, push_item, requeue
from schedkit.replay.queue.events import cluster_event
from schedkit.replay.queue.records import (
    ACTIVE, BACKOFF, C_ACTIVE, C_BACKOFF, C_POP_BACKOFF, C_U_HEAD, C_U_TAIL, C_UNSCHED, EV_NODE_ADD, EV_POD_DELETE,
    MASK_SLOTS, RUNNING, UNSCHEDULABLE, new_counters, new_tables,
)
from schedkit.replay.queue.unschedulable import _compact, enter_unschedulable, leave_unschedulable


def _tables(pods: int):
    tables = new_tables(pods)
    counts, times = new_counters()
    counts[C_POP_BACKOFF] = 1
    return tables, counts, times


def _drain(tables, counts):
    out = []
    while True:
        item, source = pop_item(tables, counts)
        if item < 0:
            return out
        out.append((item, source))


def test_active_queue_pops_by_priority_then_timestamp_then_row():
    tables, counts, _ = _tables(4)
    for pod, (priority, timestamp) in enumerate([(0, 5.0), (10, 9.0), (0, 1.0), (0, 5.0)]):
        tables.items[pod].neg_priority = -priority
        tables.items[pod].timestamp = timestamp
    for pod in (3, 0, 2, 1):
        push_item(tables, counts, pod, ACTIVE)
    assert _drain(tables, counts) == [(1, ACTIVE), (2, ACTIVE), (0, ACTIVE), (3, ACTIVE)]


def test_backoff_queue_is_popped_only_when_active_is_empty_and_the_gate_is_on():
    tables, counts, _ = _tables(3)
    tables.items[0].backoff_until = 7.0
    tables.items[1].backoff_until = 3.0
    push_item(tables, counts, 0, BACKOFF)
    push_item(tables, counts, 1, BACKOFF)
    push_item(tables, counts, 2, ACTIVE)
    assert counts[C_ACTIVE] == 1 and counts[C_BACKOFF] == 2
    assert _drain(tables, counts) == [(2, ACTIVE), (1, BACKOFF), (0, BACKOFF)]
    push_item(tables, counts, 0, BACKOFF)
    counts[C_POP_BACKOFF] = 0
    assert _drain(tables, counts) == []


def test_an_item_that_moved_on_is_skipped_when_its_old_entry_surfaces():
    tables, counts, _ = _tables(2)
    push_item(tables, counts, 0, ACTIVE)
    push_item(tables, counts, 1, ACTIVE)
    tables.items[0].status = RUNNING  # e.g. deleted or bound meanwhile
    assert _drain(tables, counts) == [(1, ACTIVE)]


def test_requeue_goes_to_backoff_while_the_backoff_lasts():
    tables, counts, times = _tables(2)
    tables.items[0].backoff_until = 5.0
    tables.items[1].backoff_until = 1.0
    requeue(tables, counts, times, 0, 2.0)
    requeue(tables, counts, times, 1, 2.0)
    assert tables.items[0].status == BACKOFF and tables.items[1].status == ACTIVE


def test_unschedulable_list_keeps_fifo_order_and_per_plugin_counts_through_compaction():
    tables, counts, _ = _tables(6)
    masks = [0b1, 0b101, 0, 0b100, 0b1, 0b10]
    for pod, mask in enumerate(masks):
        tables.items[pod].reject_mask = mask
        enter_unschedulable(tables, counts, pod)
    assert counts[C_UNSCHED] == 6
    assert tables.mask_count[0] == 3 and tables.mask_count[2] == 2 and tables.mask_count[1] == 1
    assert tables.mask_count[MASK_SLOTS] == 1  # one item no plugin rejected
    for pod in (1, 4):
        leave_unschedulable(tables, counts, pod)
        tables.items[pod].status = ACTIVE
    assert tables.mask_count[0] == 1 and tables.mask_count[2] == 1
    _compact(tables, counts)
    live = [int(tables.unsched_list[i]) for i in range(counts[C_U_HEAD], counts[C_U_TAIL])]
    assert live == [0, 2, 3, 5]
    assert all(tables.items[pod].unsched_pos == live.index(pod) for pod in live)


def test_a_cluster_event_moves_only_items_a_registered_plugin_rejected():
    tables, counts, times = _tables(4)
    tables.event_mask[EV_POD_DELETE] = 0b01  # plugin 0 registers for pod deletions
    tables.event_mask[EV_NODE_ADD] = 0b11
    for pod, mask in enumerate([0b01, 0b10, 0, 0b11]):
        tables.items[pod].reject_mask = mask
        tables.items[pod].backoff_until = 0.0
        enter_unschedulable(tables, counts, pod)
    cluster_event(tables, counts, times, EV_POD_DELETE, 1.0)
    status = [int(tables.items[pod].status) for pod in range(4)]
    # moved: rejected by plugin 0, or by no plugin (upstream moves those on any event)
    assert status == [ACTIVE, UNSCHEDULABLE, ACTIVE, ACTIVE]
    assert counts[C_UNSCHED] == 1
    cluster_event(tables, counts, times, EV_NODE_ADD, 2.0)
    assert tables.items[1].status == ACTIVE and counts[C_UNSCHED] == 0
