"""Placing items in the active and backoff queues and popping the next one (upstream
backend/queue/active_queue.go, backoff_queue.go; SchedulerPopFromBackoffQ pops backoffQ when activeQ is empty)."""

from __future__ import annotations

from .compiled import helper, small_helper
from .heap import heap_pop, heap_push
from .records import ACTIVE, BACKOFF, C_ACTIVE, C_BACKOFF, C_POP_BACKOFF, free_group


@helper
def push_item(tables, counts, item, status):
    """Put an item in the active (ACTIVE) or backoff (BACKOFF) heap. A group is ordered by its first
    member, which can only move later while it waits (a member deleted): pop_next re-pushes it then."""
    P = tables.pods.shape[0]
    if item >= P:
        tables.items[item].tie = tables.groups[item - P].head
    tables.items[item].status = status
    if status == ACTIVE:
        heap_push(tables.active_heap, counts, C_ACTIVE, tables.items.neg_priority, tables.items.timestamp, tables.items.tie, item)
    else:
        heap_push(tables.backoff_heap, counts, C_BACKOFF, tables.items.backoff_until, tables.items.backoff_until, tables.items.tie, item)


@small_helper
def to_active(tables, counts, item):
    push_item(tables, counts, item, ACTIVE)


@small_helper
def requeue(tables, counts, times, item, now):
    """movePodsToActiveOrBackoffQueue for one item: backoffQ while its backoff lasts, else activeQ."""
    if tables.items[item].backoff_until > now:
        push_item(tables, counts, item, BACKOFF)
    else:
        push_item(tables, counts, item, ACTIVE)


@small_helper
def stale_top(tables, counts, heap, slot, status):
    """True when the top of a heap is no longer live there (moved on, or an emptied group, which is
    freed)."""
    item = heap[0]
    if tables.items[item].status != status:
        return True
    P = tables.pods.shape[0]
    if item >= P and tables.groups[item - P].members == 0:
        free_group(tables, counts, item)
        return True
    return False


@helper
def pop_item(tables, counts):
    """The next live item and the queue it came from: activeQ first; with activeQ empty and
    SchedulerPopFromBackoffQ, backoffQ. (-1, 0) when both are empty."""
    P = tables.pods.shape[0]
    while counts[C_ACTIVE] > 0 or (counts[C_POP_BACKOFF] and counts[C_BACKOFF] > 0):
        if counts[C_ACTIVE] > 0:
            heap, slot, source = tables.active_heap, C_ACTIVE, ACTIVE
        else:
            heap, slot, source = tables.backoff_heap, C_BACKOFF, BACKOFF
        if stale_top(tables, counts, heap, slot, source):
            if source == ACTIVE:
                heap_pop(heap, counts, slot, tables.items.neg_priority, tables.items.timestamp, tables.items.tie)
            else:
                heap_pop(heap, counts, slot, tables.items.backoff_until, tables.items.backoff_until, tables.items.tie)
            continue
        if source == ACTIVE:
            item = heap_pop(heap, counts, slot, tables.items.neg_priority, tables.items.timestamp, tables.items.tie)
        else:
            item = heap_pop(heap, counts, slot, tables.items.backoff_until, tables.items.backoff_until, tables.items.tie)
        if item >= P and tables.items[item].tie != tables.groups[item - P].head:
            push_item(tables, counts, item, source)  # its first member was deleted while it waited: its place moved
            continue
        return item, source
    return -1, 0
