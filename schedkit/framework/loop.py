"""The scheduling loop, generated per profile and compiled with numba.

Upstream's cycle (pkg/scheduler/schedule_one.go ``schedulePod``; framework/runtime/framework.go
``Run*Plugins``) for a queue of pods, with every enabled plugin's kernel called directly: no Python
call per pod per plugin. The source is generated from the profile's plugin lists so each kernel call
is a direct, inlinable call (loop_build.py turns it into a function, compiled and cached or plain
Python; loop_errors.py holds what the loop reports instead of raising). The same source runs as plain
Python when any kernel is a Python function, and explain runs it on one pod with recording switched on:
one source of truth for batch, explain and Python plugins.

Per pod: PreFilter (Skip, a PreFilterResult narrowing the nodes, or rejection); Filter over nodes in
snapshot order from ``nextStartNodeIndex`` until ``numFeasibleNodesToFind`` fit, each node stopping at
its first failing plugin; with one feasible node no scoring; else PreScore, Score, NormalizeScore,
the [0, 100] check, weights, sum and ``selectHost``; then assume, Reserve and Permit.

A plugin enabled at filter (score) but not at preFilter (preScore) runs without the state those write.
Upstream's plugins then either compute it themselves (the loop runs the pre-kernel as part of Score) or
return an Error status, which ends the cycle with that error (``MISSING_STATE``): a Filter error once a
node reaches that plugin, a Score error whenever scoring is reached (two or more feasible nodes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .loop_errors import ERR_CURRENT_POD, MISSING_STATE
from .loop_score import score_gather_lines, score_lines, score_preamble_lines
from .loop_source import (
    FILTER_CURRENT,
    SCORES_CURRENT,
    _lines,
    call_kernel,
    filter_call,
    indent,
    node_changed,
    reserve_args,
    unknown_filter_code,
)
from .plugin import Plugin, is_compiled

HISTOGRAM_WIDTH = 64  # distinct (plugin, code) failure pairs kept per pod

LOOP_ARGS = (
    "nodes, pods, order, percentage, weights, find_one, rng, start, score_all, "
    "out_node, out_nominated, out_reject_plugin, out_reject_code, hist_plugin, hist_code, hist_count, "
    "hist_len, ex_fail_plugin, ex_fail_code, ex_state, ex_raw, ex_norm, ex_skip, ex_total, err, sig, pod_ids"
)

# ex_state values (explain): how far a node got.
NOT_EXAMINED, INFEASIBLE, FEASIBLE_SCORED, FEASIBLE_NOT_SCORED = 0, 1, 2, 3


@dataclass
class LoopSpec:
    """Which plugin (by index in the profile's plugin list) runs at which point, in order."""

    plugins: list[Plugin]
    pre_filter: list[int] = field(default_factory=list)
    filter: list[int] = field(default_factory=list)
    post_filter: list[int] = field(default_factory=list)
    pre_score: list[int] = field(default_factory=list)
    # Score plugins in order; score slot k is score[k]. Their weights are not part of the spec: the loop
    # reads them from its ``weights`` argument (int64, by slot), so configurations that differ only in
    # numbers share one compiled loop.
    score: list[int] = field(default_factory=list)
    reserve: list[int] = field(default_factory=list)
    permit: list[int] = field(default_factory=list)
    # Filter plugins whose Filter fails for want of PreFilter state (not enabled at preFilter).
    filter_state_missing: list[int] = field(default_factory=list)
    # Score plugins whose Score fails for want of PreScore state (not enabled at preScore).
    score_state_missing: list[int] = field(default_factory=list)
    # Score plugins not enabled at preScore whose Score computes that state itself: their pre_score kernel
    # runs as part of Score, and its Skip scores every node 0 instead of skipping the plugin.
    score_computes_state: list[int] = field(default_factory=list)

    def kernel_refs(self) -> list[tuple[str, int, str]]:
        """(global name, plugin index, kernel attribute) for every kernel the loop calls."""
        refs = []
        for i in self.pre_filter:
            refs.append((f"K{i}_pre_filter", i, "pre_filter"))
        for i in self.filter:
            if i not in self.filter_state_missing:
                refs.append((f"K{i}_filter", i, "filter"))
        for i in self.post_filter:
            refs.append((f"K{i}_post_filter", i, "post_filter"))
        for i in self.pre_score + self.score_computes_state:
            refs.append((f"K{i}_pre_score", i, "pre_score"))
        if self.score_state_missing:  # the cycle fails before any Score runs
            return refs + self._reserve_refs()
        for i in self.score:
            refs.append((f"K{i}_score", i, "score"))
            if self.plugins[i].kernels.normalize is not None:
                refs.append((f"K{i}_normalize", i, "normalize"))
        return refs + self._reserve_refs()

    def _reserve_refs(self) -> list[tuple[str, int, str]]:
        refs = []
        for i in self.reserve:
            refs.append((f"K{i}_reserve", i, "reserve"))
            refs.append((f"K{i}_unreserve", i, "unreserve"))
        for i in self.permit:
            refs.append((f"K{i}_permit", i, "permit"))
        return refs

    def cache_filters(self) -> int:
        """How many leading filter plugins are node-local: their verdict for a node can be reused across
        same-signature pods until the node changes."""
        count = 0
        for i in self.filter:
            if not self.plugins[i].node_local:
                break
            count += 1
        return count

    def cached_scores(self) -> set[int]:
        return {i for i in self.score if self.plugins[i].node_local}

    def compiled(self) -> bool:
        return all(is_compiled(getattr(self.plugins[i].kernels, attr)) for _, i, attr in self.kernel_refs())


def generate_body(spec: LoopSpec, explain: bool = False) -> str:
    """The loop function's source (without decorator or imports): the batch loop, or explain's
    (``pod_cycle_lines``)."""
    states = ", ".join(f"S{i}" for i in range(len(spec.plugins)))
    out: list[str] = [f"def schedule_loop({LOOP_ARGS}, {states}):"]
    out.extend(preamble_lines(spec))
    out.extend(_lines(4, """
for q in range(order.shape[0]):
    p = order[q]
"""))
    out.extend(pod_cycle_lines(spec, explain=explain))
    return "\n".join(out) + "\n"


def preamble_lines(spec: LoopSpec) -> list[str]:
    """Scratch arrays and per-node caches, allocated once per call (indent 4). Allocated here rather
    than passed in from Python: arrays the loop allocates are known not to overlap any other, and with
    that knowledge the compiled full scans run about 8% faster (measured), worth the reference counting
    (and the second of compile) it brings."""
    return _lines(4, """
N = nodes.allocatable.shape[0]
H = hist_plugin.shape[1]
M = max(N, 1)
feasible = np.empty(M, np.int64)
total = np.empty(M, np.int64)
scores = np.empty(M, np.int64)
stale = np.empty(M, np.int64)
mask = np.zeros(M, np.uint8)
allowed = np.zeros(M, np.uint8)
cand = np.empty(M, np.int64)
lp = np.empty(H, np.int64)
lc = np.empty(H, np.int64)
ln = np.empty(H, np.int64)
# Results cached across consecutive pods with the same signature: a node-local plugin's answer for a
# node changes only when that node changes. ``current`` says per node which caches hold answers for
# this signature and the node as it is (bits FILTER_CURRENT, SCORES_CURRENT of loop_source): cleared
# for a node at each of its changes (where its stamp moves on) and for all at a new signature. One
# byte per node, read in the full scan's hot loop, where two int64 stamps per cache cost a quarter of
# the scan's time.
node_stamp = np.zeros(M, np.int64)
clock = 0
current_sig = -1
current = np.zeros(M, np.uint8)
filter_code = np.zeros(M, np.int64)
filter_plugin = np.zeros(M, np.int64)
score_cache = np.zeros((max(ex_raw.shape[0], SCORE_SLOTS), M), np.int64)
static_cache = np.zeros(M, np.int64)
score_rows = np.empty((max(ex_raw.shape[0], SCORE_SLOTS), M), np.int64)
ties = np.zeros((M + 1, 3), np.uint64)
fill_tie_table(ties)
""".replace("SCORE_SLOTS", str(max(len(spec.score), 1)))) + _lines(4, "\n".join(
        # Each Score plugin's weight as a local, read once per call.
        f"w{slot} = weights[{slot}]" for slot in range(len(spec.score)))) + score_preamble_lines(spec)


@dataclass(frozen=True)
class CycleHooks:
    """Source a driver around the pod cycle adds at declared points. The replay's per-signature failure
    check (``schedkit.replay.incremental``) is built from these; the framework never imports a driver."""

    # Lines (indent 8) placed after PreFilter and its node narrowing, before the Filter pass; they may
    # end the cycle (``continue``).
    after_pre_filter: Callable[[LoopSpec], list[str]] | None = None
    # (condition, code, failed plugin): where the condition holds, a node's Filter verdict is read
    # from these expressions (of ``n``) instead of running the Filter plugins.
    known_verdict: tuple[str, str, str] | None = None
    # A statement run whenever node ``chosen`` changes (a pod assumed on it or forgotten from it).
    node_changed: str | None = None
    # The expression naming the pod itself (Reserve/Unreserve/Permit's ``pod``): in the batch loop the
    # ``pod_ids`` argument maps a row to it (its own row, or a reference replay's trace row).
    pod_identity: str = "pod_ids[p]"


# Node ``j`` of the rotated (and possibly narrowed) candidate list.
NODE_AT_J = """
# (first + j) % nc without a division per node (first < nc, j < nc): an integer division costs tens of
# cycles, about as much as a cached node's whole Filter and Score.
n = first + j
if n >= nc:
    n -= nc
if narrowed:
    n = cand[n]
"""


def fast_path_lines(spec: LoopSpec) -> str:
    """The Filter pass's inner loop over consecutive nodes whose answers are all cached, feasible and
    needed (batch and replay loops): such a node is only appended to the feasible list with its cached
    scores, as the full body below would do. Entered after a node the full body found so (a streak
    begins); the first node needing more leaves it for the full body. Kept apart so that the few values
    it uses stay in registers: in the full body they were reloaded from the stack around the Filter
    calls' code, and a full scan of 5,000 cached nodes ran a quarter slower. Entered on every node, it
    cost a replay of mostly changing nodes 6%: one extra test per node that breaks it."""
    both = FILTER_CURRENT | SCORES_CURRENT
    return f"""
if streak and not run_rest:
    while fc < to_find or score_all:
{indent(NODE_AT_J, 8)}
        u = np.uint64(n)
        if current[u] != {both} or filter_code[u] != 0:
            break
        processed += 1
        position = np.uint64(fc)
        feasible[position] = n
{indent(score_gather_lines(spec, current_only=True), 8)}
        fc += 1
        j += 1
        if j >= nc:
            break
    if j >= nc:
        break
"""


def pod_cycle_lines(spec: LoopSpec, hooks: CycleHooks | None = None, explain: bool = False) -> list[str]:
    """One scheduling cycle for pod row ``p`` (indent 8, inside the caller's loop over pods: ``continue``
    ends the cycle), with a driver's ``hooks``.

    ``explain`` generates explain's cycle: every node examined and recorded (``ex_*``), nothing reserved
    and no result cached across pods. Otherwise the cycle records nothing for explain: each loop holds
    only the code its runs take, which keeps its compile shorter."""
    hooks = hooks or CycleHooks()
    out: list[str] = []
    add = out.extend
    cache_filters = 0 if explain else spec.cache_filters()
    add(_lines(4, f"""
    err[{ERR_CURRENT_POD}] = p  # the pod a kernel exception interrupted (one store per pod)
    out_node[p] = -1
    out_nominated[p] = -1
    out_reject_plugin[p] = -1
    out_reject_code[p] = 0
    hist_len[p] = 0
    if N == 0:
        continue
    narrowed = False
    narrow_bits = 0
    reject_plugin = -1
    reject_code = 0
    state_error = -1
"""))
    if not explain:
        add(_lines(8, """
use_cache = sig[p] >= 0
if not use_cache or sig[p] != current_sig:
    # A pod without a signature clears the caches too, so it reads no answer from them (its own
    # answers go in as usual: the next pod clears them again, its signature differing from -1).
    current[:] = 0
    current_sig = sig[p]
"""))
    for i in spec.filter:
        add(_lines(8, f"run_f{i} = True"))
    for i in spec.pre_filter:
        skip = f"run_f{i} = False" if i in spec.filter else "pass"
        call = indent(call_kernel(spec, i, "pre_filter", f"nodes, pods, p, S{i}, mask", "r"), 4)
        add(_lines(8, f"""
if reject_plugin < 0:
{call}
    if r == -1:
        {skip}
    elif r == -2:
        narrow_bits |= 1 << {i}
        if not narrowed:
            for n in range(N):
                allowed[n] = mask[n]
            narrowed = True
        else:
            for n in range(N):
                allowed[n] = allowed[n] & mask[n]
    elif r != 0:
        reject_plugin = {i}
        reject_code = r
"""))
    add(_lines(8, """
if reject_plugin >= 0:
    out_reject_plugin[p] = reject_plugin
    out_reject_code[p] = reject_code
    continue
out_reject_code[p] = narrow_bits
nc = N
if narrowed:
    nc = 0
    for n in range(N):
        if allowed[n] != 0:
            cand[nc] = n
            nc += 1
    if nc == 0:
        out_reject_plugin[p] = -2
        continue
"""))
    if hooks.after_pre_filter:
        add(hooks.after_pre_filter(spec))
    cached, rest = spec.filter[:cache_filters], spec.filter[cache_filters:]
    run_rest = " or ".join(f"run_f{i}" for i in rest) or "False"
    add(_lines(8, f"""
to_find = num_feasible_nodes_to_find(percentage, nc)
run_rest = {run_rest}
if find_one:
    to_find = 1
fc = 0
stale_count = 0
hl = 0
processed = 0
first = start[0] % nc
streak = False  # the last node had all its answers cached: try the fast path from the next one
j = -1
while True:
    j += 1
    if j >= nc:
        break
"""))
    if not explain and cache_filters:
        add(_lines(12, fast_path_lines(spec)))
    add(_lines(12, NODE_AT_J + "code = 0\nfailed = -1" + ("" if explain else "\nstreak = False")))
    # Explain examines every node (those past numFeasibleNodesToFind are shown, not counted).
    add(_lines(12, "if fc < to_find or score_all:\n    processed += 1" if explain else
                   "if fc >= to_find and not score_all:\n    break\nprocessed += 1\n"
                   "# Indexing the loop's own arrays with an unsigned copy of the node: numba adds a negative-index\n"
                   "# fix-up to every signed index, and in this loop that was an eighth of a full scan's time.\n"
                   "u = np.uint64(n)\n"
                   "known = current[u]  # which of its caches hold answers (none for a pod without signature)"))
    def filter_block(plugin_ids: list[int]) -> list[str]:
        lines: list[str] = []
        for i in plugin_ids:
            call = filter_call(spec, i, 4)
            lines.extend(_lines(0, f"""
if code == 0 and run_f{i}:
{call}
    if code != 0:
        failed = {i}
"""))
        return lines

    # The leading run of node-local filter plugins is cached per node; the rest run every time.
    section: list[str] = []
    if cached:
        section += _lines(0, f"""
if known & {FILTER_CURRENT}:
    code = filter_code[u]
    if code != 0:
        failed = filter_plugin[u]
else:
""")
        section += ["    " + line if line else "" for line in filter_block(cached)]
        section += _lines(4, f"""
current[u] = known | {FILTER_CURRENT}
filter_code[u] = code
filter_plugin[u] = failed
""")
    if rest:
        # The uncached plugins behind one flag per pod: in a full scan of cached nodes each flag tested
        # per node is one more value held in a register or reloaded.
        section += _lines(0, "if code == 0 and run_rest:")
        section += ["    " + line if line else "" for line in filter_block(rest)]
    if not section:  # a profile without Filter plugins
        section = ["pass"]
    if hooks.known_verdict:
        condition, known_code, known_failed = hooks.known_verdict
        add(_lines(12, f"""
if {condition}:
    code = {known_code}
    failed = {known_failed}
else:
"""))
        add([" " * 16 + line if line else "" for line in section])
    else:
        add([" " * 12 + line if line else "" for line in section])
    if spec.filter_state_missing:
        add(_lines(12, f"""
if code == {MISSING_STATE} and state_error < 0:
    state_error = failed
"""))
    if explain:
        add(_lines(12, """
ex_fail_plugin[n] = failed
ex_fail_code[n] = code
if code != 0:
    ex_state[n] = 1
elif fc >= to_find and not score_all:
    ex_state[n] = 3
else:
    ex_state[n] = 2
"""))
    add(_lines(12, """
if code == 0:
    if fc < to_find or score_all:
        position = np.uint64(fc)
        feasible[position] = n
""" + ("" if explain else indent(score_gather_lines(spec), 8) + "\n"
       + indent(f"streak = known == {FILTER_CURRENT | SCORES_CURRENT}", 8)) + """
        fc += 1
elif fc < to_find or score_all:
    if hl >= 0:
        seen = hl
        hl = hist_add(lp, lc, ln, hl, failed, code)
        if hl < 0:
            err[0] = 2
            return
"""))
    # A (plugin, code) pair new to this pod's histogram: checked once, not on every failing node.
    check = unknown_filter_code(spec, 4)
    if check:
        add(_lines(20, "if hl > seen:\n" + check))
    if not explain:
        add(_lines(8, "start[0] = (start[0] + processed) % N"))
    add(_lines(8, """
chosen = -1
if fc == 1 and not score_all:  # schedule_one.go: one feasible node is chosen without scoring
    chosen = feasible[0]
"""))
    if spec.score_state_missing:
        # RunScorePlugins: the first Score plugin (in order) without its PreScore state fails the cycle.
        add(_lines(8, f"""
elif fc >= 1:
    out_reject_plugin[p] = {spec.score_state_missing[0]}
    out_reject_code[p] = {MISSING_STATE}
"""))
    else:
        out.extend(score_lines(spec, explain))
    add(_lines(8, f"""
if chosen < 0 and out_reject_code[p] != {MISSING_STATE}:
    for k in range(hl):
        hist_plugin[p, k] = lp[k]
        hist_code[p, k] = lc[k]
        hist_count[p, k] = ln[k]
    hist_len[p] = hl
"""))
    # An Error status (a Filter error is in the histogram, no node passed) runs no PostFilter.
    for i in spec.post_filter:
        call = indent(call_kernel(spec, i, "post_filter", f"nodes, pods, p, S{i}", "out_nominated[p]"), 4)
        add(_lines(8, f"""
if chosen < 0 and out_nominated[p] < 0 and state_error < 0 and out_reject_code[p] != {MISSING_STATE}:
{call}
"""))
    if explain:  # nothing is reserved
        add(_lines(8, "out_node[p] = chosen"))
        return out
    add(_lines(8, f"""
if chosen >= 0:
    assume(nodes, pods, p, chosen, 1)
{indent(node_changed("chosen"), 4)}
"""))
    if hooks.node_changed:
        add(_lines(12, hooks.node_changed))
    identity = hooks.pod_identity
    for i in spec.reserve:
        add(_lines(12, call_kernel(spec, i, "reserve", reserve_args(spec, i, "reserve", "p", "chosen", identity),
                                   node="chosen")))
    for i in spec.permit:
        undo = [call_kernel(spec, j, "unreserve", reserve_args(spec, j, "unreserve", "p", "chosen", identity),
                            node="chosen") for j in reversed(spec.reserve)]
        call = indent(call_kernel(spec, i, "permit", reserve_args(spec, i, "permit", "p", "chosen", identity), "r",
                                  "chosen"), 4)
        add(_lines(12, f"""
if chosen >= 0:
{call}
    if r != 0:
"""))
        add(_lines(20, "\n".join(undo + [
            "assume(nodes, pods, p, chosen, -1)",
            node_changed("chosen"),
            *([hooks.node_changed] if hooks.node_changed else []),
            f"out_reject_plugin[p] = {i}",
            "out_reject_code[p] = -r",
            "chosen = -1",
        ])))
    add(_lines(8, "out_node[p] = chosen"))
    return out
