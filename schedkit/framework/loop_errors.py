"""What the generated loop reports instead of raising, and where a kernel that raised was called.

Compiled code cannot build a message naming the plugin, pod and node, so the loop records them in its
``err`` array and returns; Python words the error (loop_io.LoopOutputs.raise_loop_error). The slots and
codes of that array live here, with the reading of a plain-Python loop's traceback that names the
kernel call an exception came out of.
"""

from __future__ import annotations

import linecache
import re
from dataclasses import dataclass

from .plugin import KERNEL_SIGNATURES

# What the loop reports in ``err`` instead of raising: compiled code cannot build a message naming the
# plugin, pod and node, so it records them and returns; Python words the error (loop_io.LoopOutputs.raise_loop_error).
# A kernel that raises is not caught in the loop (numba's try/except around each call made the default
# profile's first compile several times slower); the loop keeps the current pod's row in
# err[ERR_CURRENT_POD], and Python locates the kernel (locate_kernel_exception), running that pod's
# cycle again as Python when the loop was compiled.
ERR_SCORE_RANGE = 1
ERR_HISTOGRAM_FULL = 2
ERR_UNKNOWN_CODE = 3  # a failure code missing from the plugin's reason_table
ERR_SCORE_NOT_INT = 4  # a Score kernel returned a float (an int64 array would truncate it silently)
# err[ERR_KIND]: one of the above; then the plugin's index, the kernel (KERNEL_IDS), the pod's row,
# the node's row (-1 for kernels without one) and the value (score or code); err[ERR_CURRENT_POD]: the
# pod whose cycle is running.
ERR_KIND, ERR_PLUGIN, ERR_KERNEL, ERR_POD, ERR_NODE, ERR_VALUE, ERR_CURRENT_POD = range(7)
ERR_SLOTS = 7
KERNEL_IDS = {name: k for k, name in enumerate(KERNEL_SIGNATURES)}
KERNEL_NAMES = list(KERNEL_SIGNATURES)

# The failure code (in the histogram and ``out_reject_code``) of a plugin whose Filter or Score ran without
# the state its PreFilter/PreScore writes, those not being enabled: upstream's plugin returns an Error
# status and the cycle fails with it (Plugin.missing_pre_filter_state / missing_pre_score_state).
MISSING_STATE = -(1 << 62)


PYTHON_LOOP_FILE = "<schedkit loop (python) "
# Kernels called per node: their fourth argument is the node's row.
NODE_KERNELS = ("filter", "score", "reserve", "unreserve", "permit")
_CALL = re.compile(r"\bK(\d+)_([a-z_]+)\((.*)\)")


@dataclass
class KernelSite:
    """Where a kernel raised: the plugin's index in the profile, the kernel, the pod's and node's rows."""

    plugin: int
    kernel: str
    pod: int
    node: int | None


def locate_kernel_exception(exc: BaseException) -> KernelSite | None:
    """The kernel call of a plain-Python loop that ``exc`` came out of, read from the generated line
    and the loop frame's variables; None when it did not come out of a kernel (a framework bug)."""
    tb = exc.__traceback__
    site = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.startswith(PYTHON_LOOP_FILE):
            site = None
            match = _CALL.search(linecache.getline(frame.f_code.co_filename, tb.tb_lineno))
            if match:
                args = [arg.strip() for arg in match.group(3).split(",")]
                kernel = match.group(2)
                values = frame.f_locals
                node = int(values[args[3]]) if kernel in NODE_KERNELS and args[3] in values else None
                site = KernelSite(int(match.group(1)), kernel, int(values[args[2]]), node)
        tb = tb.tb_next
    return site
