"""The PostFilter step of a failed cycle: run DefaultPreemption and build upstream's message.

RunPostFilterPlugins (pkg/scheduler/framework/runtime/framework.go) runs the PostFilter plugins in
order, stops at the first Success, and otherwise joins every plugin's reasons with ", "; schedule_one.go
appends that text to the FitError's "0/N nodes are available: ..." after one space. In the default
profile DynamicResources (not modelled by schedkit) runs first and, for a pod without resource claims,
says "no new claims to deallocate"; DefaultPreemption's message starts with "preemption: ".
"""

from __future__ import annotations

from ..objects import Pod
from ..reference import CROSS_NODE, FILTER, PRE_FILTER, CycleResult
from .evaluator import NO_VICTIMS, NOT_ELIGIBLE_NEVER, NOT_HELPFUL, CycleContext, PreemptionOutcome, preempt

CLAIMS_MESSAGE = "no new claims to deallocate"
# Filter and PreFilter plugins the plain-Python cycle knows; a profile with others cannot dry-run.
REFERENCE_FILTERS = set(FILTER) | set(CROSS_NODE) | set(PRE_FILTER)


def preemption_plugin(profile):
    """The profile's PostFilter plugin that preempts (DefaultPreemption), or None."""
    for i in profile.points.get("postFilter", []):
        if getattr(profile.plugins[i], "python_post_filter", False):
            return profile.plugins[i]
    return None


def reference_covers(profile) -> bool:
    """Whether every Filter/PreFilter plugin of ``profile`` has a plain-Python version."""
    used = set(profile.points["filter"]) | set(profile.points["preFilter"])
    return all(profile.plugins[i].name in REFERENCE_FILTERS for i in used)


def post_filter_message(profile, outcome: PreemptionOutcome | None) -> str | None:
    """What PostFilter adds to the message: None when preemption succeeded or no PostFilter ran."""
    if outcome is not None and outcome.nominated_node is not None:
        return None
    parts = []
    if profile.claims_post_filter:
        parts.append(CLAIMS_MESSAGE)
    if outcome is not None:
        parts.append(f"preemption: {outcome.message}")
    return ", ".join(parts) or None


def full_message(fit_message: str | None, post: str | None) -> str | None:
    if fit_message is None or post is None:
        return fit_message
    return f"{fit_message} {post}"


def run_preemption(profile, ctx: CycleContext, pod: Pod, result: CycleResult, rng) -> PreemptionOutcome | None:
    """DefaultPreemption for a cycle that found no node (None when the profile has no such plugin or the
    cycle ended with an Error, which runs no PostFilter)."""
    plugin = preemption_plugin(profile)
    if plugin is None or result.error or result.node is not None:
        return None
    # A PreFilter rejection leaves no per-node codes: every node is then absent, as are nodes outside a
    # PreFilterResult (UnschedulableAndUnresolvable: not a candidate).
    return preempt(ctx, pod, result.codes, plugin.args, rng)


def draws_offset(pod: Pod, unschedulable_nodes: int | None) -> bool:
    """Whether a failed cycle of ``pod`` that no node's pods could make room for (``quick_outcome``) still
    draws the dry run's offset: upstream's findCandidates draws it (GetOffsetAndNumCandidates) for an
    eligible pod once some node is Unschedulable, before it finds no victims. The fast paths skip the
    dry run but make the draw, so the seeded stream stays the plain-Python model's."""
    return pod.preemption_policy != "Never" and not pod.nominated_node and bool(unschedulable_nodes)


def quick_outcome(pod: Pod, num_nodes: int, unschedulable_nodes: int) -> PreemptionOutcome:
    """DefaultPreemption's outcome when no node holds a pod of lower priority than ``pod`` (and the pod
    holds no nomination): every Unschedulable node is dry-run and has no victims, every other node is
    not helpful. The fast path builds messages with this instead of a dry run."""
    if pod.preemption_policy == "Never":
        return PreemptionOutcome(False, NOT_ELIGIBLE_NEVER)
    counts = {}
    if unschedulable_nodes:
        counts[NO_VICTIMS] = unschedulable_nodes
    if num_nodes - unschedulable_nodes:
        counts[NOT_HELPFUL] = num_nodes - unschedulable_nodes
    parts = sorted(f"{count} {reason}" for reason, count in counts.items())
    return PreemptionOutcome(True, f"0/{num_nodes} nodes are available: {', '.join(parts)}.")


__all__ = ["draws_offset", "full_message", "post_filter_message", "preemption_plugin", "quick_outcome", "reference_covers",
           "run_preemption"]
