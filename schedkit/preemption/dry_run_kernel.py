"""The compiled walk of ``resource_dry_run``: SelectVictimsOnNode's arithmetic, node after node.

Called once per preemption attempt from Python (not from the scheduling loop), so a plain
``numba.njit`` with its own scratch arrays; every value it decides is returned in arrays the caller
turns into statuses and candidates.
"""

from __future__ import annotations

import numba
import numpy as np

# What the walk decided for a node (``kind``)
UNVISITED, CANDIDATE, NO_LOWER, DOES_NOT_FIT, NO_VICTIM_NEEDED = 0, 1, 2, 3, 4


@numba.njit(cache=True, nogil=True)
def _more_important(i, j, priority, start):
    """MoreImportantPod: higher priority, then the earlier start; equal ones keep the node's pod order."""
    if priority[i] != priority[j]:
        return priority[i] > priority[j]
    if start[i] != start[j]:
        return start[i] < start[j]
    return i < j


@numba.njit(cache=True, nogil=True)
def _fits(used, used_pods, n, want, checks_any, allocatable, allowed_pods):
    """NodeResourcesFit's verdict for the incoming pod on node ``n`` holding ``used`` / ``used_pods``."""
    if used_pods + 1 > allowed_pods[n]:
        return False
    if checks_any:
        for c in range(want.shape[0]):
            if want[c] > allocatable[n, c] - used[c]:
                return False
    return True


@numba.njit(cache=True, nogil=True)
def walk_nodes(node, priority, start, requests, alive, allocatable, allowed_pods, nominated_requests,
               nominated_counts, want, checks_any, pod_priority, walk, num_candidates,
               kind, too_many, insufficient, victims, first, end):
    """Decide the nodes of ``walk`` in order until ``num_candidates`` candidates; returns how many were
    visited. Bound pods: ``node``, ``priority``, ``start``, ``requests`` (the checked resource columns),
    ``alive``. Per node: ``allocatable`` (checked columns), ``allowed_pods``, and the nominated pods its
    Filter adds. Writes per walk position ``kind``, the failed checks of a node that does not fit
    (``too_many``, ``insufficient``) and a candidate's victims, most important first, as
    ``victims[first:end]``."""
    size = node.shape[0]
    N = allocatable.shape[0]
    C = want.shape[0]
    # The node's pods in their order: a counting sort of the bound pods by node.
    indptr = np.zeros(N + 1, np.int64)
    for i in range(size):
        if alive[i]:
            indptr[node[i] + 1] += 1
    for n in range(N):
        indptr[n + 1] += indptr[n]
    fill = indptr[:-1].copy()
    pods = np.empty(max(indptr[N], 1), np.int64)
    for i in range(size):
        if alive[i]:
            pods[fill[node[i]]] = i
            fill[node[i]] += 1
    used = np.empty(C, np.int64)
    trial = np.empty(C, np.int64)
    lower = np.empty(max(indptr[N], 1), np.int64)
    found = 0
    written = 0
    for w in range(walk.shape[0]):
        n = walk[w]
        for c in range(C):
            used[c] = nominated_requests[n, c]
        used_pods = nominated_counts[n]
        count = 0
        for j in range(indptr[n], indptr[n + 1]):
            i = pods[j]
            if priority[i] < pod_priority:
                # insertion into importance order
                k = count
                while k > 0 and _more_important(i, lower[k - 1], priority, start):
                    lower[k] = lower[k - 1]
                    k -= 1
                lower[k] = i
                count += 1
            else:
                for c in range(C):
                    used[c] += requests[i, c]
                used_pods += 1
        if count == 0:
            kind[w] = NO_LOWER
            continue
        if not _fits(used, used_pods, n, want, checks_any, allocatable, allowed_pods):
            kind[w] = DOES_NOT_FIT
            too_many[w] = used_pods + 1 > allowed_pods[n]
            if checks_any:
                for c in range(C):
                    insufficient[w, c] = want[c] > allocatable[n, c] - used[c]
            continue
        first[w] = written
        for k in range(count):
            i = lower[k]
            for c in range(C):
                trial[c] = used[c] + requests[i, c]
            if _fits(trial, used_pods + 1, n, want, checks_any, allocatable, allowed_pods):
                for c in range(C):
                    used[c] = trial[c]
                used_pods += 1
            else:
                victims[written] = i
                written += 1
        end[w] = written
        if end[w] == first[w]:
            kind[w] = NO_VICTIM_NEEDED
            continue
        kind[w] = CANDIDATE
        found += 1
        if found >= num_candidates:
            return w + 1
    return walk.shape[0]


__all__ = ["CANDIDATE", "DOES_NOT_FIT", "NO_LOWER", "NO_VICTIM_NEEDED", "UNVISITED", "walk_nodes"]
