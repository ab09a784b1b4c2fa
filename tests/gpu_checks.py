"""Device invariants of a replay with per-device GPU sharing, checked from ``placements.parquet`` alone
(plus the trace's nodes and pods), independently of the plugin that chose the devices:

- no device ever holds more than 1000 milli-GPU (pods overlap in time from ``scheduled`` to ``end``);
- a pod asking for whole GPUs gets that many devices, each fully free when it arrives on them;
- a sharing pod gets exactly one device;
- a pod restricted to GPU models runs on a node of one of them;
- every device number exists on the node.

A plain module, not a test file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schedkit.gpu import GPU_MODEL_LABEL, node_gpu_count, pod_gpu_ask


def check_device_invariants(placements, workload) -> int:
    """Raise AssertionError naming the pod that breaks one; return how many GPU pods were checked."""
    nodes = {node.name: node for node in workload.nodes}
    asks = [pod_gpu_ask(pod) for pod in workload.shapes]
    events = []  # (time, order, row): departures (order 0) before arrivals (order 1) at equal times
    ran = placements["scheduled"].notna().to_numpy()
    for row in np.flatnonzero(ran):
        milli, count, _ = asks[int(workload.shape_of[row])]
        if milli:
            events.append((float(placements["scheduled"].iat[row]), 1, int(row)))
            end = placements["end"].iat[row]
            if not pd.isna(end):
                events.append((float(end), 0, int(row)))
    events.sort()
    used: dict[tuple[str, int], int] = {}
    checked = 0
    for _, kind, row in events:
        name = placements["name"].iat[row]
        node = placements["node"].iat[row]
        milli, count, models = asks[int(workload.shape_of[row])]
        index = placements["gpu_index"].iat[row]
        assert isinstance(index, str) and index, f"pod {name} ran with GPUs but has no gpu_index"
        devices = [int(d) for d in index.split("-")]
        assert len(set(devices)) == len(devices) == count, f"pod {name}: {count} GPU(s) asked, given {index}"
        have = node_gpu_count(nodes[node])
        assert all(0 <= d < have for d in devices), f"pod {name}: device {index} not on node {node} ({have} GPUs)"
        if models:
            assert nodes[node].labels.get(GPU_MODEL_LABEL) in models, f"pod {name}: model not in {models}"
        for d in devices:
            key = (node, d)
            if kind == 0:
                used[key] -= milli
                continue
            if milli == 1000:
                assert used.get(key, 0) == 0, f"pod {name}: whole GPU {d} of {node} was not free"
            used[key] = used.get(key, 0) + milli
            assert used[key] <= 1000, f"pod {name}: GPU {d} of {node} holds {used[key]} milli"
        checked += kind
    return checked
