"""ImageLocality (Score): favour nodes that already have the pod's images, weighted by how widely each
image is spread (so one node holding an image does not attract every pod).

Upstream v1.36: pkg/scheduler/framework/plugins/imagelocality/image_locality.go. Per image the pod
uses (init containers, containers, image volumes) and the node has: ``int64(size * (numNodes /
totalNodes))`` in float64; the sum is clamped to [23 MiB, 1000 MiB x (init containers + containers)]
(image volumes do not raise the ceiling before v1.37) and scaled to 0..100 with integer division.
The node side follows the scheduler cache (pkg/scheduler/backend/cache/cache.go): every name in
``status.images[].names`` is indexed, its size taken from the first node that reported it.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from schedkit.framework.plugin import Kernels, Plugin, kernel
from schedkit.state import Interner

MIB = 1024 * 1024
MIN_THRESHOLD = 23 * MIB
MAX_CONTAINER_THRESHOLD = 1000 * MIB

ImageLocalityState = namedtuple(
    "ImageLocalityState",
    [
        "node_indptr",  # int64 [nodes + 1]: CSR over node_images
        "node_images",  # int64 [node images]: each node's image name ids, sorted
        "pod_indptr",  # int64 [pods + 1]: CSR over pod_images
        "pod_images",  # int64 [pod images]: each pod's normalized image name ids, -1 when no node has it
        "scaled",  # int64 [image names]: int64(size * (nodes holding it / total nodes))
        "containers",  # int64 [pods]: init containers + containers (the ceiling's multiplier)
    ],
)


def normalized_image_name(name: str) -> str:
    """Add ":latest" when the name has no tag (the last ':' is not after the last '/')."""
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


@kernel
def _score(nodes, pods, p, n, state):
    node_indptr, node_images = state.node_indptr, state.node_images
    pod_indptr, pod_images = state.pod_indptr, state.pod_images
    scaled, containers = state.scaled, state.containers
    total = 0
    for k in range(pod_indptr[p], pod_indptr[p + 1]):
        image = pod_images[k]
        if image < 0:
            continue
        for m in range(node_indptr[n], node_indptr[n + 1]):
            if node_images[m] == image:
                total += scaled[image]
                break
    max_threshold = MAX_CONTAINER_THRESHOLD * containers[p]
    if total < MIN_THRESHOLD:
        total = MIN_THRESHOLD
    elif total > max_threshold:
        total = max_threshold
    # With no containers the range is negative and the score 0, as upstream computes it.
    return 100 * (total - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD) if total != MIN_THRESHOLD else 0


class ImageLocality(Plugin):
    name = "ImageLocality"
    kernels = Kernels(score=_score)
    node_local = True  # image spread is fixed for a batch: a node's score depends only on its own images

    def signature(self, pod):
        return (pod.images, pod.image_volumes)

    def prepare(self, cluster, pods, pod_columns):
        names = Interner()
        size: dict[int, int] = {}
        holders: dict[int, int] = {}
        node_indptr = np.zeros(cluster.num_nodes + 1, dtype=np.int64)
        node_images: list[int] = []
        # Sizes come from the first node (in input order) that lists a name.
        for node in cluster.node_objects_in_input_order():
            for image in node.images:
                for name in image.names:
                    size.setdefault(names(name), image.size_bytes)
        for n, node in enumerate(cluster.node_objects):
            ids = sorted({names(name) for image in node.images for name in image.names})
            for image_id in ids:
                holders[image_id] = holders.get(image_id, 0) + 1
            node_images.extend(ids)
            node_indptr[n + 1] = len(node_images)
        total_nodes = max(cluster.num_nodes, 1)
        scaled = np.zeros(max(len(names), 1), dtype=np.int64)
        for image_id, count in holders.items():
            scaled[image_id] = int(float(size[image_id]) * (float(count) / float(total_nodes)))
        pod_indptr = np.zeros(len(pods) + 1, dtype=np.int64)
        pod_images: list[int] = []
        containers = np.zeros(len(pods), dtype=np.int64)
        for i, pod in enumerate(pods):
            for image in (*pod.images, *pod.image_volumes):
                pod_images.append(names.get(normalized_image_name(image)))
            pod_indptr[i + 1] = len(pod_images)
            containers[i] = len(pod.images)
        return ImageLocalityState(node_indptr, np.asarray(node_images, dtype=np.int64), pod_indptr,
                                  np.asarray(pod_images, dtype=np.int64), scaled, containers)
