"""The replay driver: the profile's pod cycle inside an event loop on the simulated clock, compiled.

Generated like the batch loop (``schedkit.framework.loop``) from the profile's plugin lists, around
the same pod-cycle source, so a replayed decision is the decision ``schedkit schedule`` makes. Per
simulated time: departures (each pod's Reserve plugins are unreserved and its requests leave the node,
an AssignedPodDelete event), arrivals into the active queue, backoff and leftover flushes; then pods
are popped and scheduled one by one until the queue is empty (each binding is an AssignedPodAdd
event). The function returns after ``limit`` cycles (1) or when nothing is left to happen (0), with
all its state in arrays, so Python can report progress, grow tables and resume.
"""

from __future__ import annotations

from typing import Callable

from ..framework.loop import LOOP_ARGS, LoopSpec, pod_cycle_lines, preamble_lines
from ..framework.loop_source import _lines, call_kernel, node_changed, reserve_args
from ..framework.loop_build import build_loop
from . import queue
from .incremental import REPLAY_HOOKS

HELPERS = {function.__name__: function for function in queue.DRIVER_FUNCTIONS}

# Counter slots, events and statuses the generated source spells as numbers.
NAMES = {name: getattr(queue, name) for name in (
    "C_FAIL_USED", "C_TL_LEN", "C_STEP_OPEN", "C_DONE", "C_CLOCK", "EV_POD_DELETE", "EV_POD_ADD", "RUNNING",
    "IN_FLIGHT", "FAIL_MARGIN", "C_CYCLES")}


def _named(text: str, names: dict[str, int]) -> str:
    for name, value in sorted(names.items(), key=lambda item: -len(item[0])):
        text = text.replace(name, str(value))
    return text


def generate_replay_body(spec: LoopSpec) -> str:
    states = ", ".join(f"S{i}" for i in range(len(spec.plugins)))
    out = [f"def replay_loop({LOOP_ARGS}, tables, counts, times, limit, {states}):"]
    out.extend(preamble_lines(spec))
    out.extend(_lines(4, _named("""
node_stamp = tables.node_stamp  # node changes are counted across calls: the signature slots compare them
clock = counts[C_CLOCK]
now = times[0]
num_pods = tables.pods.shape[0]  # queue items from here on are groups of pods (queue.py)
cycles = 0
prev = -1
fast_fail = False
while True:
    if prev >= num_pods:
        if tables.items[prev].status == IN_FLIGHT:  # a group whose cycle found a node, or could not tell
            release_head(tables, counts, times, prev)
        prev = -1
    elif prev >= 0:
        sp = tables.items[prev].spec
        if record(tables, counts, times, pods, prev, now, clock, fast_fail, out_node[sp], out_reject_plugin[sp],
                  out_reject_code[sp], hist_plugin, hist_code, hist_count, hist_len):
            cluster_event(tables, counts, times, EV_POD_ADD, now)
        prev = -1
    if (cycles >= limit or counts[C_FAIL_USED] + FAIL_MARGIN >= tables.fail.shape[0]
            or counts[C_TL_LEN] >= tables.tl.shape[0]):
        times[0] = now
        counts[C_CLOCK] = clock
        counts[C_CYCLES] += cycles
        return 1
    item = pop_next(tables, counts, times, now, clock, out_reject_plugin, out_reject_code, hist_plugin, hist_code, hist_count,
                 hist_len)
    if item < 0:
        if counts[C_STEP_OPEN] == 1:
            timeline_row(tables, counts, now)
            counts[C_STEP_OPEN] = 0
        t = next_time(tables, counts, times)
        if t == np.inf:
            counts[C_DONE] = 1
            times[0] = now
            counts[C_CLOCK] = clock
            counts[C_CYCLES] += cycles
            return 0
        now = t
        times[0] = now
        counts[C_STEP_OPEN] = 1
        while True:
            d = pop_finished(tables, counts, now)
            if d < 0:
                break
            if tables.items[d].status == RUNNING:
                n = tables.pods[d].node
                s = tables.items[d].spec
""", NAMES)))
    for i in reversed(spec.reserve):
        # A departing pod's Unreserve: its spec's row ``s``, and the pod itself ``d`` for kernels declaring it.
        args = reserve_args(spec, i, "unreserve", "s", "n", "d")
        out.extend(_lines(20, call_kernel(spec, i, "unreserve", args, node="n", pod="s")))
    out.extend(_lines(20, _named("""
assume(nodes, pods, s, n, -1)
""" + node_changed("n") + """
log_change(tables, counts, n)
departed(tables, counts, pods, d, now)
cluster_event(tables, counts, times, EV_POD_DELETE, now)
""", NAMES)))
    out.extend(_lines(4, _named("""
            else:
                delete_pending(tables, counts, d, now)
        admit_arrivals(tables, counts, now)
        flush(tables, counts, times, now)
        continue
    cycles += 1
    prev = item
    p = tables.items[item].spec
    is_group = item >= num_pods
    fast_fail = False
""", NAMES)))
    cycle = [line[:-len("return")] + "return -1" if line.strip() == "return" else line
             for line in pod_cycle_lines(spec, REPLAY_HOOKS)]
    out.extend(cycle)
    return "\n".join(out) + "\n"


def build_replay(spec: LoopSpec) -> tuple[Callable, bool]:
    """The compiled (or, with Python kernels, plain) replay function for a profile."""
    return build_loop(spec, generate_replay_body(spec), "replay_loop", HELPERS)
