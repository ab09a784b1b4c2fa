"""Source text of the generated loops: indentation, kernel calls, error flags (framework.loop builds the
cycle from these; the replay's driver and its incremental check use them too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .loop_errors import ERR_SCORE_NOT_INT, ERR_UNKNOWN_CODE, KERNEL_IDS, MISSING_STATE
from .plugin import Plugin, takes_pod

if TYPE_CHECKING:
    from .loop import LoopSpec


# Bits of the loops' ``current`` byte per node: which of its caches hold answers for the pod's signature
# and the node as it is now.
FILTER_CURRENT = 1
SCORES_CURRENT = 2


def node_changed(node: str) -> str:
    """Source recording that node ``node`` changed (a pod assumed, forgotten or departed): its stamp moves
    on (the replay's signature slots compare stamps) and none of its cached answers is current."""
    return f"clock += 1\nnode_stamp[{node}] = clock\ncurrent[{node}] = 0"


def _lines(indent: int, text: str) -> list[str]:
    pad = " " * indent
    return [pad + line if line else "" for line in text.strip("\n").splitlines()]


def flag_error(kind: int, plugin: int | str, kernel: str, node: str = "-1", value: str = "0", pod: str = "p",
               stop: bool = True) -> str:
    """Source recording an error in ``err`` (``record_error``); ``stop`` leaves the loop at once. Without
    it the loop goes on (harmlessly: the error is raised when it returns; only the first one is kept) and
    the compiled loop has one exit path less: each costs compile time, numba releasing every live array
    on it."""
    call = (f"record_error(err, {kind}, {plugin}, {KERNEL_IDS[kernel]}, {pod}, {node}, {value}, "
            f"{'False' if stop else 'True'})")
    return f"{call}\nreturn" if stop else call


def call_kernel(spec: LoopSpec, i: int, kernel: str, args: str, target: str | None = None, node: str = "-1",
                pod: str = "p") -> str:
    """Source calling plugin ``i``'s ``kernel`` (one call per line, ``K<i>_<kernel>(...)``: an exception
    it raises is located from that line, see ``locate_kernel_exception``) and, for a plugin decoding its
    codes with ``reason_table``, flagging a PreFilter or Permit code missing from that table (once per
    pod). Filter codes are checked when a (plugin, code) pair first enters the pod's failure histogram
    (``unknown_filter_code``): a check beside every Filter call made the hot node loop 10-17% slower."""
    call = f"K{i}_{kernel}({args})"
    lines = [f"{target} = {call}" if target else call]
    codes = known_codes(spec.plugins[i])
    if target and kernel in ("pre_filter", "permit") and codes is not None:
        allowed = [0, -1, -2] if kernel == "pre_filter" else [0]
        test = " and ".join(f"{target} != {code}" for code in sorted(set(allowed) | codes))
        lines += [f"if {test}:"]
        lines += _lines(4, flag_error(ERR_UNKNOWN_CODE, i, kernel, node, target, pod, stop=False))
    return "\n".join(lines)


def unknown_filter_code(spec: LoopSpec, width: int) -> str:
    """Source flagging a failing node's Filter ``code`` that plugin ``failed`` cannot decode with its
    ``reason_table`` (indented by ``width``; run where a failure is first recorded, never on a passing
    node)."""
    tests = []
    for i in spec.filter:
        codes = known_codes(spec.plugins[i])
        if codes is None or i in spec.filter_state_missing:  # MISSING_STATE is the framework's own code
            continue
        keyword = "elif" if tests else "if"
        tests += [f"{keyword} failed == {i}:",
                  "    bad = " + " and ".join(f"code != {code}" for code in sorted(codes | {0}))]
    if not tests:
        return ""
    lines = ["bad = False", *tests, "if bad:",
             *_lines(4, flag_error(ERR_UNKNOWN_CODE, "failed", "filter", "n", "code", stop=False))]
    return indent("\n".join(lines), width)


def filter_call(spec: LoopSpec, i: int, width: int) -> str:
    """Source setting ``code`` to Filter plugin ``i``'s verdict for pod ``p`` on node ``n`` (indented by
    ``width``): MISSING_STATE, without calling the kernel, when its PreFilter is not enabled."""
    if i in spec.filter_state_missing:
        return indent(f"code = {MISSING_STATE}", width)
    return indent(call_kernel(spec, i, "filter", f"nodes, pods, p, n, S{i}", "code", "n"), width)


def reserve_args(spec: LoopSpec, i: int, kernel: str, row: str, node: str, identity: str) -> str:
    """Arguments of plugin ``i``'s Reserve/Unreserve/Permit call: with the pod's identity when the kernel
    declares ``pod``."""
    args = f"nodes, pods, {row}, {node}, S{i}"
    return args + f", {identity}" if takes_pod(getattr(spec.plugins[i].kernels, kernel)) else args


def call_score(i: int, args: str, target: str, node: str) -> str:
    """Source calling plugin ``i``'s Score kernel into ``target`` and flagging a result that is not an
    integer (``integral`` is a compile-time constant for compiled kernels: no cost per call)."""
    return "\n".join([
        f"{target} = K{i}_score({args})",
        f"if not integral({target}):",
        *_lines(4, flag_error(ERR_SCORE_NOT_INT, i, "score", node, stop=False)),
    ])


def indent(text: str, width: int) -> str:
    """``text`` shifted right by ``width`` spaces: for generated code spliced into a template."""
    return "\n".join(_lines(width, text))


def known_codes(plugin: Plugin) -> set[int] | None:
    """The failure codes a plugin can decode, when it decodes them with ``reason_table`` (None when it
    overrides ``reasons``: any code may be valid then)."""
    if type(plugin).reasons is not Plugin.reasons:
        return None
    return {int(code) for code in plugin.reason_table}
