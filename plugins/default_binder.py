"""DefaultBinder (Bind): binds the pod to the chosen node.

Upstream: pkg/scheduler/framework/plugins/defaultbinder/default_binder.go. In a simulation the
binding is the assignment the loop already recorded, so there is nothing more to do.
"""

from __future__ import annotations

from schedkit.framework.plugin import Plugin


class DefaultBinder(Plugin):
    name = "DefaultBinder"

    @staticmethod
    def bind(pod, node_name: str) -> None:
        return None
