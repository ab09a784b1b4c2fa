"""Per-signature Filter verdicts kept current from a log of node changes (the replay's incremental
failure check, ``schedkit.replay.incremental``, generates the code that uses them)."""

from __future__ import annotations

from .compiled import helper
from .records import C_LOG_GEN, C_LOG_LEN, C_SLOTS


@helper
def log_change(tables, counts, n):
    """Record that node ``n`` changed (a pod bound to it or gone from it)."""
    if counts[C_LOG_LEN] >= tables.change_log.shape[0]:
        # Log full: start a new generation; every slot resyncs from scratch on its next use.
        counts[C_LOG_GEN] += 1
        counts[C_LOG_LEN] = 0
    tables.change_log[counts[C_LOG_LEN]] = n
    counts[C_LOG_LEN] += 1


@helper
def slot_hist_add(tables, slot, plugin, code, delta):
    """Add ``delta`` nodes to a slot's (plugin, code) count; False when its histogram is full."""
    length = tables.slots[slot].hist_len
    for k in range(length):
        if tables.slot_hist_plugin[slot, k] == plugin and tables.slot_hist_code[slot, k] == code:
            tables.slot_hist_count[slot, k] += delta
            return True
    if length >= tables.slot_hist_plugin.shape[1]:
        return False
    tables.slot_hist_plugin[slot, length] = plugin
    tables.slot_hist_code[slot, length] = code
    tables.slot_hist_count[slot, length] = delta
    tables.slots[slot].hist_len = length + 1
    return True


@helper
def slot_for(tables, counts, signature):
    """The slot of a signature, assigned on first use; -1 when there is none to give or it is disabled."""
    slot = tables.sig_slot[signature]
    if slot == -1 and counts[C_SLOTS] < tables.slots.shape[0]:
        slot = counts[C_SLOTS]
        counts[C_SLOTS] += 1
        tables.sig_slot[signature] = slot
        tables.slots[slot].gen = -1
    return slot


@helper
def copy_slot_histogram(tables, slot, p, hist_plugin, hist_code, hist_count, hist_len):
    kept = 0
    for k in range(tables.slots[slot].hist_len):
        if tables.slot_hist_count[slot, k] > 0:
            hist_plugin[p, kept] = tables.slot_hist_plugin[slot, k]
            hist_code[p, kept] = tables.slot_hist_code[slot, k]
            hist_count[p, kept] = tables.slot_hist_count[slot, k]
            kept += 1
    hist_len[p] = kept
