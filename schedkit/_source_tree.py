"""Make a source checkout importable as it stands.

The built-in plugins live in the top-level ``plugins/`` folder and the packaged data (the sample trace,
the examples) in ``traces/sample/`` and ``examples/``; an install maps them to ``schedkit.plugins`` and
``schedkit._data.*`` (pyproject.toml's package-dir). When ``schedkit`` is imported straight from a
checkout (``python -m pytest`` or ``python -c`` inside it, a child process, ``PYTHONPATH``), this finder
gives the same names to the same folders of *this* checkout, so no other installed copy is mixed in.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import spec_from_file_location

# package name -> folder, relative to the checkout's root (mirrors [tool.setuptools.package-dir])
SOURCE_FOLDERS = {"schedkit.plugins": "plugins"}


class _SourceTreeFinder:
    """A meta-path finder for the mapped packages of one checkout (consulted before any other)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def find_spec(self, fullname: str, path=None, target=None) -> ModuleSpec | None:
        folder = SOURCE_FOLDERS.get(fullname)
        if folder is None:
            parent, _, _ = fullname.rpartition(".")
            if parent in SOURCE_FOLDERS:  # a plugin module: look only in this checkout's folder
                return PathFinder.find_spec(fullname, [os.path.join(self.root, SOURCE_FOLDERS[parent])])
            return None
        location = os.path.join(self.root, folder)
        return spec_from_file_location(fullname, os.path.join(location, "__init__.py"),
                                       submodule_search_locations=[location])


def install(package_dir: str) -> None:
    """Called by schedkit/__init__.py: a no-op for an install, where the mapped packages are real folders."""
    if os.path.isdir(os.path.join(package_dir, "plugins")):
        return
    root = os.path.dirname(package_dir)
    if not os.path.isfile(os.path.join(root, "plugins", "__init__.py")):
        return
    if not any(isinstance(f, _SourceTreeFinder) and f.root == root for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceTreeFinder(root))
