"""PreScore, Score, NormalizeScore, weights and selectHost in the generated pod cycle (framework.loop),
with the node-local plugins' scores cached per node across same-signature pods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .loop_errors import ERR_SCORE_RANGE
from .loop_source import _lines, call_kernel, call_score, flag_error, indent

if TYPE_CHECKING:
    from .loop import LoopSpec


def score_lines(spec: LoopSpec, explain: bool = False) -> list[str]:
    """PreScore, Score, NormalizeScore, weights and selectHost for a cycle with two or more feasible nodes
    (indent 8: an ``elif`` of the cycle's choice). ``explain``: every score recorded, none cached (node-local
    plugins are still grouped as in the other loops, so scores and errors come in the same order)."""
    out: list[str] = []
    add = out.extend
    cached_scores = spec.cached_scores()

    def recording(text: str) -> str:  # explain's lines: only in explain's loop
        return text if explain else ""

    def caching(text: str) -> str:  # the signature caches' lines: never in explain's loop
        return "" if explain else text

    add(_lines(8, """
elif fc >= 1:
    for j in range(fc):
        total[j] = 0
"""))
    if not explain:
        add(_lines(12, """
for j in range(fc):
    n = feasible[j]
    fresh[j] = use_cache and score_epoch[n] == epoch and score_stamp[n] == node_stamp[n]
"""))
    score_ids = set(spec.score)
    for i in spec.pre_score:
        add(_lines(12, call_kernel(spec, i, "pre_score", f"nodes, pods, p, feasible, fc, S{i}", "r")))
        if i in score_ids:
            add(_lines(12, f"run_s{i} = r != -1"))
    for i in spec.score_computes_state:
        add(_lines(12, call_kernel(spec, i, "pre_score", f"nodes, pods, p, feasible, fc, S{i}", "r")))
        add(_lines(12, f"zero_s{i} = r == -1"))

    def score_into(i: int, width: int) -> str:
        """Plugin i's score of node ``n`` into ``sc`` (0 where its own PreScore, run as part of Score, skipped)."""
        call = call_score(i, f"nodes, pods, p, n, S{i}", "sc", "n")
        if i in spec.score_computes_state:
            call = "\n".join([f"if zero_s{i}:", "    sc = 0", "else:", indent(call, 4)])
        return indent(call, width)

    # Node-local plugins without NormalizeScore need no other node to finish a node's score: their
    # weighted sum is computed (or reused from the cache) in one pass per node.
    static = [(slot, i) for slot, i in enumerate(spec.score)
              if i in cached_scores and spec.plugins[i].kernels.normalize is None]
    static_ids = {i for _, i in static}
    if static:
        add(_lines(12, """
for j in range(fc):
    n = feasible[j]
""" + caching("""
    if fresh[j]:
        total[j] = static_cache[n]
        continue
""") + """
    acc = 0
"""))
        for slot, i in static:
            guard = f"run_s{i}" if i in spec.pre_score else "True"
            call = score_into(i, 4)
            out_of_range = indent(flag_error(ERR_SCORE_RANGE, i, "score", "n", "sc"), 8)
            add(_lines(16, f"""
if {guard}:
{call}
    if sc < 0 or sc > 100:
{out_of_range}
    acc += w{slot} * sc
""" + recording(f"""
    ex_raw[{slot}, n] = sc
    ex_norm[{slot}, n] = sc
""")))
        add(_lines(16, "total[j] = acc" + caching("\nstatic_cache[n] = acc")))
        for slot, i in static:
            if i in spec.pre_score and explain:
                add(_lines(12, f"""
if not run_s{i}:
    ex_skip[{slot}] = 1
"""))
    for slot, i in enumerate(spec.score):
        if i in static_ids:
            continue
        guard = f"run_s{i}" if i in spec.pre_score else "True"
        has_normalize = spec.plugins[i].kernels.normalize is not None
        normalize = (call_kernel(spec, i, "normalize", f"nodes, pods, p, feasible, scores, fc, S{i}")
                     if has_normalize else "pass")
        out_of_range = indent(flag_error(ERR_SCORE_RANGE, i, "normalize" if has_normalize else "score",
                                         "feasible[j]", "scores[j]"), 8)
        if i in cached_scores and not explain:
            call = score_into(i, 8)
            compute = f"""
for j in range(fc):
    n = feasible[j]
    if fresh[j]:
        scores[j] = score_cache[{slot}, n]
    else:
{call}
        scores[j] = sc
        score_cache[{slot}, n] = sc
"""
        else:
            call = score_into(i, 4)
            compute = f"""
for j in range(fc):
    n = feasible[j]
{call}
    scores[j] = sc
"""
        add(_lines(12, f"if {guard}:"))
        add(_lines(16, compute))
        add(_lines(16, recording(f"""
for j in range(fc):
    ex_raw[{slot}, feasible[j]] = scores[j]
""") + f"""
{normalize}
for j in range(fc):
    if scores[j] < 0 or scores[j] > 100:
{out_of_range}
    total[j] += w{slot} * scores[j]
""" + recording(f"""
for j in range(fc):
    ex_norm[{slot}, feasible[j]] = scores[j]
""")))
        if explain:
            add(_lines(12, f"""
else:
    ex_skip[{slot}] = 1
"""))
    add(_lines(12, caching("""
if use_cache:
    for j in range(fc):
        n = feasible[j]
        score_epoch[n] = epoch
        score_stamp[n] = node_stamp[n]
""") + recording("""
for j in range(fc):
    ex_total[feasible[j]] = total[j]
""") + """
chosen = select_host(feasible, total, fc, rng)
"""))
    return out
