"""Cheap proof that a retry fails: per-signature Filter verdicts kept current from a log of node changes.

Upstream requeues every pod NodeResourcesFit rejected whenever a bound pod is deleted, and with
SchedulerPopFromBackoffQ it retries them at once. A replay with a backlog of large pods waiting for
room therefore makes thousands of attempts per departure, almost all failing on every node. Each
attempt is exact either way; this makes the failing ones cost the nodes that changed, not all nodes.

For pods whose Filter plugins are all node-local (verdict for a node depends only on the pod's
signature and that node; non-local plugins skipped at PreFilter, no PreFilterResult), a slot per
signature holds every node's verdict (first failing plugin and code), the count of feasible nodes and
the failure histogram. Before such a pod's cycle, the nodes logged as changed since the slot's last
sync are re-evaluated and the counts adjusted. With no feasible node the cycle ends exactly as the
full loop would end it: every node examined (so nextStartNodeIndex moves by N, i.e. not at all) and
the histogram over all nodes. With a feasible node the ordinary cycle runs, reading each node's
Filter verdict from the slot instead of calling the plugins again.

A group of pods (queue.py) runs this part of the cycle only: no feasible node puts it in the batch
that fails together; anything else sends its first member back to be tried as a pod.
"""

from __future__ import annotations

from ..framework.loop import CycleHooks, LoopSpec
from ..framework.loop_source import _lines, call_kernel, filter_call, unknown_filter_code
from ..framework.loop_source import indent as indent_text
from . import queue


def fast_fail_lines(spec: LoopSpec) -> list[str]:
    """Generated source, placed after PreFilter in the replay's pod cycle (indent 8)."""
    local = [i for i in spec.filter if spec.plugins[i].node_local]
    nonlocal_ids = [i for i in spec.filter if not spec.plugins[i].node_local]
    guard = " and ".join(["use_cache", "not narrowed"] + [f"not run_f{i}" for i in nonlocal_ids])

    def chain(indent: int) -> list[str]:
        lines = _lines(indent, "code = 0\nfailed = -1")
        for i in local:
            call = filter_call(spec, i, 4)
            lines += _lines(indent, f"""
if code == 0 and run_f{i}:
{call}
    if code != 0:
        failed = {i}
""")
        return lines

    def check(indent: int) -> list[str]:  # a code the failing plugin cannot decode, named with its node
        test = unknown_filter_code(spec, 4)
        return _lines(indent, f"if code != 0:\n{test}") if test else []

    # One pass re-evaluates the nodes: all of them when the slot is new or the log started a new
    # generation since its last sync, else those logged as changed since (one copy of the Filter chain:
    # each copy inlines every Filter kernel into the compiled driver).
    out = _lines(8, f"""
slot_ready = False
if {guard}:
    slot = slot_for(tables, counts, sig[p])
    if slot >= 0:
        usable = True
        resync = tables.slots[slot].gen != counts[{queue.C_LOG_GEN}]
        first_change = tables.slots[slot].logpos
        count = counts[{queue.C_LOG_LEN}] - first_change
        if resync:
            tables.slots[slot].hist_len = 0
            tables.slots[slot].feasible = 0
            count = N
        for k in range(count):
            if resync:
                n = k
            else:
                n = tables.change_log[first_change + k]
                if tables.slot_stamp[slot, n] == node_stamp[n]:
                    continue
""")
    out += chain(20)
    out += check(20)
    out += _lines(20, """
if not resync:
    if tables.slot_code[slot, n] == 0:
        tables.slots[slot].feasible -= 1
    else:
        slot_hist_add(tables, slot, tables.slot_plugin[slot, n], tables.slot_code[slot, n], -1)
if code == 0:
    tables.slots[slot].feasible += 1
elif not slot_hist_add(tables, slot, failed, code, 1):
    usable = False
tables.slot_code[slot, n] = code
tables.slot_plugin[slot, n] = failed
tables.slot_stamp[slot, n] = node_stamp[n]
""")
    out += _lines(16, f"""
tables.slots[slot].gen = counts[{queue.C_LOG_GEN}]
tables.slots[slot].logpos = counts[{queue.C_LOG_LEN}]
if not usable:
    tables.sig_slot[sig[p]] = -2
elif tables.slots[slot].feasible == 0:
    copy_slot_histogram(tables, slot, p, hist_plugin, hist_code, hist_count, hist_len)
    fast_fail = True
else:
    slot_ready = True  # the full cycle reads each node's verdict from the slot
""")
    out += _lines(8, "if fast_fail:")
    for i in spec.post_filter:
        call = indent_text(call_kernel(spec, i, "post_filter", f"nodes, pods, p, S{i}", "out_nominated[p]"), 4)
        out += _lines(12, f"""
if out_nominated[p] < 0:
{call}
""")
    out += _lines(12, """
if is_group:
    batch_add(tables, counts, item)  # its members fail together, up to the next pod (queue.finish_batch)
continue
""")
    # A group whose members might fit goes no further: its first member is tried alone.
    out += _lines(8, """
if is_group:
    continue
""")
    return out


# How the replay's driver extends the pod cycle (framework.loop.CycleHooks): the failure check after
# PreFilter; with a feasible node, each node's Filter verdict read from the slot the check brought up to
# date (every Filter plugin that runs is node-local then, so a node's verdict is the one kept for it);
# every node change logged for the slots.
REPLAY_HOOKS = CycleHooks(
    after_pre_filter=fast_fail_lines,
    known_verdict=("slot_ready", "tables.slot_code[slot, n]", "tables.slot_plugin[slot, n]"),
    node_changed="log_change(tables, counts, chosen)",
    pod_identity="item",  # the pod's row in the trace (only pods, never groups, reach Reserve)
)
