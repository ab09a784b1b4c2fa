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

from ..framework.loop import LOOP_ARGS, LoopSpec, _lines, build_loop, pod_cycle_lines, preamble_lines
from . import incremental, queue

HELPERS = {name: getattr(queue, name) for name in (
    "record", "cluster_event", "pop_next", "next_time", "pop_finished", "departed", "delete_pending",
    "admit_arrivals", "flush", "timeline_row")}
HELPERS.update(incremental.HELPERS)

# (C_FAIL_USED, C_TL_LEN, C_STEP_OPEN, C_DONE) are spelled as numbers in the generated source.
assert (queue.C_FAIL_USED, queue.C_TL_LEN, queue.C_STEP_OPEN, queue.C_DONE) == (6, 7, 12, 11)
assert (queue.EV_POD_DELETE, queue.EV_POD_ADD, queue.RUNNING, queue.C_CLOCK) == (0, 1, 4, 19)


def generate_replay_body(spec: LoopSpec) -> str:
    states = ", ".join(f"S{i}" for i in range(len(spec.plugins)))
    out = [f"def replay_loop({LOOP_ARGS}, R, C, F, limit, {states}):"]
    out.extend(preamble_lines(spec))
    out.extend(_lines(4, """
node_stamp = R.node_stamp  # node changes are counted across calls: the signature slots compare them
clock = C[19]
now = F[0]
cycles = 0
prev = -1
while True:
    if prev >= 0:
        sp = R.shape[prev]
        if record(R, C, F, pods, prev, now, out_node[sp], out_reject_plugin[sp], out_reject_code[sp],
                  hist_plugin, hist_code, hist_count, hist_len):
            cluster_event(R, C, F, 1, now)
        prev = -1
    if cycles >= limit or C[6] >= R.fail_len.shape[0] or C[7] >= R.tl_time.shape[0]:
        F[0] = now
        C[19] = clock
        return 1
    g = pop_next(R, C)
    if g < 0:
        if C[12] == 1:
            timeline_row(R, C, now)
            C[12] = 0
        t = next_time(R, C, F)
        if t == np.inf:
            C[11] = 1
            F[0] = now
            C[19] = clock
            return 0
        now = t
        F[0] = now
        C[12] = 1
        while True:
            d = pop_finished(R, C, now)
            if d < 0:
                break
            if R.status[d] == 4:
                n = R.node[d]
                s = R.shape[d]
"""))
    for i in reversed(spec.reserve):
        out.extend(_lines(20, f"K{i}_unreserve(nodes, pods, s, n, S{i})"))
    out.extend(_lines(20, """
assume(nodes, pods, s, n, -1)
clock += 1
node_stamp[n] = clock
log_change(R, C, n)
departed(R, C, pods, d, now)
cluster_event(R, C, F, 0, now)
"""))
    out.extend(_lines(4, """
            else:
                delete_pending(R, C, d, now)
        admit_arrivals(R, C, now)
        flush(R, C, F, now)
        continue
    cycles += 1
    prev = g
    p = R.shape[g]
"""))
    cycle = [line[:-len("return")] + "return -1" if line.strip() == "return" else line
             for line in pod_cycle_lines(spec, incremental=True)]
    out.extend(cycle)
    return "\n".join(out) + "\n"


def build_replay(spec: LoopSpec) -> tuple[Callable, bool]:
    """The compiled (or, with Python kernels, plain) replay function for a profile."""
    return build_loop(spec, generate_replay_body(spec), "replay_loop", HELPERS)
