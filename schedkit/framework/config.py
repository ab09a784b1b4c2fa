"""KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): decode strictly, default, merge, validate.

Sources: pkg/scheduler/apis/config/v1/default_plugins.go (``getDefaultPlugins``, ``mergePlugins``),
pkg/scheduler/apis/config/v1/defaults.go, pkg/scheduler/apis/config/validation/validation.go,
pkg/scheduler/apis/config/scheme/scheme.go (strict decoding: unknown fields are fatal).
Plugin args are validated by each plugin's constructor, as upstream's ``New*`` functions do.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InputError
from ..manifests import read_documents

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"

# getDefaultPlugins (v1.36): one multiPoint list; weights only for Score plugins. DynamicResources is
# inserted before DefaultPreemption by applyFeatureGates (DRA is GA).
DEFAULT_MULTI_POINT: list[tuple[str, int]] = [
    ("SchedulingGates", 0),
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", 0),
    ("NodeVolumeLimits", 0),
    ("VolumeBinding", 0),
    ("VolumeZone", 0),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DynamicResources", 0),
    ("DefaultPreemption", 0),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", 0),
]

# Extension points in the order NewFramework fills them (runtime/framework.go updatePluginList).
CONFIG_POINTS = (
    "preFilter", "filter", "postFilter", "reserve", "preScore", "score",
    "preBind", "bind", "postBind", "permit", "preEnqueue", "queueSort",
)
PLUGINS_FIELDS = ("multiPoint",) + CONFIG_POINTS
REMOVED_PLUGINS = ("EBSLimits", "GCEPDLimits", "AzureDiskLimits", "CinderLimits")
# In-tree plugins with an args type in the kubescheduler.config.k8s.io scheme (<Name>Args): args that name
# their kind must name this one (scheme.go decodes them into that type).
PLUGINS_WITH_ARGS = (
    "DefaultPreemption", "DynamicResources", "InterPodAffinity", "NodeAffinity", "NodeResourcesBalancedAllocation",
    "NodeResourcesFit", "PodTopologySpread", "VolumeBinding",
)
ARGS_GROUP = "kubescheduler.config.k8s.io"

TOP_FIELDS = {
    "apiVersion", "kind", "parallelism", "leaderElection", "clientConnection", "healthzBindAddress",
    "metricsBindAddress", "enableProfiling", "enableContentionProfiling", "percentageOfNodesToScore",
    "podInitialBackoffSeconds", "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive",
}
PROFILE_FIELDS = {"schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"}


def unknown_field_message(path: str, key: Any, allowed: Iterable[str]) -> str:
    """Upstream's strict-decoding text for the misspelt field itself (its full path), with the closest
    allowed name as a hint: ``strict decoding error: unknown field "a.resource"; did you mean "resources"?``"""
    where = f"{path}.{key}" if path else str(key)
    message = f'strict decoding error: unknown field "{where}"'
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    if close:
        message += f'; did you mean "{close[0]}"?'
    return message


def check_fields(obj: dict, path: str, allowed: Iterable[str]) -> None:
    """Plugin args: the first unknown key of ``obj`` (a mapping at ``path``) as a ValueError."""
    allowed = set(allowed)
    for key in obj:
        if key not in allowed:
            raise ValueError(unknown_field_message(path, key, allowed))


@dataclass(frozen=True)
class PluginRef:
    name: str
    weight: int = 0
    path: str = field(default="", compare=False)  # where the user wrote it, for error messages


@dataclass
class PluginSet:
    enabled: list[PluginRef] = field(default_factory=list)
    disabled: list[PluginRef] = field(default_factory=list)


@dataclass
class ProfileConfig:
    scheduler_name: str
    plugins: dict[str, PluginSet]  # merged with the defaults, keyed by PLUGINS_FIELDS
    plugin_config: dict[str, dict[str, Any]]  # plugin name -> args
    percentage_of_nodes_to_score: int | None  # None: the global value applies
    plugin_config_paths: dict[str, str] = field(default_factory=dict)  # plugin name -> "profiles[0].pluginConfig[1]"
    path: str = "profiles[0]"


@dataclass
class SchedulerConfig:
    profiles: list[ProfileConfig]
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff_seconds: int = 1
    pod_max_backoff_seconds: int = 10
    source: str = ""

    def profile(self, scheduler_name: str) -> ProfileConfig | None:
        for profile in self.profiles:
            if profile.scheduler_name == scheduler_name:
                return profile
        return None


def merge_plugin_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    """mergePluginSet: a re-configured default keeps its place; "*" drops every default; others append."""
    disabled = [PluginRef(p.name) for p in custom.disabled] + [PluginRef(p.name) for p in default.disabled]
    disabled_names = {p.name for p in disabled}
    custom_index = {p.name: (i, p) for i, p in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[PluginRef] = []
    if "*" not in disabled_names:
        for plugin in default.enabled:
            if plugin.name in disabled_names:
                continue
            if plugin.name in custom_index:
                index, plugin = custom_index[plugin.name]
                replaced.add(index)
            enabled.append(plugin)
    enabled.extend(p for i, p in enumerate(custom.enabled) if i not in replaced)
    return PluginSet(enabled, disabled)


def default_plugins() -> dict[str, PluginSet]:
    sets = {point: PluginSet() for point in PLUGINS_FIELDS}
    sets["multiPoint"] = PluginSet([PluginRef(name, weight) for name, weight in DEFAULT_MULTI_POINT])
    return sets


class _Decoder:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str) -> InputError:
        return InputError(message, self.source, path or None)

    def strict(self, obj: Any, path: str, allowed: set[str]) -> dict:
        if obj is None:
            return {}
        if not isinstance(obj, dict):
            raise self.fail(path, f"expected a mapping, got {type(obj).__name__}")
        for key in obj:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(where, unknown_field_message(path, key, allowed))
        return obj

    def integer(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"Invalid value: {value!r}: must be an integer")
        return value

    def plugin_set(self, obj: Any, path: str) -> PluginSet:
        obj = self.strict(obj, path, {"enabled", "disabled"})
        result = PluginSet()
        for kind in ("enabled", "disabled"):
            items = obj.get(kind) or []
            if not isinstance(items, list):
                raise self.fail(f"{path}.{kind}", "expected a list")
            for i, item in enumerate(items):
                item_path = f"{path}.{kind}[{i}]"
                item = self.strict(item, item_path, {"name", "weight"})
                name = item.get("name")
                if not isinstance(name, str) or not name:
                    raise self.fail(item_path + ".name", "Required value: plugin name is needed")
                if name in REMOVED_PLUGINS:
                    raise self.fail(
                        item_path + ".name",
                        f'Invalid value: "{name}": was invalid in version "{API_VERSION}" (KubeSchedulerConfiguration '
                        f'is version "{API_VERSION}")',
                    )
                weight = self.integer(item.get("weight", 0), item_path + ".weight")
                getattr(result, kind).append(PluginRef(name, weight, item_path))
        return result


def parse_config(obj: Any, source: str = "") -> SchedulerConfig:
    """A decoded KubeSchedulerConfiguration document -> defaulted, merged, validated config."""
    d = _Decoder(source)
    obj = d.strict(obj, "", TOP_FIELDS)
    if obj.get("apiVersion") != API_VERSION:
        raise d.fail("apiVersion", f"unsupported apiVersion {obj.get('apiVersion')!r}: expected {API_VERSION!r}")
    if obj.get("kind") != KIND:
        raise d.fail("kind", f"unsupported kind {obj.get('kind')!r}: expected {KIND!r}")
    percentage = d.integer(obj.get("percentageOfNodesToScore", 0), "percentageOfNodesToScore")
    if not 0 <= percentage <= 100:
        raise d.fail("percentageOfNodesToScore", f"Invalid value: {percentage}: not in valid range [0-100]")
    initial = d.integer(obj.get("podInitialBackoffSeconds", 1), "podInitialBackoffSeconds")
    maximum = d.integer(obj.get("podMaxBackoffSeconds", 10), "podMaxBackoffSeconds")
    if initial <= 0:
        raise d.fail("podInitialBackoffSeconds", f"Invalid value: {initial}: must be greater than 0")
    if maximum < initial:
        raise d.fail("podMaxBackoffSeconds", f"Invalid value: {maximum}: must be greater than or equal to PodInitialBackoffSeconds")
    if obj.get("extenders"):
        raise d.fail("extenders", "scheduler extenders are not supported by schedkit")
    raw_profiles = obj.get("profiles") or [{}]
    if not isinstance(raw_profiles, list):
        raise d.fail("profiles", "expected a list")
    profiles: list[ProfileConfig] = []
    names: dict[str, int] = {}
    for i, raw in enumerate(raw_profiles):
        path = f"profiles[{i}]"
        raw = d.strict(raw, path, PROFILE_FIELDS)
        name = raw.get("schedulerName")
        if name is None and len(raw_profiles) == 1:
            name = DEFAULT_SCHEDULER_NAME
        if not isinstance(name, str) or not name:
            raise d.fail(path + ".schedulerName", "Required value")
        if name in names:
            raise d.fail(path + ".schedulerName", f'Duplicate value: "{name}"')
        names[name] = i
        profile_pct = raw.get("percentageOfNodesToScore")
        if profile_pct is not None:
            profile_pct = d.integer(profile_pct, path + ".percentageOfNodesToScore")
            if not 0 <= profile_pct <= 100:
                raise d.fail(path + ".percentageOfNodesToScore", f"Invalid value: {profile_pct}: not in valid range [0-100]")
        custom = d.strict(raw.get("plugins"), path + ".plugins", set(PLUGINS_FIELDS))
        merged = default_plugins()
        for point in PLUGINS_FIELDS:
            if point in custom:
                merged[point] = merge_plugin_set(merged[point], d.plugin_set(custom[point], f"{path}.plugins.{point}"))
        plugin_config: dict[str, dict[str, Any]] = {}
        plugin_config_paths: dict[str, str] = {}
        raw_pc = raw.get("pluginConfig") or []
        if not isinstance(raw_pc, list):
            raise d.fail(path + ".pluginConfig", "expected a list")
        for j, entry in enumerate(raw_pc):
            entry_path = f"{path}.pluginConfig[{j}]"
            entry = d.strict(entry, entry_path, {"name", "args"})
            pc_name = entry.get("name")
            if not isinstance(pc_name, str) or not pc_name:
                raise d.fail(entry_path + ".name", "Required value")
            if pc_name in plugin_config:
                raise d.fail(entry_path, f'Duplicate value: "{pc_name}"')
            args = entry.get("args") or {}
            if not isinstance(args, dict):
                raise d.fail(entry_path + ".args", "expected a mapping")
            kind = args.get("kind")
            if pc_name in PLUGINS_WITH_ARGS and kind is not None and kind != f"{pc_name}Args":
                # scheme.go: the args' kind picks the type they decode into, and it must be the plugin's
                raise d.fail(entry_path, f"decoding .{entry_path}: args for plugin {pc_name} were not of type "
                                         f"{pc_name}Args.{ARGS_GROUP}, got {kind}.{ARGS_GROUP}")
            args = {k: v for k, v in args.items() if k not in ("apiVersion", "kind")}
            plugin_config[pc_name] = args
            plugin_config_paths[pc_name] = entry_path
        profiles.append(ProfileConfig(name, merged, plugin_config, profile_pct, plugin_config_paths, path))
    return SchedulerConfig(profiles, percentage, initial, maximum, source)


def load_config(path: str | None) -> SchedulerConfig:
    """Read a KubeSchedulerConfiguration file; ``None`` gives upstream's defaults."""
    if path is None:
        return parse_config({"apiVersion": API_VERSION, "kind": KIND}, "")
    docs = read_documents(path)
    if len(docs) != 1:
        raise InputError(f"expected one KubeSchedulerConfiguration document, found {len(docs)}", path)
    return parse_config(docs[0], path)
