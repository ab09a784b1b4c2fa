"""PreScore, Score, NormalizeScore, weights and selectHost in the generated pod cycle (framework.loop),
with the node-local plugins' scores cached per node across same-signature pods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .loop_errors import ERR_SCORE_RANGE
from .loop_source import SCORES_CURRENT, _lines, call_kernel, call_score, flag_error, indent

if TYPE_CHECKING:
    from .loop import LoopSpec


def score_lines(spec: LoopSpec, explain: bool = False) -> list[str]:
    """PreScore, Score, NormalizeScore, weights and selectHost for a cycle with two or more feasible nodes
    (indent 8: an ``elif`` of the cycle's choice)."""
    return _explain_score_lines(spec) if explain else _cached_score_lines(spec)


def _pre_score_lines(spec: LoopSpec) -> list[str]:
    out: list[str] = []
    score_ids = set(spec.score)
    for i in spec.pre_score:
        out += _lines(12, call_kernel(spec, i, "pre_score", f"nodes, pods, p, feasible, fc, S{i}", "r"))
        if i in score_ids:
            out += _lines(12, f"run_s{i} = r != -1")
    for i in spec.score_computes_state:
        out += _lines(12, call_kernel(spec, i, "pre_score", f"nodes, pods, p, feasible, fc, S{i}", "r"))
        out += _lines(12, f"zero_s{i} = r == -1")
    return out


def _score_into(spec: LoopSpec, i: int, width: int) -> str:
    """Plugin i's score of node ``n`` into ``sc`` (0 where its own PreScore, run as part of Score, skipped)."""
    call = call_score(i, f"nodes, pods, p, n, S{i}", "sc", "n")
    if i in spec.score_computes_state:
        call = "\n".join([f"if zero_s{i}:", "    sc = 0", "else:", indent(call, 4)])
    return indent(call, width)


def _guard(spec: LoopSpec, i: int) -> str:
    return f"run_s{i}" if i in spec.pre_score else "True"


def _static(spec: LoopSpec) -> list[tuple[int, int]]:
    """(slot, plugin) of the node-local Score plugins without NormalizeScore: no other node is needed to
    finish a node's score, so their weighted sum is computed (or reused from the cache) in one pass."""
    cached = spec.cached_scores()
    return [(slot, i) for slot, i in enumerate(spec.score)
            if i in cached and spec.plugins[i].kernels.normalize is None]


def _static_score_lines(spec: LoopSpec, slot: int, i: int, explain: bool = False) -> list[str]:
    """Static plugin i's weighted score of node ``n`` added to ``acc`` (indent 16), range-checked; explain
    records it as raw and normalized score."""
    call = _score_into(spec, i, 4)
    out_of_range = indent(flag_error(ERR_SCORE_RANGE, i, "score", "n", "sc"), 8)
    record = f"\n    ex_raw[{slot}, n] = sc\n    ex_norm[{slot}, n] = sc" if explain else ""
    return _lines(16, f"""
if {_guard(spec, i)}:
{call}
    if sc < 0 or sc > 100:
{out_of_range}
    acc += w{slot} * sc{record}
""")


def score_gather_lines(spec: LoopSpec, current_only: bool = False) -> str:
    """Source run in the Filter pass as node ``n`` (unsigned: ``u``) joins the feasible list at index ``fc``
    (unsigned: ``position``) in the batch and replay loops: its cached scores when they are current (its
    SCORES_CURRENT bit: computed for this signature since the node last changed), else it goes on the
    stale list that Score kernels run for. A plugin's PreScore has not run yet at this point: its scores
    are gathered when it ran for the last pod scored (``gather_s``), the same signature's (a node's
    scores are current only within one signature). ``current_only``: the lines for a node known current."""
    static = _static(spec)
    static_ids = {i for _, i in static}
    cached = spec.cached_scores()
    lines = [f"total[position] = {'static_cache[u]' if static else '0'}"]
    for slot, i in enumerate(spec.score):
        if i in cached and i not in static_ids:
            gather = f"score_rows[{slot}, position] = score_cache[{slot}, u]"
            lines += [f"if gather_s{i}:", f"    {gather}"] if i in spec.pre_score else [gather]
    current = "\n".join(lines)
    if current_only:  # the caller knows the scores are current
        return current
    return f"""
if known & {SCORES_CURRENT}:
{indent(current, 4)}
else:
    total[position] = 0
    stale[stale_count] = fc
    stale_count += 1
"""


def score_preamble_lines(spec: LoopSpec) -> list[str]:
    """The batch and replay loops' locals for ``score_gather_lines`` (indent 4)."""
    return _lines(4, "\n".join(f"gather_s{i} = True" for i in spec.score if i in spec.pre_score))


def _cached_score_lines(spec: LoopSpec) -> list[str]:
    """The batch and replay loops' scoring, after the Filter pass gathered the current nodes' cached
    scores and listed the stale ones (``score_gather_lines``): Score kernels run for the stale nodes only
    (node-local plugins) or for every feasible node (the others). The order of kernel calls is the
    uncached order with the current nodes left out, so the first error a kernel reports is the same.
    A full scan of 5,000 cached nodes was ten passes over the nodes; it is four now besides the Filter
    pass, two of them the normalization's."""
    out: list[str] = []
    add = out.extend
    cached = spec.cached_scores()
    static = _static(spec)
    static_ids = {i for _, i in static}
    add(_lines(8, "elif fc >= 1:"))
    add(_pre_score_lines(spec))
    add(_lines(12, "\n".join(f"gather_s{i} = run_s{i}" for i in spec.score if i in spec.pre_score)))
    if static:
        add(_lines(12, """
for s in range(stale_count):
    j = stale[s]
    n = feasible[j]
    acc = 0
"""))
        for slot, i in static:
            add(_static_score_lines(spec, slot, i))
        add(_lines(16, "total[j] = acc\nstatic_cache[n] = acc"))
    for slot, i in enumerate(spec.score):
        if i in static_ids:
            continue
        has_normalize = spec.plugins[i].kernels.normalize is not None
        row = f"score_rows[{slot}]" if i in cached else "scores"
        normalize = (call_kernel(spec, i, "normalize", f"nodes, pods, p, feasible, {row}, fc, S{i}")
                     if has_normalize else "pass")
        out_of_range = indent(flag_error(ERR_SCORE_RANGE, i, "normalize" if has_normalize else "score",
                                         "feasible[j]", "scores[j]" if i not in cached else f"score_rows[{slot}, j]"),
                              8)
        if i in cached:
            call = _score_into(spec, i, 4)
            compute = f"""
for s in range(stale_count):
    j = stale[s]
    n = feasible[j]
{call}
    score_rows[{slot}, j] = sc
    score_cache[{slot}, n] = sc
"""
            value = f"score_rows[{slot}, j]"
        else:
            call = _score_into(spec, i, 4)
            compute = f"""
for j in range(fc):
    n = feasible[j]
{call}
    scores[j] = sc
"""
            value = "scores[j]"
        add(_lines(12, f"if {_guard(spec, i)}:"))
        # Weighted in a loop without an exit (vectorized); the range is checked there with a flag, and
        # the first node out of range found again only when there is one.
        add(_lines(16, compute + f"""
{normalize}
outside = False
for j in range(fc):
    value = {value}
    outside |= (value < 0) | (value > 100)
    total[j] += w{slot} * value
if outside:
    for j in range(fc):
        if {value} < 0 or {value} > 100:
{indent(out_of_range, 4)}
"""))
    add(_lines(12, f"""
if use_cache:
    for s in range(stale_count):
        current[feasible[stale[s]]] |= {SCORES_CURRENT}
chosen = select_host(feasible, total, fc, rng, ties)
"""))
    return out


def _explain_score_lines(spec: LoopSpec) -> list[str]:
    """Explain's scoring: every score recorded, none cached (node-local plugins are still grouped as in
    the other loops, so scores and errors come in the same order)."""
    out: list[str] = []
    add = out.extend
    add(_lines(8, """
elif fc >= 1:
    for j in range(fc):
        total[j] = 0
"""))
    add(_pre_score_lines(spec))
    static = _static(spec)
    static_ids = {i for _, i in static}
    if static:
        add(_lines(12, """
for j in range(fc):
    n = feasible[j]
    acc = 0
"""))
        for slot, i in static:
            add(_static_score_lines(spec, slot, i, explain=True))
        add(_lines(16, "total[j] = acc"))
        for slot, i in static:
            if i in spec.pre_score:
                add(_lines(12, f"""
if not run_s{i}:
    ex_skip[{slot}] = 1
"""))
    for slot, i in enumerate(spec.score):
        if i in static_ids:
            continue
        has_normalize = spec.plugins[i].kernels.normalize is not None
        normalize = (call_kernel(spec, i, "normalize", f"nodes, pods, p, feasible, scores, fc, S{i}")
                     if has_normalize else "pass")
        out_of_range = indent(flag_error(ERR_SCORE_RANGE, i, "normalize" if has_normalize else "score",
                                         "feasible[j]", "scores[j]"), 8)
        call = _score_into(spec, i, 4)
        add(_lines(12, f"if {_guard(spec, i)}:"))
        add(_lines(16, f"""
for j in range(fc):
    n = feasible[j]
{call}
    scores[j] = sc
for j in range(fc):
    ex_raw[{slot}, feasible[j]] = scores[j]
{normalize}
for j in range(fc):
    if scores[j] < 0 or scores[j] > 100:
{out_of_range}
    total[j] += w{slot} * scores[j]
for j in range(fc):
    ex_norm[{slot}, feasible[j]] = scores[j]
"""))
        add(_lines(12, f"""
else:
    ex_skip[{slot}] = 1
"""))
    add(_lines(12, """
for j in range(fc):
    ex_total[feasible[j]] = total[j]
chosen = select_host(feasible, total, fc, rng, ties)
"""))
    return out
