"""The unschedulable pods (upstream backend/queue/unschedulable_pods.go): a FIFO list, compacted
on scans, and per rejecting plugin a count of the items waiting for it."""

from __future__ import annotations

from .compiled import helper, small_helper
from .records import C_UNSCHED, C_U_HEAD, C_U_TAIL, MASK_SLOTS, UNSCHEDULABLE


@small_helper
def _count_mask(tables, mask, sign):
    if mask == 0:
        tables.mask_count[MASK_SLOTS] += sign
        return
    for i in range(MASK_SLOTS):
        if (mask >> i) & 1:
            tables.mask_count[i] += sign


@helper
def enter_unschedulable(tables, counts, item):
    tables.items[item].status = UNSCHEDULABLE
    if counts[C_U_TAIL] >= tables.unsched_list.shape[0]:
        _compact(tables, counts)
    tables.unsched_list[counts[C_U_TAIL]] = item
    tables.items[item].unsched_pos = counts[C_U_TAIL]
    counts[C_U_TAIL] += 1
    counts[C_UNSCHED] += 1
    _count_mask(tables, tables.items[item].reject_mask, 1)


@small_helper
def leave_unschedulable(tables, counts, item):
    _count_mask(tables, tables.items[item].reject_mask, -1)
    tables.items[item].unsched_pos = -1
    counts[C_UNSCHED] -= 1


@helper
def _compact(tables, counts):
    """Drop stale entries from the unschedulable list, keeping FIFO order."""
    w = 0
    for i in range(counts[C_U_HEAD], counts[C_U_TAIL]):
        item = tables.unsched_list[i]
        if tables.items[item].status == UNSCHEDULABLE and tables.items[item].unsched_pos == i:
            tables.unsched_list[w] = item
            tables.items[item].unsched_pos = w
            w += 1
    counts[C_U_HEAD] = 0
    counts[C_U_TAIL] = w
