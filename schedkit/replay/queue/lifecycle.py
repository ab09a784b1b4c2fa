"""A pod's life on the simulated clock: arrivals, the next event time, flushes, the outcome of an
attempt, popping with groups, departures and deletions, the timeline."""

from __future__ import annotations

import numpy as np

from .compiled import helper, small_helper
from .active import pop_item, requeue, stale_top, to_active
from .backoff import backoff_duration
from .failures import copy_failure, failed_at, write_failure
from .groups import joinable, finish_batch, join, leave_group, new_group
from .heap import heap_pop, heap_push
from .unschedulable import enter_unschedulable, leave_unschedulable
from .records import (
    BACKOFF, BATCH_MAX, C_BACKOFF, C_BATCH, C_FINISH, C_GROUPS_ON, C_NEXT_ARRIVAL, C_PENDING, C_RUNNING,
    C_TL_LEN, C_U_HEAD, C_U_TAIL, DELETED, DONE, F_BACKOFF_MAX, F_LEFTOVER, GROUPED, HELD, IN_FLIGHT,
    RUNNING, UNSCHEDULABLE, free_group,
)


@helper
def flush(tables, counts, times, now):
    """Backoff expiry (flushBackoffQCompleted) and the unschedulable leftovers older than
    podMaxInUnschedulablePodsDuration (flushUnschedulablePodsLeftover)."""
    while counts[C_BACKOFF] > 0:
        if stale_top(tables, counts, tables.backoff_heap, C_BACKOFF, BACKOFF):
            heap_pop(tables.backoff_heap, counts, C_BACKOFF, tables.items.backoff_until, tables.items.backoff_until, tables.items.tie)
            continue
        item = tables.backoff_heap[0]
        if tables.items[item].backoff_until > now:
            break
        heap_pop(tables.backoff_heap, counts, C_BACKOFF, tables.items.backoff_until, tables.items.backoff_until, tables.items.tie)
        to_active(tables, counts, item)
    while counts[C_U_HEAD] < counts[C_U_TAIL]:
        i = counts[C_U_HEAD]
        item = tables.unsched_list[i]
        if tables.items[item].status != UNSCHEDULABLE or tables.items[item].unsched_pos != i:
            counts[C_U_HEAD] += 1
            continue
        if tables.items[item].unsched_since + times[F_LEFTOVER] > now:
            break
        counts[C_U_HEAD] += 1
        leave_unschedulable(tables, counts, item)
        requeue(tables, counts, times, item, now)


@small_helper
def _future_events(tables, counts):
    return counts[C_NEXT_ARRIVAL] < tables.arrival_order.shape[0] or counts[C_FINISH] > 0


@helper
def next_time(tables, counts, times):
    """The next simulated time something happens; inf when nothing will."""
    t = np.inf
    if counts[C_NEXT_ARRIVAL] < tables.arrival_order.shape[0]:
        t = tables.pods[tables.arrival_order[counts[C_NEXT_ARRIVAL]]].arrival
    if counts[C_FINISH] > 0:
        t = min(t, tables.pods[tables.finish_heap[0]].finish_key)
    while counts[C_BACKOFF] > 0 and stale_top(tables, counts, tables.backoff_heap, C_BACKOFF, BACKOFF):
        heap_pop(tables.backoff_heap, counts, C_BACKOFF, tables.items.backoff_until, tables.items.backoff_until, tables.items.tie)
    if counts[C_BACKOFF] > 0:
        t = min(t, tables.items[tables.backoff_heap[0]].backoff_until)
    # Leftover flushes only matter while the cluster can still change: once no pod will arrive or
    # leave, retrying a pod that every node rejected gives the same answer forever.
    if _future_events(tables, counts):
        while counts[C_U_HEAD] < counts[C_U_TAIL]:
            i = counts[C_U_HEAD]
            item = tables.unsched_list[i]
            if tables.items[item].status == UNSCHEDULABLE and tables.items[item].unsched_pos == i:
                t = min(t, tables.items[item].unsched_since + times[F_LEFTOVER])
                break
            counts[C_U_HEAD] += 1
    return t


@helper
def pop_finished(tables, counts, now):
    """The next pod (by time, then row) whose departure or deadline is due; -1 none."""
    if counts[C_FINISH] == 0:
        return -1
    pod = tables.finish_heap[0]
    if tables.pods[pod].finish_key > now:
        return -1
    heap_pop(tables.finish_heap, counts, C_FINISH, tables.pods.finish_key, tables.pods.finish_key, tables.items.tie)
    return pod


@helper
def departed(tables, counts, pods, pod, now):
    """A running pod finished: its requests leave the cluster totals (the caller unreserves the node)."""
    tables.items[pod].status = DONE
    tables.pods[pod].left = now
    counts[C_RUNNING] -= 1
    s = tables.items[pod].spec
    for r in range(tables.alloc_total.shape[0]):
        tables.alloc_total[r] -= pods.requests[s, r]


@helper
def delete_pending(tables, counts, pod, now):
    """A pod deleted before it ran (its deadline came first): it leaves whichever queue holds it."""
    if tables.items[pod].status == UNSCHEDULABLE:
        leave_unschedulable(tables, counts, pod)
    elif tables.items[pod].status == GROUPED:
        item = tables.pods[pod].group_of
        leave_group(tables, pod)
        # An emptied group waiting in the unschedulable list goes now; one in a heap when it is popped.
        if tables.groups[item - tables.pods.shape[0]].members == 0 and tables.items[item].status == UNSCHEDULABLE:
            leave_unschedulable(tables, counts, item)
            free_group(tables, counts, item)
    tables.items[pod].status = DELETED
    tables.pods[pod].left = now
    counts[C_PENDING] -= 1


@helper
def admit_arrivals(tables, counts, now):
    """Pods whose arrival time has come enter the active queue (or stay held: gated or no profile)."""
    order = tables.arrival_order
    while counts[C_NEXT_ARRIVAL] < order.shape[0]:
        pod = order[counts[C_NEXT_ARRIVAL]]
        if tables.pods[pod].arrival > now:
            break
        counts[C_NEXT_ARRIVAL] += 1
        counts[C_PENDING] += 1
        tables.items[pod].timestamp = tables.pods[pod].arrival
        if not np.isnan(tables.pods[pod].deadline):
            tables.pods[pod].finish_key = tables.pods[pod].deadline
            heap_push(tables.finish_heap, counts, C_FINISH, tables.pods.finish_key, tables.pods.finish_key, tables.items.tie, pod)
        if tables.items[pod].status == HELD:
            continue
        to_active(tables, counts, pod)


@helper
def pop_next(tables, counts, times, now, clock, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    """The next item to schedule, ``IN_FLIGHT``: a pod (its attempt counted) or a group (its cycle decides
    whether the members fail together); -1 when the queues are empty. Before a pod's cycle, or when the
    queues are empty, the batched groups fail up to that pod."""
    item, source = pop_item(tables, counts)
    is_group = item >= tables.pods.shape[0]
    if counts[C_BATCH] > 0 and (not is_group or counts[C_BATCH] >= BATCH_MAX):
        # One call site: finish_batch is large, and every call of it is compiled into the driver.
        finish_batch(tables, counts, times, now, clock, item, source, reject_plugin, reject_code, hist_plugin, hist_code,
                     hist_count, hist_len)
    if item < 0:
        return -1
    tables.items[item].status = IN_FLIGHT
    if is_group:
        tables.groups[item - tables.pods.shape[0]].origin = source
    else:
        tables.pods[item].attempts += 1  # upstream counts the attempt at pop
    return item


@helper
def record(tables, counts, times, pods, pod, now, clock, fast, node, reject_plugin, reject_code, hist_plugin, hist_code,
           hist_count, hist_len):
    """The outcome of pod ``pod``'s attempt (its shape's row in the loop outputs). Returns True when it
    was bound. ``fast``: the attempt failed on every node by the per-signature verdicts."""
    s = tables.items[pod].spec
    if node >= 0:
        tables.items[pod].status = RUNNING
        tables.pods[pod].node = node
        tables.pods[pod].scheduled = now
        counts[C_RUNNING] += 1
        counts[C_PENDING] -= 1
        for r in range(tables.alloc_total.shape[0]):
            tables.alloc_total[r] += pods.requests[s, r]
        if not np.isnan(tables.pods[pod].duration):
            tables.pods[pod].finish_key = now + tables.pods[pod].duration
            heap_push(tables.finish_heap, counts, C_FINISH, tables.pods.finish_key, tables.pods.finish_key, tables.items.tie, pod)
        return True
    # Unschedulable: remember why (the message is built later) and which plugins said no.
    mask = write_failure(tables, counts, pod, s, reject_plugin, reject_code, hist_plugin, hist_code, hist_count,
                          hist_len)
    failed_at(tables, times, pod, now, mask)
    backoff = backoff_duration(times, tables.pods[pod].attempts)
    tables.items[pod].backoff_until = now + backoff
    item = -1  # the group it joins
    entering = pod  # what enters the unschedulable list: the pod, a new group, or nothing
    if fast and backoff >= times[F_BACKOFF_MAX] and counts[C_GROUPS_ON]:
        # Its queue state is now that of every pod of its shape that failed at this moment and state.
        item = tables.shape_group[s]
        entering = -1
        if not joinable(tables, item, s, now, clock):
            item = new_group(tables, counts, s, pod)
            entering = pod if item < 0 else item
            if item >= 0:
                copy_failure(tables, pod, item)
                failed_at(tables, times, item, now, mask)
                tables.items[item].backoff_until = now + backoff
                tables.groups[item - tables.pods.shape[0]].clock = clock
                tables.shape_group[s] = item
    if entering >= 0:
        enter_unschedulable(tables, counts, entering)
    if item >= 0:
        join(tables, item, pod)
    return False


@helper
def timeline_row(tables, counts, now):
    t = counts[C_TL_LEN]
    tables.tl[t].time = now
    for r in range(tables.alloc_total.shape[0]):
        tables.tl_alloc[t, r] = tables.alloc_total[r]
    tables.tl[t].running = counts[C_RUNNING]
    tables.tl[t].pending = counts[C_PENDING]
    counts[C_TL_LEN] = t + 1
