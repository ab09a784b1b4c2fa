"""What a generated loop is given and what it writes: the output arrays (per pod; per node when
explaining) with the errors a loop flags instead of raising, and the inputs kept to name the pod, the
node and the kernel of an error, or to run the failing cycle again as Python."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import PluginError
from .loop import HISTOGRAM_WIDTH
from .loop_errors import (ERR_CURRENT_POD, ERR_HISTOGRAM_FULL, ERR_KERNEL, ERR_KIND, ERR_NODE, ERR_PLUGIN, ERR_POD,
                          ERR_SCORE_NOT_INT, ERR_SCORE_RANGE, ERR_SLOTS, ERR_UNKNOWN_CODE, ERR_VALUE, KERNEL_NAMES,
                          locate_kernel_exception)
from .plugin import kernel_error, python_function
from .profile import Profile


class LoopOutputs:
    """Arrays the loop writes; explain buffers are sized 0 unless explaining."""

    def __init__(self, num_pods: int, num_nodes: int, num_scores: int, explain: bool):
        self.node = np.full(num_pods, -1, dtype=np.int64)
        self.nominated = np.full(num_pods, -1, dtype=np.int64)
        self.reject_plugin = np.full(num_pods, -1, dtype=np.int64)
        self.reject_code = np.zeros(num_pods, dtype=np.int64)
        self.hist_plugin = np.zeros((num_pods, HISTOGRAM_WIDTH), dtype=np.int64)
        self.hist_code = np.zeros((num_pods, HISTOGRAM_WIDTH), dtype=np.int64)
        self.hist_count = np.zeros((num_pods, HISTOGRAM_WIDTH), dtype=np.int64)
        self.hist_len = np.zeros(num_pods, dtype=np.int64)
        n = num_nodes if explain else 0
        s = num_scores if explain else 0
        self.ex_fail_plugin = np.full(n, -1, dtype=np.int64)
        self.ex_fail_code = np.zeros(n, dtype=np.int64)
        self.ex_state = np.zeros(n, dtype=np.int64)
        self.ex_raw = np.zeros((s, n), dtype=np.int64)
        self.ex_norm = np.zeros((s, n), dtype=np.int64)
        self.ex_skip = np.zeros(s, dtype=np.int64)
        self.ex_total = np.zeros(n, dtype=np.int64)
        self.err = np.zeros(ERR_SLOTS, dtype=np.int64)

    def args(self) -> tuple:
        return (
            self.node, self.nominated, self.reject_plugin, self.reject_code, self.hist_plugin, self.hist_code,
            self.hist_count, self.hist_len, self.ex_fail_plugin, self.ex_fail_code, self.ex_state, self.ex_raw,
            self.ex_norm, self.ex_skip, self.ex_total, self.err,
        )

    def raise_loop_error(self, profile: Profile, inputs: "LoopInputs") -> None:
        """What a loop flagged in ``err`` instead of raising, as one line naming the plugin, the kernel,
        the pod and the node (score out of range: as upstream words it)."""
        kind = int(self.err[ERR_KIND])
        if kind == 0:
            return
        self.err[ERR_KIND] = 0  # reported once: the arrays may be reused
        if kind == ERR_HISTOGRAM_FULL:
            raise PluginError(f"more than {HISTOGRAM_WIDTH} distinct filter failure codes for one pod")
        plugin = profile.plugins[int(self.err[ERR_PLUGIN])]
        kernel = KERNEL_NAMES[int(self.err[ERR_KERNEL])]
        row, node, value = int(self.err[ERR_POD]), int(self.err[ERR_NODE]), int(self.err[ERR_VALUE])
        pod, node_name = inputs.pod_keys[row], inputs.node_names[node] if node >= 0 else None
        if kind == ERR_SCORE_RANGE:
            where = f"pod {pod}" + (f", node {node_name}" if node_name else "")
            raise PluginError(
                f'applying score defaultWeights on Score plugins: plugin "{plugin.name}" returns an invalid score '
                f"{value}, it should in the range of [0, 100] after normalizing ({where})")
        if kind == ERR_UNKNOWN_CODE:
            raise kernel_error(plugin.name, kernel, f"returned failure code {value}, which is not in its "
                               f"reason_table {sorted(plugin.reason_table)}", pod, node_name)
        if kind == ERR_SCORE_NOT_INT:
            result = inputs.score_again(int(self.err[ERR_PLUGIN]), profile, row, node)
            raise kernel_error(plugin.name, kernel, f"returned {result!r}, a {type(result).__name__}: Score "
                               "kernels must return an integer", pod, node_name)

    def run(self, profile: Profile, inputs: "LoopInputs", loop_call: Callable[[], Any]) -> Any:
        """``loop_call()`` (a loop over these outputs), with a kernel's exception and what the loop
        flagged in ``err`` turned into one-line errors; returns what the loop returned."""
        try:
            result = loop_call()
        except Exception as exc:  # a plugin's kernel raised: say which, on what
            error = self.kernel_exception(profile, inputs, exc)
            if error is None:
                raise
            raise error  # its cause: the kernel's own exception, with the kernel's line when run as Python
        self.raise_loop_error(profile, inputs)
        return result

    def kernel_exception(self, profile: Profile, inputs: "LoopInputs", exc: Exception) -> Exception | None:
        """The one-line error for an exception a kernel raised in the loop; None when it came from
        elsewhere. A compiled loop leaves no frames to read: the interrupted pod's cycle (its row is in
        ``err``) runs again as Python, on the state as the loop left it, to raise it where it can be seen."""
        site = locate_kernel_exception(exc)
        if site is None and profile.compiled and inputs.settings:
            try:
                inputs.run_python(profile, self, int(self.err[ERR_CURRENT_POD]))
            except Exception as again:  # the same kernel raising again, now in Python
                site, exc = locate_kernel_exception(again), again
            if site is None:  # raised outside a pod's cycle (a replay's departures): only Python can tell
                error = PluginError(f"a plugin's kernel raised {type(exc).__name__}: {exc}; run with "
                                    "NUMBA_DISABLE_JIT=1 to see which plugin, kernel, pod and node")
                error.__cause__ = exc
                return error
        if site is None:
            return None  # not from a kernel: the framework's own bug, with its traceback
        plugin = profile.plugins[site.plugin]
        error = kernel_error(plugin.name, site.kernel, f"raised {type(exc).__name__}: {exc}",
                             inputs.pod_keys[site.pod], inputs.node_names[site.node] if site.node is not None else None)
        error.__cause__ = exc
        return error


@dataclass
class LoopInputs:
    """What a loop ran on, to name the pod and node of an error and to call the failing kernel again."""

    nodes: object  # NodeColumns
    pods: object  # PodColumns
    states: list[tuple]  # per plugin index in the profile
    pod_keys: list[str]  # per pod row
    node_names: list[str]
    settings: tuple = ()  # the batch loop's arguments from ``percentage`` to ``score_all`` (LOOP_ARGS)
    pod_ids: np.ndarray | None = None  # the batch loop's ``pod_ids``
    explain: bool = False  # explain's loop ran (framework.loop.pod_cycle_lines)

    def run_python(self, profile: Profile, outputs: "LoopOutputs", row: int) -> None:
        """One pod's cycle in the plain-Python batch loop (no signature caches, copies of the random
        stream and start index)."""
        percentage, weights, find_one, rng, start, *flags = self.settings
        loop = profile.loop(self.explain, python=True)
        sig = np.full(self.pods.requests.shape[0], -1, dtype=np.int64)
        pod_ids = self.pod_ids if self.pod_ids is not None else np.arange(sig.shape[0], dtype=np.int64)
        loop(self.nodes, self.pods, np.array([row], dtype=np.int64), percentage, weights, find_one, rng.copy(),
             start.copy(), *flags, *outputs.args(), sig, pod_ids, *self.states)

    def score_again(self, plugin: int, profile: Profile, row: int, node: int):
        """Plugin ``plugin``'s Score for (pod, node), from the kernel's Python version: what the loop
        flagged as not an integer, to show it."""
        kernel = python_function(profile.plugins[plugin].kernels.score)
        return kernel(self.nodes, self.pods, row, node, self.states[plugin])
