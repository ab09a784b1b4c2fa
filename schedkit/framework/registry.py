"""Plugin registry: name -> plugin class, refusing duplicates and validating on registration.

Mirrors pkg/scheduler/framework/runtime/registry.go (a name -> factory map that refuses duplicates)
and pkg/scheduler/framework/plugins/registry.go (one function lists the in-tree set). Third-party
packages add plugins through the ``schedkit.plugins`` entry-point group; each entry point names a
Plugin subclass (or a callable returning a list of them), and its name is the plugin's name.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Iterable

from ..cluster import warn
from ..errors import PluginError
from .plugin import Plugin, validate_plugin_class

ENTRY_POINT_GROUP = "schedkit.plugins"

# Upstream v1.36 plugins schedkit does not implement yet. A configuration may name them (the default
# profile does); they are left out of the profile and reported, not treated as unknown names.
NOT_YET_IMPLEMENTED = {
    "VolumeRestrictions": "volumes are not modelled",
    "NodeVolumeLimits": "volumes are not modelled",
    "VolumeBinding": "volumes are not modelled",
    "VolumeZone": "volumes are not modelled",
    "DynamicResources": "dynamic resource allocation is not modelled",
}


class Registry:
    """Plugin classes by name. Entry-point plugins are loaded lazily, one at a time, when a name is
    looked up that no registered plugin has: a broken third-party package then breaks only the
    configurations that name it, not every command."""

    def __init__(self) -> None:
        self._plugins: dict[str, type[Plugin]] = {}
        # Entry points found but not loaded yet, by entry-point name; None until first needed.
        self._entry_points: dict[str, EntryPoint] | None = None
        self._warned = False

    def register(self, cls: type[Plugin]) -> type[Plugin]:
        validate_plugin_class(cls)
        if cls.name in self._plugins and self._plugins[cls.name] is not cls:
            raise PluginError(f"plugin {cls.name}: a plugin with this name is already registered")
        self._plugins[cls.name] = cls
        return cls

    @classmethod
    def with_builtins(cls, *extra: type[Plugin]) -> "Registry":
        """A new registry holding the built-in plugins and ``extra`` (no entry points)."""
        registry = cls()
        registry._entry_points = {}
        for plugin in (*_in_tree(), *extra):
            registry.register(plugin)
        return registry

    def unregister(self, name: str) -> None:
        self._plugins.pop(name, None)

    def _pending_entry_points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return self._entry_points

    def _load_entry_point(self, ep: EntryPoint) -> list[str]:
        """Import an entry point and register what it provides; the names registered. Errors name the
        entry point and its package."""
        where = entry_point_label(ep)
        try:
            loaded = ep.load()
            items: Iterable = loaded() if callable(loaded) and not isinstance(loaded, type) else [loaded]
            classes = list(items)
        except Exception as exc:  # any error of a third-party import: say which package it is
            raise PluginError(f"{where}: cannot be loaded: {type(exc).__name__}: {exc}") from None
        names = []
        for cls in classes:
            try:
                self.register(cls)
            except PluginError as exc:
                raise PluginError(f"{where}: {exc}") from None
            names.append(cls.name)
        return names

    def _find(self, name: str) -> bool:
        """Whether a plugin called ``name`` is registered, loading entry points as needed.

        The entry point with the same name is loaded first, and its errors are raised: the
        configuration names it. Other entry points (a package may name its entry point differently,
        or provide several plugins from one) are loaded only if that finds nothing; those that fail
        are skipped with one warning line."""
        if name in self._plugins:
            return True
        pending = self._pending_entry_points()
        ep = pending.pop(name, None)
        if ep is not None:
            provided = self._load_entry_point(ep)
            if name not in provided:
                raise PluginError(f"{entry_point_label(ep)}: provides {', '.join(provided) or 'no plugin'}, not "
                                  f"{name}: an entry point's name must be the name of the plugin it provides")
            return True
        if name in NOT_YET_IMPLEMENTED:
            return False
        self._load_all_pending()
        return name in self._plugins

    def _load_all_pending(self) -> None:
        pending = self._pending_entry_points()
        broken: list[str] = []
        while pending:
            _, ep = pending.popitem()
            try:
                self._load_entry_point(ep)
            except PluginError as exc:
                broken.append(str(exc))
        if broken and not self._warned:
            self._warned = True
            more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
            warn(f"skipped a plugin that cannot be loaded{more}: {broken[0]}")

    def get(self, name: str) -> type[Plugin]:
        if not self._find(name):
            raise KeyError(name)
        return self._plugins[name]

    def __contains__(self, name: str) -> bool:
        return self._find(name)

    def names(self) -> list[str]:
        self._load_all_pending()
        return sorted(self._plugins)


def entry_point_label(ep: EntryPoint) -> str:
    """``entry point "name" (module:attr) of package dist-name 1.0``, as far as known."""
    label = f'entry point "{ep.name}" ({ep.value})'
    dist = getattr(ep, "dist", None)
    if dist is not None:
        label += f" of package {dist.name} {dist.version}"
    return label


def _in_tree() -> list[type[Plugin]]:
    from ..plugins import BUILTIN_PLUGINS, GPU_PLUGINS

    return list(BUILTIN_PLUGINS + GPU_PLUGINS)


_default: Registry | None = None


def default_registry() -> Registry:
    """The registry holding the built-in plugins and entry-point plugins."""
    global _default
    if _default is None:
        _default = Registry()
        for cls in _in_tree():
            _default.register(cls)
    return _default


def register(cls: type[Plugin]) -> type[Plugin]:
    """Class decorator: register a plugin in the default registry (errors name the plugin)."""
    return default_registry().register(cls)
