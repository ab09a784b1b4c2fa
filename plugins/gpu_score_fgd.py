"""FGD's score and device choice: the fragmentation a placement removes (Weng et al., "Beware of
Fragmentation", USENIX ATC '23; hkust-adsl/kubernetes-scheduler-simulator pkg/simulator/plugin/fgd_score.go,
pkg/utils/frag.go).

A node's fragmentation is the expectation, over the typical pods, of the milli-GPU that shape could not
use there (``schedkit.gpu.nodes_fragmentation`` is the plain reference). The score of a node is
``int64(sigmoid((frag_before - frag_after) / 1000) * 100)``: a share is tried on every device with room,
the best truncated score wins (lowest device on ties) and Reserve gives the pod that device; whole GPUs
and CPU-only pods take the node as ``NodeResource.Sub`` would (whole GPUs the fully free devices).

Per node, the tables the expectation needs (devices fitting each shape, free milli on the devices too
small for it) are kept between pods and rebuilt only after the node changed (Reserve, Unreserve), so a
cycle costs O(devices x shapes) per node, not O(devices^2 x shapes).
"""

from __future__ import annotations

import math
from collections import namedtuple

from schedkit.framework.plugin import kernel

FragTables = namedtuple(
    "FragTables",
    [
        "cpu",  # int64 [T]: the typical shapes' milli-CPU
        "milli",  # int64 [T]: milli-GPU per device, 0 for a CPU-only shape
        "count",  # int64 [T]: devices
        "freq",  # float64 [T]: frequency, summing to 1
        "access",  # bool [nodes, T]: the shape accepts the node's GPU model
        "fit",  # int64 [nodes, T]: cache: devices with at least the shape's milli free
        "below",  # int64 [nodes, T]: cache: free milli on devices below the shape's milli
        "before",  # float64 [nodes]: cache: the node's fragmentation
        "stale",  # bool [nodes]: the node changed since its tables were built
    ],
)


@kernel
def refresh(frag, free, devices, cpu_left, n):
    """Rebuild node n's tables and fragmentation from its devices' free milli and its cpu left."""
    idle = 0
    for d in range(devices):
        idle += free[n, d]
    total = 0.0
    for t in range(frag.freq.shape[0]):
        fit = 0
        below = 0
        for d in range(devices):
            if free[n, d] >= frag.milli[t]:
                fit += 1
            else:
                below += free[n, d]
        frag.fit[n, t] = fit
        frag.below[n, t] = below
        amount = idle
        if frag.milli[t] > 0 and frag.access[n, t] and fit >= frag.count[t] and cpu_left >= frag.cpu[t]:
            amount = below
        total += frag.freq[t] * amount
    frag.before[n] = total
    frag.stale[n] = False


@kernel
def _after_share(frag, n, idle, cpu_left, left, milli):
    """Node n's fragmentation once a share of ``milli`` goes to a device with ``left`` free."""
    rest = left - milli
    total = 0.0
    for t in range(frag.freq.shape[0]):
        m = frag.milli[t]
        amount = idle - milli
        if m > 0 and frag.access[n, t]:
            fit = frag.fit[n, t]
            below = frag.below[n, t]
            if left >= m:
                fit -= 1
            else:
                below -= left
            if rest >= m:
                fit += 1
            else:
                below += rest
            if fit >= frag.count[t] and cpu_left >= frag.cpu[t]:
                amount = below
        total += frag.freq[t] * amount
    return total


@kernel
def _after_whole(frag, n, idle, cpu_left, devices_taken):
    """Node n's fragmentation once ``devices_taken`` fully free devices (0: a CPU-only pod) are taken:
    those devices leave every fit count and add nothing below any shape."""
    total = 0.0
    for t in range(frag.freq.shape[0]):
        amount = idle - 1000 * devices_taken
        m = frag.milli[t]
        if m > 0 and frag.access[n, t] and frag.fit[n, t] - devices_taken >= frag.count[t] and cpu_left >= frag.cpu[t]:
            amount = frag.below[n, t]
        total += frag.freq[t] * amount
    return total


@kernel
def _score_of(before, after):
    return int(1.0 / (1.0 + math.exp(-((before - after) / 1000.0))) * 100.0)


@kernel
def fgd_choice(frag, free, devices, cpu_left, n, cpu, milli, wanted):
    """(score, device) for a pod asking ``wanted`` devices of ``milli`` (device -1 unless a share)."""
    if frag.stale[n]:
        refresh(frag, free, devices, cpu_left, n)
    before = frag.before[n]
    idle = 0
    for d in range(devices):
        idle += free[n, d]
    if wanted == 1 and 0 < milli < 1000:
        best, device = 0, -1
        for d in range(devices):
            if free[n, d] >= milli:
                score = _score_of(before, _after_share(frag, n, idle, cpu_left - cpu, free[n, d], milli))
                if device < 0 or score > best:
                    best, device = score, d
        return best, device
    taken = wanted if milli > 0 else 0
    return _score_of(before, _after_whole(frag, n, idle, cpu_left - cpu, taken)), -1
