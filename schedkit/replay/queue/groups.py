"""Lockstep groups: pods of one shape that failed on every node at the same moment and cluster state
wait as one queue item, and fail together in batches (see the package docstring)."""

from __future__ import annotations

from .compiled import called_from_python, helper, small_helper
from .active import push_item
from .backoff import backoff_duration
from .failures import copy_failure, failed_at, write_failure
from .unschedulable import enter_unschedulable, leave_unschedulable
from .records import (
    ACTIVE, C_BATCH, C_FAIL_USED, C_GROUP_ATTEMPTS, C_G_FREE, F_BACKOFF_MAX, GROUPED, IN_BATCH,
    UNSCHEDULABLE, free_group,
)


@small_helper
def joinable(tables, item, s, now, clock):
    """Is ``item`` the group that shape ``s``'s pods failing now, at this cluster state, belong to?"""
    if item < 0 or tables.items[item].status != UNSCHEDULABLE or tables.items[item].spec != s:
        return False
    return tables.items[item].timestamp == now and tables.groups[item - tables.pods.shape[0]].clock == clock


@helper
def new_group(tables, counts, s, like):
    """An empty group for shape ``s`` (priority and record taken from pod ``like``); -1 none free."""
    if counts[C_G_FREE] == 0 or counts[C_FAIL_USED] >= tables.fail.shape[0]:
        return -1
    counts[C_G_FREE] -= 1
    gi = tables.g_free[counts[C_G_FREE]]
    item = tables.pods.shape[0] + gi
    tables.items[item].spec = s
    tables.items[item].neg_priority = tables.items[like].neg_priority
    tables.groups[gi].head = -1
    tables.groups[gi].tail = -1
    tables.groups[gi].members = 0
    tables.groups[gi].offset = 0
    tables.items[item].unsched_pos = -1
    if tables.items[item].fail_slot < 0:
        tables.items[item].fail_slot = counts[C_FAIL_USED]
        counts[C_FAIL_USED] += 1
    return item


@small_helper
def _link_after(tables, gi, x, pod):
    """Link pod ``pod`` into group ``gi``'s member list after member ``x`` (-1: first)."""
    nxt = tables.groups[gi].head if x < 0 else tables.pods[x].g_next
    tables.pods[pod].g_prev = x
    tables.pods[pod].g_next = nxt
    if x < 0:
        tables.groups[gi].head = pod
    else:
        tables.pods[x].g_next = pod
    if nxt < 0:
        tables.groups[gi].tail = pod
    else:
        tables.pods[nxt].g_prev = pod
    tables.groups[gi].members += 1


@small_helper
def _unlink(tables, gi, pod):
    """Take pod ``pod`` out of group ``gi``'s member list (the inverse of _link_after)."""
    prv, nxt = tables.pods[pod].g_prev, tables.pods[pod].g_next
    if prv < 0:
        tables.groups[gi].head = nxt
    else:
        tables.pods[prv].g_next = nxt
    if nxt < 0:
        tables.groups[gi].tail = prv
    else:
        tables.pods[nxt].g_prev = prv
    tables.groups[gi].members -= 1


@helper
def join(tables, item, pod):
    """Pod ``pod`` (attempts counted on itself) becomes a member of group ``item``, in row order. Walks
    back from the last member: pods usually join in arrival order."""
    gi = item - tables.pods.shape[0]
    x = tables.groups[gi].tail
    while x >= 0 and x > pod:
        x = tables.pods[x].g_prev
    _link_after(tables, gi, x, pod)
    tables.pods[pod].group_of = item
    tables.items[pod].status = GROUPED
    tables.pods[pod].attempts -= tables.groups[gi].offset


@helper
def leave_group(tables, pod):
    """Pod ``pod`` leaves its group with the group's attempts and record made its own."""
    item = tables.pods[pod].group_of
    gi = item - tables.pods.shape[0]
    _unlink(tables, gi, pod)
    tables.pods[pod].group_of = -1
    tables.pods[pod].attempts += tables.groups[gi].offset
    copy_failure(tables, item, pod)
    tables.items[pod].reject_mask = tables.items[item].reject_mask
    tables.items[pod].timestamp = tables.items[item].timestamp
    tables.items[pod].unsched_since = tables.items[item].unsched_since
    tables.items[pod].backoff_until = tables.items[item].backoff_until


@helper
def _absorb(tables, counts, into, other):
    """Move every member of group ``other`` into group ``into`` (same shape, keys and record), merging
    the two row-ordered lists from their ends; frees ``other``."""
    P = tables.pods.shape[0]
    ii, oi = into - P, other - P
    shift = tables.groups[oi].offset - tables.groups[ii].offset
    cursor = tables.groups[ii].tail
    x = tables.groups[oi].tail
    while x >= 0:
        prv = tables.pods[x].g_prev
        while cursor >= 0 and cursor > x:
            cursor = tables.pods[cursor].g_prev
        _link_after(tables, ii, cursor, x)
        tables.pods[x].group_of = into
        tables.pods[x].attempts += shift
        x = prv
    tables.groups[oi].head = -1
    tables.groups[oi].tail = -1
    tables.groups[oi].members = 0
    free_group(tables, counts, other)


@helper
def _settle_failed(tables, counts, item, s, clock):
    """Group ``item`` has just failed (keys and record set): into the unschedulable list, merged with the
    group the shape's pods failed into at this moment and state, if there is one."""
    P = tables.pods.shape[0]
    tables.groups[item - P].clock = clock
    other = tables.shape_group[s]
    if other != item and joinable(tables, other, s, tables.items[item].timestamp, clock):
        if tables.groups[other - P].members >= tables.groups[item - P].members:
            _absorb(tables, counts, other, item)
            return
        leave_unschedulable(tables, counts, other)
        _absorb(tables, counts, item, other)
    enter_unschedulable(tables, counts, item)
    tables.shape_group[s] = item


@helper
def batch_add(tables, counts, item):
    """Group ``item``'s cycle found no node: its members fail, up to the next pod (finish_batch)."""
    tables.items[item].status = IN_BATCH
    tables.batch[counts[C_BATCH]] = item
    counts[C_BATCH] += 1


@helper
def finish_batch(tables, counts, times, now, clock, barrier, source, reject_plugin, reject_code, hist_plugin, hist_code,
                 hist_count, hist_len):
    """Fail the batched groups' members that the queue orders before ``barrier`` (popped from ``source``;
    -1: all of them). Nothing changed the cluster since their cycles, so each shape's outputs still hold
    the verdict every member would have got."""
    P = tables.pods.shape[0]
    cap = times[F_BACKOFF_MAX]
    for j in range(counts[C_BATCH]):
        item = tables.batch[j]
        gi = item - P
        s = tables.items[item].spec
        origin = tables.groups[gi].origin
        cutoff = -1  # members with a row below it fail; -1: all
        if barrier >= 0 and source == origin:
            if origin == ACTIVE:
                same = (tables.items[item].neg_priority == tables.items[barrier].neg_priority
                        and tables.items[item].timestamp == tables.items[barrier].timestamp)
            else:
                same = tables.items[item].backoff_until == tables.items[barrier].backoff_until
            if same:
                cutoff = tables.items[barrier].tie
        whole = cutoff < 0 or tables.groups[gi].tail < cutoff
        if whole:
            failing = item
            tables.groups[gi].offset += 1
            counts[C_GROUP_ATTEMPTS] += tables.groups[gi].members
        else:
            # The barrier falls among the members: those before it fail (into a group of their own), the
            # rest wait in the queue for their turn after it.
            failing = new_group(tables, counts, s, item)
            while tables.groups[gi].head >= 0 and tables.groups[gi].head < cutoff:
                x = tables.groups[gi].head
                leave_group(tables, x)
                tables.pods[x].attempts += 1
                counts[C_GROUP_ATTEMPTS] += 1
                if failing >= 0:
                    join(tables, failing, x)
                else:  # no group to spare (the driver keeps enough): the member fails on its own
                    _fail_alone(tables, counts, times, x, now, reject_plugin[s], reject_code[s], hist_plugin, hist_code,
                                hist_count, hist_len)
            push_item(tables, counts, item, origin)
        if failing >= 0:
            mask = write_failure(tables, counts, failing, s, reject_plugin[s], reject_code[s], hist_plugin, hist_code,
                                  hist_count, hist_len)
            failed_at(tables, times, failing, now, mask)
            tables.items[failing].backoff_until = now + cap
            _settle_failed(tables, counts, failing, s, clock)
    counts[C_BATCH] = 0


@helper
def _fail_alone(tables, counts, times, pod, now, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    mask = write_failure(tables, counts, pod, tables.items[pod].spec, reject_plugin, reject_code, hist_plugin, hist_code, hist_count,
                          hist_len)
    failed_at(tables, times, pod, now, mask)
    tables.items[pod].backoff_until = now + backoff_duration(times, tables.pods[pod].attempts)
    enter_unschedulable(tables, counts, pod)


@helper
def release_head(tables, counts, times, item):
    """Group ``item``'s cycle did not fail on every node: its first member goes back to the queue it
    came from as a pod of its own, to be tried alone; the rest wait behind it."""
    P = tables.pods.shape[0]
    gi = item - P
    origin = tables.groups[gi].origin
    head = tables.groups[gi].head
    leave_group(tables, head)
    push_item(tables, counts, head, origin)
    if tables.groups[gi].members > 0:
        push_item(tables, counts, item, origin)
    else:
        free_group(tables, counts, item)


@called_from_python
def settle_groups(tables):
    """After the replay: every member's attempts and record made its own, its state its group's."""
    for pod in range(tables.pods.shape[0]):
        if tables.items[pod].status == GROUPED:
            item = tables.pods[pod].group_of
            status = tables.items[item].status
            leave_group(tables, pod)
            tables.items[pod].status = status
