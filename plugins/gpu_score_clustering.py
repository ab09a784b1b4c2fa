"""GpuClustering's score: put GPU pods of one kind together
(hkust-adsl/kubernetes-scheduler-simulator pkg/simulator/plugin/gpu_clustering_score.go).

A pod's kind: a share (one device, under 1000 milli) or k whole GPUs; CPU-only pods score 0 everywhere.
``base = 25 * (8000 - milli-GPU left on the node) / 8000`` (integer), plus 75 when the node holds only
pods of this kind, 50 when it holds this kind and others, 25 when it holds no GPU pod, 0 otherwise.
"""

from __future__ import annotations

from schedkit.framework.plugin import kernel

SHARE_KIND = 0  # kinds: 0 a share, k >= 1 k whole GPUs


@kernel
def pod_kind(milli, wanted):
    if milli <= 0:
        return -1
    if wanted == 1 and milli < 1000:
        return SHARE_KIND
    return wanted


@kernel
def clustering_score(kinds, n, gpu_left, kind):
    if kind < 0:
        return 0
    base = 25 * (8000 - gpu_left) // 8000
    present = 0
    for k in range(kinds.shape[1]):
        if kinds[n, k] > 0:
            present += 1
    if kinds[n, kind] > 0:
        return base + (75 if present == 1 else 50)
    return base + (25 if present == 0 else 0)
