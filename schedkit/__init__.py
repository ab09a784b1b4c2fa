"""schedkit: a fast, faithful kube-scheduler in Python.

Decisions follow upstream kube-scheduler at ``KUBERNETES_VERSION`` (kubernetes/kubernetes,
pkg/scheduler/...). The public API: ``load_cluster``/``load_pods`` read manifests, ``Scheduler`` runs a
KubeSchedulerConfiguration's profiles (``schedule`` a batch, ``explain`` one pod), and plugin authors
subclass ``Plugin`` with ``Kernels`` and ``register`` it.
"""

KUBERNETES_VERSION = "1.36"
__version__ = "0.1.0"

import os as _os  # noqa: E402

from . import _source_tree  # noqa: E402

_source_tree.install(_os.path.dirname(_os.path.abspath(__file__)))

from .cluster import Cluster, load_cluster, load_pods  # noqa: E402
from .errors import InputError, PluginError  # noqa: E402
from .framework.config import load_config, parse_config  # noqa: E402
from .framework.plugin import NARROW, SKIP, SUCCESS, Code, Kernels, Plugin, kernel  # noqa: E402
from .framework.registry import Registry, default_registry, register  # noqa: E402
from .framework.scheduler import Assignment, Explanation, ScheduleResult, Scheduler  # noqa: E402

__all__ = [
    "KUBERNETES_VERSION", "Cluster", "load_cluster", "load_pods", "InputError", "PluginError", "load_config",
    "parse_config", "NARROW", "SKIP", "SUCCESS", "Code", "Kernels", "Plugin", "kernel", "Registry", "default_registry",
    "register", "Assignment", "Explanation", "ScheduleResult", "Scheduler",
]
