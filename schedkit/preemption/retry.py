"""A nominated preemptor's retry that fails again, decided without a scan of every node.

Upstream's queue retries a preemptor at every deletion of a bound pod (NodeResourcesFit's QueueingHint
queues it: any deleted pod may free room), so while its victims terminate it is tried once per victim
leaving anywhere in the cluster. PreemptionAsync's 43 preemptors make about 2,800 such attempts, each
ending the same way: the nominated node still lacks room (evaluateNominatedNode), no other node fits,
and PostFilter finds the pod not eligible (``not eligible due to a terminating pod on the nominated
node.``). Each is exact in the fast batch's ordinary path, at the cost of one compiled scan of every
node.

Here the scan is shared. A pod's Filter verdicts on every node but its nominated one are the same with
and without its own nominated requests added there, so one explain run per pod signature and state of
the columns (with every equal-or-higher-priority nominated pod added, the pod itself included) serves
all the retries of that signature until the columns change. The nominated node's verdict is the one
``_try_nominated`` computes for the attempt (NodeResourcesFit on the columns without the pod: the node
passed every node-level plugin when preemption chose it, and nodes do not change in a batch).

The shortcut answers only when the attempt is sure to fail with no side effect: no node other than the
nominated one feasible (so no binding, no draw from selectHost's stream, and nextStartNodeIndex moves
by every node, i.e. not at all), the nominated node Unschedulable, and the pod not eligible to preempt.
Anything else returns None and the ordinary path runs the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..framework.loop import FEASIBLE_NOT_SCORED, FEASIBLE_SCORED, INFEASIBLE
from ..framework.loop_errors import MISSING_STATE
from ..framework.scheduler import decode, filter_reason_counts, nodes_available_message
from ..reference import fit_filter, status_code
from .evaluator import PreemptionOutcome, eligible_to_preempt
from .postfilter import full_message, post_filter_message


@dataclass(frozen=True)
class Verdicts:
    """One explain run's Filter verdicts for a signature: the feasible node rows, the failure histogram
    by reason and by plugin, and each node's failing (plugin, code)."""

    feasible: np.ndarray
    digest: tuple  # the histogram by (plugin, code): equal digests, equal reasons and plugins
    reasons: dict[str, int]
    plugins: dict[int, int]
    fail_plugin: np.ndarray
    fail_code: np.ndarray


@dataclass(frozen=True)
class Retry:
    """A retry's end: its message (FitError and PostFilter parts) and the plugins that rejected it."""

    message: str
    rejectors: frozenset[str]


class RetryShortcut:
    """Failing retries of nominated preemptors for one ``hybrid.FastBatch``."""

    def __init__(self, fast):
        self.fast = fast
        self.verdicts: dict[int, Verdicts | None] = {}  # signature -> verdicts at ``version``
        self.version = -1
        self.ends: dict[tuple, Retry] = {}  # (verdicts' digest, nominated node's old and new verdict) -> end
        self.fit_memo: dict[tuple, tuple[str, ...] | None] = {}  # see _nominated_node_reasons
        # priority -> nominated rows added, self included (cleared with FastBatch.wanted_memo)
        self.with_self_memo: dict[int, dict[int, int]] = {}

    def fails_again(self, row: int) -> Retry | None:
        """The end of pod ``row``'s attempt when it is a failing retry this shortcut covers, else None.
        Leaves the columns with the attempt's nominated pods added."""
        fast, v = self.fast, self.fast.v
        pod = v.current[row]
        if row not in fast.nominated_by_batch or fast.fit_plugin is None or pod.nominated_node not in v.node_row:
            return None
        sig = int(v.c.sig[row])
        if sig < 0:
            return None
        pre = fast._pre_filter(row)
        if pre.reject is not None or pre.no_state or pre.allowed is not None:
            return None
        v.set_assumed(self._with_self(row))
        node = v.node_of[pod.nominated_node]
        n = v.node_row[node.name]
        reasons = self._nominated_node_reasons(row, sig, node, n)
        if reasons is None:
            return None
        v.flush(node.name)
        ok, why = eligible_to_preempt(pod, "Unschedulable", v.usage[node.name].pods_here)
        if ok:
            return None  # PostFilter runs a dry run: the ordinary path
        verdicts = self._verdicts(row, sig)
        if verdicts is None or np.any(verdicts.feasible != n):
            return None
        key = (verdicts.digest, int(verdicts.fail_plugin[n]), int(verdicts.fail_code[n]), reasons, why)
        end = self.ends.get(key)
        if end is None:
            end = self.ends[key] = self._end(pod, n, reasons, verdicts, why)
        return end

    def _nominated_node_reasons(self, row: int, sig: int, node, n: int) -> tuple[str, ...] | None:
        """NodeResourcesFit's reasons on the pod's nominated node (row ``n``) without the pod itself, when
        they make the node Unschedulable; else None (it fits, or no removal could make it fit). Kept per
        signature and state of the node's columns: the node changes only when a pod there comes or goes."""
        nodes = self.fast.v.c.state.nodes
        key = (sig, n, nodes.requested[n].tobytes(), int(nodes.pod_count[n]))
        if key in self.fit_memo:
            return self.fit_memo[key]
        v, pod = self.fast.v, self.fast.v.current[row]
        usage = v.column_usage(node.name)
        for r, resource in enumerate(v.c.state.resources):  # the columns hold the pod itself there
            usage.requested[resource] -= int(v.c.columns.requests[row, r])
        usage.pods -= 1
        reasons = tuple(fit_filter(self.fast.fit_plugin, pod, node, usage))
        if not reasons or status_code(self.fast.profile, pod, node, "NodeResourcesFit", list(reasons)) != "Unschedulable":
            reasons = None
        self.fit_memo[key] = reasons
        return reasons

    def _with_self(self, row: int) -> dict[int, int]:
        """The nominated pods of equal or higher priority, on their nodes, the pod itself included."""
        fast = self.fast
        priority = fast.v.current[row].priority
        wanted = self.with_self_memo.get(priority)
        if wanted is None:
            wanted = self.with_self_memo[priority] = {
                r: fast.v.node_row[fast.v.current[r].nominated_node] for r in fast.nominated_rows
                if r not in fast.bound and fast.v.current[r].priority >= priority}
        return wanted

    def _verdicts(self, row: int, sig: int) -> Verdicts | None:
        v = self.fast.v
        if self.version != v.version:
            self.verdicts.clear()
            self.version = v.version
        if sig in self.verdicts:
            return self.verdicts[sig]
        out = v.explain(row)
        state = out.ex_state
        if np.any(out.ex_fail_code == MISSING_STATE) or np.any(state == 0):
            self.verdicts[sig] = None
            return None
        failed = np.flatnonzero(state == INFEASIBLE)
        hist = []
        if len(failed):
            plugin, code = out.ex_fail_plugin[failed], out.ex_fail_code[failed]
            order = np.lexsort((code, plugin))
            plugin, code = plugin[order], code[order]
            starts = np.flatnonzero(np.r_[True, (plugin[1:] != plugin[:-1]) | (code[1:] != code[:-1])])
            counts = np.diff(np.r_[starts, len(plugin)])
            hist = [(int(p), int(c), int(k)) for p, c, k in
                    zip(plugin[starts].tolist(), code[starts].tolist(), counts.tolist())]
        plugins: dict[int, int] = {}
        for p, _, k in hist:
            plugins[p] = plugins.get(p, 0) + k
        pod_key = v.current[row].key
        verdicts = Verdicts(np.flatnonzero((state == FEASIBLE_SCORED) | (state == FEASIBLE_NOT_SCORED)), tuple(hist),
                            filter_reason_counts(self.fast.profile, hist, pod_key), plugins,
                            out.ex_fail_plugin.copy(), out.ex_fail_code.copy())
        self.verdicts[sig] = verdicts
        return verdicts

    def _end(self, pod, n: int, reasons: tuple[str, ...], verdicts: Verdicts, why: str) -> Retry:
        """The histogram with the nominated node's verdict replaced by NodeResourcesFit's ``reasons``."""
        profile = self.fast.profile
        counts, plugins = dict(verdicts.reasons), dict(verdicts.plugins)
        plugin = int(verdicts.fail_plugin[n])
        if plugin >= 0 and int(verdicts.fail_code[n]) != 0:
            for reason in decode(profile.plugins[plugin], int(verdicts.fail_code[n]), "filter", pod.key)[0]:
                counts[reason] -= 1
            plugins[plugin] -= 1
        for reason in reasons:
            counts[reason] = counts.get(reason, 0) + 1
        fit = profile.plugin_index("NodeResourcesFit")
        plugins[fit] = plugins.get(fit, 0) + 1
        message = nodes_available_message(self.fast.v.c.state.num_nodes, counts)
        post = post_filter_message(profile, PreemptionOutcome(False, why))
        return Retry(full_message(message, post),
                     frozenset(profile.plugins[p].name for p, k in plugins.items() if k > 0))


__all__ = ["RetryShortcut", "Retry"]
