"""Errors schedkit reports to users: one line naming the file and the field path.

Every problem with user input (files, manifests, configuration, plugin registration) is raised as an
``InputError``; the CLI prints ``str(error)`` and exits 2, never a traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad user input. ``str()`` is ``"<file>: <field path>: <message>"`` (parts omitted when unknown)."""

    def __init__(self, message: str, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        parts.append(self.message)
        return ": ".join(parts)


class PluginError(InputError):
    """A plugin that cannot be registered or run (bad signature, duplicate name, score out of range)."""


def join_path(base: str, key: str | int) -> str:
    """Field path in kubectl's style: ``spec.containers[0].resources``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key
