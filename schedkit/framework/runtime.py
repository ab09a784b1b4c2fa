"""Compiled helpers the scheduling loop calls: node sampling, host selection, accounting.

Sources: pkg/scheduler/schedule_one.go (``numFeasibleNodesToFind``, ``selectHost``) and
pkg/scheduler/framework/types.go (``NodeInfo.AddPod``). Every function here has a plain-Python twin
(``python_function``: ``.py_func``, or the function itself under NUMBA_DISABLE_JIT=1) that the Python
path of the loop uses, so both paths share one definition.
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import types
from numba.extending import overload

from .loop_errors import ERR_KERNEL, ERR_KIND, ERR_NODE, ERR_PLUGIN, ERR_POD, ERR_VALUE
from .plugin import integer_result, kernel, python_function

# schedule_one.go
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5

MASK64 = (1 << 64) - 1


@kernel
def num_feasible_nodes_to_find(percentage, num_all_nodes):
    """How many feasible nodes to look for before scoring (percentage 0 = upstream's adaptive rule)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    adaptive = percentage
    if adaptive <= 0:
        # Go's integer division: both operands are non-negative here, so // is the same.
        adaptive = 50 - num_all_nodes // 125
        if adaptive < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            adaptive = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    elif adaptive >= 100:
        return num_all_nodes
    num_nodes = num_all_nodes * adaptive // 100
    if num_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return MIN_FEASIBLE_NODES_TO_FIND
    return num_nodes


GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
# The loops' ``rng`` is uint64 [2]: [0] the splitmix64 state, [1] how selectHost breaks ties between nodes
# with the highest score. TIES_RANDOM: uniformly (upstream's reservoir sampling); TIES_FIRST: the first
# in feasible-list order, as the FGD paper's simulator does (its forked v1.20 scheduler: the published
# results are reproduced only so, see docs/fgd.md).
TIES_RANDOM, TIES_FIRST = 0, 1
TIES = {"random": TIES_RANDOM, "first": TIES_FIRST}


def new_rng(seed: int, ties: int = TIES_RANDOM) -> np.ndarray:
    return np.array([seed % 2**64, ties], dtype=np.uint64)


# splitmix64 wraps around 2**64 on purpose; compiled, it does so silently, and a plugin kernel drawing from
# ``rand_intn`` run as Python (explain on a small cluster) must not warn about it either.
warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning, __name__)


@kernel
def mix64(z):
    """splitmix64's output function of a state."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@kernel
def rand_intn(rng, n):
    """A uniform int in [0, n) from a splitmix64 stream kept in ``rng[0]`` (uint64).

    Upstream draws from Go's math/rand; no seed reproduces that stream, so schedkit uses its own seeded
    generator and the Python reference uses the same one (``python_rand_intn``).
    """
    z = rng[0] + GOLDEN_GAMMA
    rng[0] = z
    return np.int64(mix64(z) % np.uint64(n))


def python_rand_intn(rng, n):
    """``rand_intn`` in Python integers (numpy scalars would warn on the intended wrap-around)."""
    z = (int(rng[0]) + 0x9E3779B97F4A7C15) & MASK64
    rng[0] = z
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z ^= z >> 31
    return z % n


@kernel
def fill_tie_table(table):
    """Row n of ``table`` (uint64 [rows, 3]) lets ``draw_is_zero`` decide ``rand_intn(rng, n) == 0``
    without dividing: n = d * 2**k with d odd, and row n holds k, the inverse of d modulo 2**64 and
    floor((2**64 - 1) / d). A 64-bit division costs tens of cycles, and a full scan of identical nodes
    draws once per tied node: thousands of draws per pod."""
    one = np.uint64(1)
    for n in range(1, table.shape[0]):
        k = np.uint64(0)
        d = np.uint64(n)
        while d & one == 0:
            d >>= one
            k += one
        inverse = d  # Newton's iteration: each step doubles the correct low bits (3, 6, ..., 96)
        for _ in range(5):
            inverse *= np.uint64(2) - d * inverse
        table[n, 0] = k
        table[n, 1] = inverse
        table[n, 2] = np.uint64(0xFFFFFFFFFFFFFFFF) // d


def python_fill_tie_table(table):
    """``fill_tie_table`` in Python integers (the plain-Python loop draws with ``python_rand_intn`` and
    never reads the table; it is filled all the same so both loops hold the same arrays)."""
    for n in range(1, table.shape[0]):
        k = (n & -n).bit_length() - 1
        d = n >> k
        table[n, 0], table[n, 1], table[n, 2] = k, pow(d, -1, 1 << 64), MASK64 // d


@kernel
def _first_best(feasible, total, count):
    """The first node with the highest total, in feasible-list order (TIES_FIRST)."""
    best = total[0]
    selected = feasible[0]
    for j in range(1, count):
        if total[j] > best:
            best = total[j]
            selected = feasible[j]
    return selected


@kernel
def select_host(feasible, total, count, rng, ties):
    """selectHost: the highest total score; ties broken uniformly at random by reservoir sampling
    (the k-th tied node replaces the pick with probability 1/k), in feasible-list order.

    The k-th tie draws ``rand_intn(rng, k) == 0``, decided without dividing: with k = d * 2**s (d odd)
    and row k of ``ties`` (``fill_tie_table``) holding s, d's inverse modulo 2**64 and
    floor((2**64 - 1) / d), z % k == 0 exactly when z's low s bits are zero and (z >> s) * inverse
    mod 2**64 <= floor((2**64 - 1) / d) (Granlund and Montgomery's divisibility test). Both tests are
    evaluated without a branch: a scan of identical nodes draws for every node, and a mispredicted
    branch per draw cost more than the division it replaces (measured: 14 us per 5,000 ties with a
    division, 18 with branches, 8 without)."""
    if rng[1] == TIES_FIRST:
        return _first_best(feasible, total, count)
    state = rng[0]
    best = total[0]
    selected = feasible[0]
    one = np.uint64(1)
    tied = one  # unsigned: indexing ``ties`` with it needs no negative-index fix-up
    for j in range(1, count):
        if total[j] > best:
            best = total[j]
            selected = feasible[j]
            tied = one
        elif total[j] == best:
            tied += one
            state += GOLDEN_GAMMA
            z = mix64(state)
            shift = ties[tied, 0]
            low = z & ((one << shift) - one)
            # One branch on both tests (written in this order: with the low-bits test first, LLVM
            # branched on it, and that branch mispredicts on every other tie).
            divisible = ((z >> shift) * ties[tied, 1] <= ties[tied, 2]) & (low == 0)
            if divisible:
                selected = feasible[j]
    rng[0] = state
    return selected


def python_select_host(feasible, total, count, rng, ties):
    if int(rng[1]) == TIES_FIRST:
        return python_function(_first_best)(feasible, total, count)
    best, selected, tied = total[0], feasible[0], 1
    for j in range(1, count):
        if total[j] > best:
            best, selected, tied = total[j], feasible[j], 1
        elif total[j] == best:
            tied += 1
            if python_rand_intn(rng, tied) == 0:
                selected = feasible[j]
    return selected


@kernel
def hist_add(plugins, codes, counts, length, plugin, code):
    """Count one node's failure (plugin, code) into a small distinct-pairs histogram; returns the new
    length, or -1 when the histogram is full."""
    for k in range(length):
        if plugins[k] == plugin and codes[k] == code:
            counts[k] += 1
            return length
    if length >= plugins.shape[0]:
        return -1
    plugins[length] = plugin
    codes[length] = code
    counts[length] = 1
    return length + 1


@kernel
def assume(nodes, pods, p, n, sign):
    """NodeInfo.AddPod (sign 1) / RemovePod (sign -1) for the columns the framework owns."""
    for r in range(pods.requests.shape[1]):
        nodes.requested[n, r] += sign * pods.requests[p, r]
    nodes.nonzero_requested[n, 0] += sign * pods.nonzero_requests[p, 0]
    nodes.nonzero_requested[n, 1] += sign * pods.nonzero_requests[p, 1]
    nodes.pod_count[n] += sign


@kernel
def record_error(err, kind, plugin, kernel_id, pod, node, value, first_only):
    """What the loop reports instead of raising, in loop_errors.py's slots. One call per site: the same
    stores written inline at every site made the generated loop large enough to slow its hot path."""
    if first_only and err[ERR_KIND] != 0:
        return
    err[ERR_KIND] = kind
    err[ERR_PLUGIN] = plugin
    err[ERR_KERNEL] = kernel_id
    err[ERR_POD] = pod
    err[ERR_NODE] = node
    err[ERR_VALUE] = value


def integral(value) -> bool:
    """Whether a Score kernel's result is an integer (a float would be truncated by the int64 score
    arrays without a word). In compiled code this is decided from the type, once, at compile time."""
    return integer_result(value)


@overload(integral)
def _integral_compiled(value):
    result = isinstance(value, types.Integer)
    return lambda value: result


# Names the generated loop uses, bound to compiled or Python implementations.
COMPILED = {
    "num_feasible_nodes_to_find": num_feasible_nodes_to_find,
    "select_host": select_host,
    "fill_tie_table": fill_tie_table,
    "hist_add": hist_add,
    "assume": assume,
    "integral": integral,
    "record_error": record_error,
}
PYTHON = {
    "num_feasible_nodes_to_find": python_function(num_feasible_nodes_to_find),
    "select_host": python_select_host,
    "fill_tie_table": python_fill_tie_table,
    "hist_add": python_function(hist_add),
    "assume": python_function(assume),
    "integral": integral,
    "record_error": python_function(record_error),
}
