"""BestFit's score: the less (cpu, GPU) a node has left after the pod, the better
(hkust-adsl/kubernetes-scheduler-simulator pkg/simulator/plugin/best_fit_score.go and plugin_utils.go
NormalizeScore).

``raw = int64((1 - s) * 100)`` with ``s = 0.5 (cpu_left - cpu) / 128000 + 0.5 (gpu_left - gpu) / 8000``,
then min-max over the feasible nodes: ``(raw - lo) * 100 / (hi - lo)`` in integers, all 0 when equal.
"""

from __future__ import annotations

from schedkit.framework.plugin import kernel

MAX_SPEC_CPU = 128000.0
MAX_SPEC_GPU = 8000.0


@kernel
def best_fit_raw(cpu_left, gpu_left, cpu, gpu):
    if cpu_left < cpu or gpu_left < gpu:
        return 0  # the simulator's -1 error: cannot happen after Filter
    s = (cpu_left - cpu) / MAX_SPEC_CPU * 0.5 + (gpu_left - gpu) / MAX_SPEC_GPU * 0.5
    return int((1.0 - s) * 100.0)


@kernel
def min_max_normalize(scores, count):
    if count == 0:
        return
    lo, hi = scores[0], scores[0]
    for i in range(count):
        lo = min(lo, scores[i])
        hi = max(hi, scores[i])
    for i in range(count):
        scores[i] = 0 if hi == lo else (scores[i] - lo) * 100 // (hi - lo)
