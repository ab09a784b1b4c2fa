"""DefaultPreemption (PostFilter): when a pod fits no node, find a node where deleting lower-priority
pods makes it fit, nominate the pod there and delete those pods.

Upstream: pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go and
pkg/scheduler/framework/preemption/preemption.go; args from staging kube-scheduler/config/v1
(``DefaultPreemptionArgs``, defaults 10 % / 100) validated as apis/config/validation
``ValidateDefaultPreemptionArgs``. The evaluation itself is ``schedkit.preemption.evaluator`` (plain
Python over ``schedkit.reference``'s filters); the scheduler runs it for a pod whose cycle failed.
"""

from __future__ import annotations

from schedkit.framework.config import check_fields
from schedkit.framework.plugin import Plugin
from schedkit.preemption.evaluator import PreemptionArgs

FIELDS = ("minCandidateNodesPercentage", "minCandidateNodesAbsolute")


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: Invalid value: {value!r}: must be an integer")
    return value


def preemption_args(args: dict | None) -> PreemptionArgs:
    """DefaultPreemptionArgs from pluginConfig, defaulted (v1: only absent fields) and validated."""
    args = dict(args or {})
    percentage = _integer(args.pop("minCandidateNodesPercentage", 10), "minCandidateNodesPercentage")
    absolute = _integer(args.pop("minCandidateNodesAbsolute", 100), "minCandidateNodesAbsolute")
    if args:
        check_fields(args, "", FIELDS)
    errors = []
    if not 0 <= percentage <= 100:
        errors.append(f"minCandidateNodesPercentage: Invalid value: {percentage}: not in valid range [0, 100]")
    if absolute < 0:
        errors.append(f"minCandidateNodesAbsolute: Invalid value: {absolute}: not in valid range [0, inf)")
    if percentage == 0 and absolute == 0:
        errors.append("minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as "
                      "minCandidateNodesAbsolute")
        errors.append("minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as "
                      "minCandidateNodesPercentage")
    if errors:  # utilerrors.NewAggregate: one error as is, several in brackets
        raise ValueError(errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]")
    return PreemptionArgs(percentage, absolute)


class DefaultPreemption(Plugin):
    name = "DefaultPreemption"
    # Runs at PostFilter from Python (schedkit.preemption), not as a kernel inside the loop.
    python_post_filter = True

    def __init__(self, args=None):
        self.args = preemption_args(args)

    @staticmethod
    def pre_enqueue(pod) -> str | None:
        """Upstream holds a pod out of the queue while its own asynchronous preemption is still deleting
        victims ("waiting for the preemption for this pod to be finished"). schedkit finishes a
        preemption's deletions before its preemptor is queued again, so no pod is ever held here."""
        return None
