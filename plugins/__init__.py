"""schedkit's built-in plugins, one module each, written with the public plugin API.

The list below is the in-tree registry (pkg/scheduler/framework/plugins/registry.go).
"""

from .default_binder import DefaultBinder
from .default_preemption import DefaultPreemption
from .gpu_policies import GPU_POLICIES
from .gpu_share import GpuShare
from .image_locality import ImageLocality
from .inter_pod_affinity import InterPodAffinity
from .node_affinity import NodeAffinity
from .node_name import NodeName
from .node_ports import NodePorts
from .node_resources_balanced_allocation import NodeResourcesBalancedAllocation
from .node_resources_fit import NodeResourcesFit
from .node_unschedulable import NodeUnschedulable
from .pod_topology_spread import PodTopologySpread
from .priority_sort import PrioritySort
from .scheduling_gates import SchedulingGates
from .taint_toleration import TaintToleration

BUILTIN_PLUGINS = (
    SchedulingGates,
    PrioritySort,
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    NodeResourcesFit,
    NodeResourcesBalancedAllocation,
    PodTopologySpread,
    InterPodAffinity,
    ImageLocality,
    DefaultPreemption,
    DefaultBinder,
)

# Not in upstream's registry: GPU sharing device by device and the FGD paper's score policies (Weng et
# al., USENIX ATC '23), for configurations that name them.
GPU_PLUGINS = (GpuShare, *GPU_POLICIES)

__all__ = [cls.__name__ for cls in BUILTIN_PLUGINS + (GpuShare,)] + ["BUILTIN_PLUGINS", "GPU_PLUGINS", "GPU_POLICIES"]
