"""DotProd's score: the smaller the dot product of the node's free (cpu, GPU) and the pod's request, the
higher (hkust-adsl/kubernetes-scheduler-simulator pkg/simulator/plugin/dot_product_score.go with the
experiments' ``-dimext merge -norm max``: one vector per node, [milli-CPU left, milli-GPU left over its
devices], and one for the pod, [milli-CPU, milli-GPU x devices], each divided by [128000, 8000]).

``score = int64(100 * (1 - dot / 2))``, in 0..100; many nodes tie, and selectHost draws among them.
"""

from __future__ import annotations

from schedkit.framework.plugin import kernel

MAX_SPEC_CPU = 128000.0  # pkg/type/open-gpu-share/utils/const.go MaxSpecCpu
MAX_SPEC_GPU = 8000.0  # MaxSpecGpu


@kernel
def dot_product_score(cpu_left, gpu_left, cpu, gpu):
    if cpu_left < cpu:
        return 0
    dot = (cpu_left / MAX_SPEC_CPU) * (cpu / MAX_SPEC_CPU) + (gpu_left / MAX_SPEC_GPU) * (gpu / MAX_SPEC_GPU)
    return int(100.0 * (1.0 - dot / 2.0))
