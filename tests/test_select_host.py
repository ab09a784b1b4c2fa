"""selectHost's tie-breaking (pkg/scheduler/schedule_one.go selectHost): the compiled loop decides each
tie's draw ``rand_intn(rng, k) == 0`` with a divisibility test instead of a division. It must pick the
same node and leave the generator in the same state as the plain-Python reference, for any scores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from schedkit.framework.runtime import (
    fill_tie_table,
    python_fill_tie_table,
    python_rand_intn,
    TIES_FIRST,
    python_select_host,
    rand_intn,
    select_host,
)
from strategies import examples


@njit
def _compiled_select(feasible, total, count, rng, ties):
    return select_host(feasible, total, count, rng, ties)


@njit
def _compiled_fill(table):
    fill_tie_table(table)


@njit
def _compiled_draws(rng, ns, out):
    for i in range(ns.shape[0]):
        out[i] = rand_intn(rng, ns[i])


def _table(size: int) -> np.ndarray:
    table = np.zeros((size + 1, 3), np.uint64)
    _compiled_fill(table)
    return table


def test_tie_table_matches_exact_arithmetic():
    compiled = _table(70_000)
    exact = np.zeros_like(compiled)
    python_fill_tie_table(exact)
    assert np.array_equal(compiled, exact)
    # Row n: n = d * 2**k with d odd; the inverse times d is 1 modulo 2**64.
    for n in (1, 2, 3, 12, 4096, 65_535, 70_000):
        k, inverse, limit = (int(x) for x in compiled[n])
        d = n >> k
        assert d % 2 == 1 and d << k == n
        assert (d * inverse) % 2**64 == 1 and limit == (2**64 - 1) // d


def _scored(scores: list[int]):
    """selectHost's inputs for these totals: the totals, feasible node rows 100, 101, ... and the tie table."""
    return (np.asarray(scores, dtype=np.int64), np.arange(100, 100 + len(scores), dtype=np.int64),
            _table(len(scores)))


@settings(max_examples=examples(300), deadline=None)
@given(scores=st.lists(st.integers(0, 3), min_size=1, max_size=400), seed=st.integers(0, 2**64 - 1))
def test_select_host_matches_python(scores, seed):
    total, feasible, ties = _scored(scores)
    rng_compiled = np.array([seed, 0], np.uint64)
    rng_python = rng_compiled.copy()
    chosen = _compiled_select(feasible, total, len(scores), rng_compiled, ties)
    expected = python_select_host(feasible, total, len(scores), rng_python, ties)
    assert chosen == expected
    assert rng_compiled[0] == rng_python[0]


@settings(max_examples=examples(100), deadline=None)
@given(seed=st.integers(0, 2**64 - 1), ns=st.lists(st.integers(1, 2**40), min_size=1, max_size=50))
def test_rand_intn_matches_python(seed, ns):
    rng = np.array([seed], np.uint64)
    out = np.zeros(len(ns), np.int64)
    _compiled_draws(rng, np.asarray(ns, dtype=np.int64), out)
    reference = np.array([seed], np.uint64)
    assert [python_rand_intn(reference, n) for n in ns] == out.tolist()
    assert rng[0] == reference[0]


def test_all_tied_picks_every_position_sometimes():
    """With every node tied, each one is chosen about equally often (reservoir sampling is uniform)."""
    count = 8
    feasible = np.arange(count, dtype=np.int64)
    total = np.zeros(count, np.int64)
    ties = _table(count)
    rng = np.array([7, 0], np.uint64)
    picks = np.bincount([_compiled_select(feasible, total, count, rng, ties) for _ in range(8000)],
                        minlength=count)
    assert picks.min() > 800 and picks.max() < 1200


@settings(max_examples=examples(100), deadline=None)
@given(scores=st.lists(st.integers(0, 3), min_size=1, max_size=100), seed=st.integers(0, 2**64 - 1))
def test_ties_first_picks_the_first_best_and_draws_nothing(scores, seed):
    """TIES_FIRST (the FGD simulator's rule): the first highest total in feasible order, the stream untouched."""
    total, feasible, ties = _scored(scores)
    for select in (_compiled_select, python_select_host):
        rng = np.array([seed, TIES_FIRST], np.uint64)
        assert select(feasible, total, len(scores), rng, ties) == 100 + scores.index(max(scores))
        assert rng[0] == seed
