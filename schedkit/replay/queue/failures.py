"""Failure records: why an item's last attempt failed (the message is built after the replay) and which
plugins rejected it (the bits its requeueing is decided by)."""

from __future__ import annotations

from .compiled import helper, small_helper
from .records import C_FAIL_USED


@helper
def write_failure(tables, counts, item, s, reject_plugin, reject_code, hist_plugin, hist_code, hist_count, hist_len):
    """Store why shape ``s``'s cycle failed as ``item``'s record; returns the rejecting plugins' mask."""
    slot = tables.items[item].fail_slot
    if slot < 0:
        slot = counts[C_FAIL_USED]
        counts[C_FAIL_USED] += 1
        tables.items[item].fail_slot = slot
    mask = 0
    tables.fail[slot].reject_plugin = reject_plugin
    tables.fail[slot].reject_code = reject_code
    if reject_plugin >= 0:
        mask |= 1 << reject_plugin
    elif reject_plugin == -2:
        mask |= reject_code  # PreFilterResults left no node: the narrowing plugins
    width = tables.fail_plugin.shape[1]
    kept = 0
    for k in range(hist_len[s]):
        mask |= 1 << hist_plugin[s, k]
        if kept < width:
            tables.fail_plugin[slot, kept] = hist_plugin[s, k]
            tables.fail_code[slot, kept] = hist_code[s, k]
            tables.fail_count[slot, kept] = hist_count[s, k]
            kept += 1
    tables.fail[slot].length = hist_len[s]
    return mask


@helper
def copy_failure(tables, source, target):
    a = tables.items[source].fail_slot
    b = tables.items[target].fail_slot
    tables.fail[b].reject_plugin = tables.fail[a].reject_plugin
    tables.fail[b].reject_code = tables.fail[a].reject_code
    tables.fail[b].length = tables.fail[a].length
    for k in range(tables.fail_plugin.shape[1]):
        tables.fail_plugin[b, k] = tables.fail_plugin[a, k]
        tables.fail_code[b, k] = tables.fail_code[a, k]
        tables.fail_count[b, k] = tables.fail_count[a, k]


@small_helper
def failed_at(tables, times, item, now, mask):
    tables.items[item].reject_mask = mask
    tables.items[item].timestamp = now
    tables.items[item].unsched_since = now
