"""Plugin registry: name -> plugin class, refusing duplicates and validating on registration.

Mirrors pkg/scheduler/framework/runtime/registry.go (a name -> factory map that refuses duplicates)
and pkg/scheduler/framework/plugins/registry.go (one function lists the in-tree set). Third-party
packages add plugins through the ``schedkit.plugins`` entry-point group; each entry point names a
Plugin subclass (or a callable returning a list of them).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Iterable

from ..errors import PluginError
from .plugin import Plugin, validate_plugin_class

ENTRY_POINT_GROUP = "schedkit.plugins"

# Upstream v1.36 plugins schedkit does not implement yet. A configuration may name them (the default
# profile does); they are left out of the profile and reported, not treated as unknown names.
NOT_YET_IMPLEMENTED = {
    "DefaultPreemption": "preemption is not simulated yet",
    "VolumeRestrictions": "volumes are not modelled",
    "NodeVolumeLimits": "volumes are not modelled",
    "VolumeBinding": "volumes are not modelled",
    "VolumeZone": "volumes are not modelled",
    "DynamicResources": "dynamic resource allocation is not modelled",
}


class Registry:
    def __init__(self) -> None:
        self._plugins: dict[str, type[Plugin]] = {}
        self._entry_points_loaded = False

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
        registry._entry_points_loaded = True
        for plugin in (*_in_tree(), *extra):
            registry.register(plugin)
        return registry

    def unregister(self, name: str) -> None:
        self._plugins.pop(name, None)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken third-party package must not hide which one it is
                raise PluginError(f"entry point {ep.name} ({ep.value}): cannot be loaded: {exc}") from None
            items: Iterable = loaded() if callable(loaded) and not isinstance(loaded, type) else [loaded]
            for cls in items:
                self.register(cls)

    def get(self, name: str) -> type[Plugin]:
        self._load_entry_points()
        return self._plugins[name]

    def __contains__(self, name: str) -> bool:
        self._load_entry_points()
        return name in self._plugins

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._plugins)


def _in_tree() -> list[type[Plugin]]:
    from ..plugins import BUILTIN_PLUGINS

    return list(BUILTIN_PLUGINS)


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
