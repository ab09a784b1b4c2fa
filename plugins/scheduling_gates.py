"""SchedulingGates (PreEnqueue): a pod with spec.schedulingGates never enters the active queue.

Upstream: pkg/scheduler/framework/plugins/schedulinggates/scheduling_gates.go.
"""

from __future__ import annotations

from schedkit.framework.plugin import Plugin


class SchedulingGates(Plugin):
    name = "SchedulingGates"

    @staticmethod
    def pre_enqueue(pod) -> str | None:
        if pod.scheduling_gates:
            return f"waiting for scheduling gates: [{' '.join(pod.scheduling_gates)}]"
        return None
