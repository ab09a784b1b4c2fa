"""PrioritySort (QueueSort): higher spec.priority first; equal priority keeps queue (arrival) order.

Upstream: pkg/scheduler/framework/plugins/queuesort/priority_sort.go.
"""

from __future__ import annotations

from schedkit.framework.plugin import Plugin


class PrioritySort(Plugin):
    name = "PrioritySort"

    @staticmethod
    def queue_order(pods) -> list[int]:
        # Python's sort is stable: equal priorities keep the order the pods were queued in, which stands
        # in for upstream's queue timestamp.
        return sorted(range(len(pods)), key=lambda i: -pods[i].priority)
