"""Binary heaps of queue items, ordered by two keys and a tie-break (activeQ, backoffQ, departures)."""

from __future__ import annotations

from .compiled import helper


@helper
def _before(k1, k2, tie, a, b):
    if k1[a] != k1[b]:
        return k1[a] < k1[b]
    if k2[a] != k2[b]:
        return k2[a] < k2[b]
    return tie[a] < tie[b]


@helper
def heap_push(heap, counts, slot, k1, k2, tie, item):
    i = counts[slot]
    counts[slot] = i + 1
    heap[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if _before(k1, k2, tie, heap[i], heap[parent]):
            heap[i], heap[parent] = heap[parent], heap[i]
            i = parent
        else:
            break


@helper
def heap_pop(heap, counts, slot, k1, k2, tie):
    size = counts[slot]
    top = heap[0]
    size -= 1
    counts[slot] = size
    if size > 0:
        heap[0] = heap[size]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= size:
                break
            child = left
            if left + 1 < size and _before(k1, k2, tie, heap[left + 1], heap[left]):
                child = left + 1
            if _before(k1, k2, tie, heap[child], heap[i]):
                heap[i], heap[child] = heap[child], heap[i]
                i = child
            else:
                break
    return top
