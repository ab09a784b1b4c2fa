"""Cluster events (upstream scheduling_queue.go MoveAllToActiveOrBackoffQueue with the plugins'
EventsToRegister): an event moves the unschedulable items whose rejecting plugins registered for it."""

from __future__ import annotations

from .compiled import helper
from .active import requeue
from .unschedulable import leave_unschedulable
from .records import C_U_HEAD, C_U_TAIL, MASK_SLOTS, UNSCHEDULABLE


@helper
def cluster_event(tables, counts, times, event, now):
    """A cluster event: move the unschedulable items whose rejecting plugins register for it."""
    requeue_mask = tables.event_mask[event]
    interested = tables.mask_count[MASK_SLOTS]
    for i in range(MASK_SLOTS):
        if (requeue_mask >> i) & 1:
            interested += tables.mask_count[i]
    if interested == 0:
        return
    w = counts[C_U_HEAD]
    for i in range(counts[C_U_HEAD], counts[C_U_TAIL]):
        item = tables.unsched_list[i]
        if tables.items[item].status != UNSCHEDULABLE or tables.items[item].unsched_pos != i:
            continue
        mask = tables.items[item].reject_mask
        if mask == 0 or (mask & requeue_mask) != 0:
            leave_unschedulable(tables, counts, item)
            requeue(tables, counts, times, item, now)
        else:
            tables.unsched_list[w] = item
            tables.items[item].unsched_pos = w
            w += 1
    counts[C_U_TAIL] = w
