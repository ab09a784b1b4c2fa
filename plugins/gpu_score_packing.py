"""GpuPacking's score: fill partly used GPUs first, then nodes already in use, idle nodes last
(hkust-adsl/kubernetes-scheduler-simulator pkg/simulator/plugin/gpu_packing_score.go, all integers).

CPU-only pods score 0 everywhere. On a node whose devices are all idle: ``max(33 - idle devices, idle
devices)``. Otherwise the devices the pod would take (least free first, in device order on ties): if
one of them is idle, ``max(50 - idle ones taken, 33)``; else ``max(100 - s / 10, 50)`` where ``s`` sums
``free * 100 / 1000`` over them.
"""

from __future__ import annotations

from schedkit.framework.plugin import kernel


@kernel
def packing_score(free, devices, n, milli, wanted):
    if milli <= 0:
        return 0
    idle = 0
    for d in range(devices):
        if free[n, d] == 1000:
            idle += 1
    if idle == devices:
        return max(33 - idle, idle)
    # Take devices in increasing free milli (stable: device order on ties), as SortedMilliGpuLeftIndexList.
    taken, idle_taken, s = 0, 0, 0
    last_free, last_device = -1, -1
    while taken < wanted:
        pick = -1
        for d in range(devices):
            f = free[n, d]
            if f < milli or f < last_free or (f == last_free and d <= last_device):
                continue
            if pick < 0 or f < free[n, pick]:
                pick = d
        if pick < 0:
            return 0  # cannot happen after Filter
        last_free, last_device = free[n, pick], pick
        taken += 1
        if free[n, pick] == 1000:
            idle_taken += 1
        s += free[n, pick] * 100 // 1000
    if idle_taken > 0:
        return max(50 - idle_taken, 33)
    return max(100 - s // 10, 50)
