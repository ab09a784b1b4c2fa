"""A Profile: the plugins of one schedulerName, instantiated and ordered per extension point.

Follows NewFramework in pkg/scheduler/framework/runtime/framework.go: plugins per extension point from
the merged configuration, then ``expandMultiPointPlugins`` (override plugins first, then multiPoint-only
plugins, then the rest), one QueueSort plugin, at least one Bind plugin, and ``getScoreWeights``
(the Score point's weight beats multiPoint's; 0 means 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError, PluginError
from .config import CONFIG_POINTS, PluginRef, ProfileConfig
from .loop import LoopSpec, generate_body
from .plugin import Plugin
from .registry import NOT_YET_IMPLEMENTED, Registry, default_registry

# Config extension point -> upstream's interface name (for messages).
POINT_INTERFACES = {
    "preFilter": "PreFilterPlugin",
    "filter": "FilterPlugin",
    "postFilter": "PostFilterPlugin",
    "reserve": "ReservePlugin",
    "preScore": "PreScorePlugin",
    "score": "ScorePlugin",
    "preBind": "PreBindPlugin",
    "bind": "BindPlugin",
    "postBind": "PostBindPlugin",
    "permit": "PermitPlugin",
    "preEnqueue": "PreEnqueuePlugin",
    "queueSort": "QueueSortPlugin",
}

MAX_NODE_SCORE = 100
MAX_TOTAL_SCORE = 2**63 - 1


def implements(cls: type[Plugin], point: str) -> bool:
    """Whether a configuration may enable ``cls`` at ``point`` (upstream: the plugin satisfies the
    point's interface, the ``var _ fwk.XPlugin = ...`` assertions beside each plugin)."""
    return point in cls.extension_points()


class _OrderedSet(dict):
    def add(self, key: str) -> None:
        self[key] = None


@dataclass
class Profile:
    scheduler_name: str
    plugins: list[Plugin]  # instances, each once, in first-use order
    points: dict[str, list[int]]  # config extension point -> plugin indices in run order
    weights: dict[int, int]  # score plugin index -> weight
    percentage_of_nodes_to_score: int
    not_modelled: list[str] = field(default_factory=list)  # upstream plugins in the config schedkit skips
    warnings: list[str] = field(default_factory=list)  # accepted as upstream accepts it, but likely a mistake
    _loops: dict[tuple[bool, bool], Any] = field(default_factory=dict)  # (explain?, python?) -> loop function
    # DynamicResources (not modelled) runs at PostFilter: for a pod without resource claims it adds
    # "no new claims to deallocate" to the unschedulable message (dynamicresources.go PostFilter).
    claims_post_filter: bool = False

    def plugin_index(self, name: str) -> int:
        for i, plugin in enumerate(self.plugins):
            if plugin.name == name:
                return i
        raise KeyError(name)

    @property
    def queue_sort(self) -> Plugin:
        return self.plugins[self.points["queueSort"][0]]

    def state_error(self, i: int) -> str:
        """The error a cycle ends with when plugin ``i``'s Filter or Score ran without the state its
        PreFilter/PreScore writes (loop.MISSING_STATE), wrapped as runtime/framework.go wraps it."""
        plugin = self.plugins[i]
        if self.loop_spec().filter_state_missing:  # then no node ever passes Filter: Score never runs
            return f'running "{plugin.name}" filter plugin: {plugin.missing_pre_filter_state}'
        return f'running Score plugins: plugin "{plugin.name}" failed with: {plugin.missing_pre_score_state}'

    @property
    def reserve_order(self) -> list[int]:
        """Whose reserve/unreserve kernels run when a pod is assumed on a node, in order: the scheduler
        cache's bookkeeping first (upstream assumes the pod before the Reserve plugins run), then the
        Reserve extension point."""
        cache = [i for i, plugin in enumerate(self.plugins) if plugin.reserve_keeps_cache]
        return cache + [i for i in self.points["reserve"] if i not in cache]

    def loop_spec(self) -> LoopSpec:
        pre_filter, pre_score = set(self.points["preFilter"]), set(self.points["preScore"])
        # Filter/Score of a plugin whose PreFilter/PreScore is not enabled run without that state
        # (upstream's plugins then fail, or compute it themselves): see Plugin.missing_pre_*_state.
        return LoopSpec(
            plugins=self.plugins,
            pre_filter=list(self.points["preFilter"]),
            filter=list(self.points["filter"]),
            post_filter=[i for i in self.points["postFilter"] if self.plugins[i].kernels.post_filter is not None],
            pre_score=list(self.points["preScore"]),
            score=self.score_slots,
            reserve=self.reserve_order,
            permit=list(self.points["permit"]),
            filter_state_missing=[i for i in self.points["filter"]
                                  if i not in pre_filter and self.plugins[i].missing_pre_filter_state],
            score_state_missing=[i for i in self.points["score"]
                                 if i not in pre_score and self.plugins[i].missing_pre_score_state],
            score_computes_state=[i for i in self.points["score"]
                                  if i not in pre_score and self.plugins[i].kernels.pre_score is not None
                                  and not self.plugins[i].missing_pre_score_state],
        )

    @property
    def score_slots(self) -> list[int]:
        """The Score plugins in the loop's slot order: by plugin index, not in the configuration's order.
        The weighted sum does not depend on the order, so profiles that list the same Score plugins in
        another order share one compiled loop; explain shows them in the configuration's order."""
        return sorted(self.points["score"])

    def weight_array(self) -> np.ndarray:
        """The Score plugins' weights by score slot: the loop's ``weights`` argument."""
        return np.array([self.weights[i] for i in self.score_slots] or [0], dtype=np.int64)

    def loop(self, explain: bool = False, python: bool = False):
        """The scheduling loop for this profile, built once: the batch loop or explain's
        (``framework.loop.pod_cycle_lines``), compiled when every kernel is, or as plain Python over the
        kernels' Python versions (``python``)."""
        key = (explain, python)
        if self._loops.get(key) is None:
            from .loop_build import build_loop

            spec = self.loop_spec()
            self._loops[key], _ = build_loop(spec, generate_body(spec, explain), python=python)
        return self._loops[key]

    @property
    def compiled(self) -> bool:
        """Whether this profile's loops run compiled (every kernel they call is compiled)."""
        return self.loop_spec().compiled()


def build_profile(
    config: ProfileConfig,
    global_percentage: int = 0,
    registry: Registry | None = None,
    source: str = "",
    instances: dict[str, Plugin] | None = None,
) -> Profile:
    """Instantiate a profile's plugins. ``instances`` shares plugin objects (and so their state) across
    the profiles of one scheduler when a plugin has the same args in each."""
    registry = registry or default_registry()
    instances = instances if instances is not None else {}
    prefix = f"creating profile for scheduler name {config.scheduler_name}"

    def fail(ref: PluginRef | None, message: str) -> InputError:
        return InputError(message, source or None, (ref.path if ref and ref.path else config.path))

    def known(ref: PluginRef, interface: str) -> bool:
        if ref.name in registry:
            return True
        if ref.name in NOT_YET_IMPLEMENTED:
            if ref.name not in not_modelled:
                not_modelled.append(ref.name)
            if interface == POINT_INTERFACES["postFilter"] and ref.name not in post_filter_not_modelled:
                post_filter_not_modelled.append(ref.name)
            return False
        raise fail(ref, f'{prefix}: {interface} "{ref.name}" does not exist')

    not_modelled: list[str] = []
    post_filter_not_modelled: list[str] = []
    plugins: list[Plugin] = []
    index_of: dict[str, int] = {}

    def instance(name: str) -> int:
        if name in index_of:
            return index_of[name]
        cls = registry.get(name)
        args = config.plugin_config.get(name) or {}
        key = f"{name}:{json.dumps(args, sort_keys=True, default=str)}"
        if key not in instances:
            try:
                instances[key] = cls(args)
            except (ValueError, TypeError, KeyError) as exc:
                where = config.plugin_config_paths.get(name, config.path)
                raise InputError(f'{prefix}: initializing plugin "{name}": {exc}', source or None, where + ".args"
                                 if name in config.plugin_config_paths else where) from None
        index_of[name] = len(plugins)
        plugins.append(instances[key])
        return index_of[name]

    # validation.go validatePluginConfig checks only the args of plugins it knows, and NewFramework hands
    # args to the plugins it builds: args for any other name start the scheduler and are never read.
    warnings = [str(InputError(f'pluginConfig names plugin "{name}", which is not registered: kube-scheduler '
                               "ignores its args", source or None, path))
                for name, path in config.plugin_config_paths.items()
                if name not in registry and name not in NOT_YET_IMPLEMENTED]

    points: dict[str, list[int]] = {}
    for point in CONFIG_POINTS:
        interface = POINT_INTERFACES[point]
        plugin_set = config.plugins[point]
        enabled = _OrderedSet()
        for ref in plugin_set.enabled:
            if not known(ref, interface):
                continue
            cls = registry.get(ref.name)
            if not implements(cls, point):
                raise fail(ref, f'{prefix}: plugin "{ref.name}" does not extend {interface} plugin')
            if ref.name in enabled:
                raise fail(ref, f'{prefix}: plugin "{ref.name}" already registered as "{interface}"')
            enabled.add(ref.name)
        disabled = {ref.name for ref in plugin_set.disabled}
        multi = config.plugins["multiPoint"]
        if multi.enabled and "*" not in disabled:
            overrides, multi_enabled = _OrderedSet(), _OrderedSet()
            for ref in multi.enabled:
                if not known(ref, interface):
                    continue
                if not implements(registry.get(ref.name), point) or ref.name in disabled:
                    continue
                if ref.name in enabled:
                    overrides.add(ref.name)
                    continue
                if ref.name in multi_enabled:
                    raise fail(ref, f'{prefix}: plugin "{ref.name}" already registered as "{interface}"')
                multi_enabled.add(ref.name)
            rest = [name for name in enabled if name not in overrides]
            order = list(overrides) + list(multi_enabled) + rest
        else:
            order = list(enabled)
        points[point] = [instance(name) for name in order]

    if len(points["queueSort"]) != 1:
        raise fail(None, f"{prefix}: only one queue sort plugin required for profile with scheduler name "
                         f'"{config.scheduler_name}", but got {len(points["queueSort"])}')
    if not points["bind"]:
        raise fail(None, f'{prefix}: at least one bind plugin is needed for profile with scheduler name "{config.scheduler_name}"')

    weights: dict[int, int] = {}
    total = 0
    score_set = set(points["score"])
    for ref in config.plugins["score"].enabled + config.plugins["multiPoint"].enabled:
        i = index_of.get(ref.name)
        if i is None or i not in score_set or i in weights:
            continue
        weight = ref.weight or 1
        if weight < 0:
            # Upstream accepts a negative weight silently; it can only be a mistake, so say so.
            raise fail(ref, f"{prefix}: plugin \"{ref.name}\" weight {weight} is negative: weights must be 1 or more")
        if weight * MAX_NODE_SCORE > MAX_TOTAL_SCORE - total:
            raise fail(ref, f"{prefix}: total score of Score plugins could overflow")
        total += weight * MAX_NODE_SCORE
        weights[i] = weight
    for i in points["score"]:
        if i not in weights:
            raise PluginError(f'{prefix}: score plugin "{plugins[i].name}" is not configured with weight')

    percentage = config.percentage_of_nodes_to_score
    if percentage is None:
        percentage = global_percentage
    disabled_post_filter = {ref.name for ref in config.plugins["postFilter"].disabled}
    profile = Profile(config.scheduler_name, plugins, points, weights, percentage, not_modelled, warnings)
    profile.claims_post_filter = ("DynamicResources" in post_filter_not_modelled
                                  and "DynamicResources" not in disabled_post_filter
                                  and "*" not in disabled_post_filter)
    return profile
