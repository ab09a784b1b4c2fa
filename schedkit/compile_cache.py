"""The compile cache: where it is, how big, and emptying it (``schedkit cache info|clear``).

Two kinds of files make it up:

- the loop modules schedkit generates per profile (``framework/loop.py`` ``cache_dir``: the .py files,
  their bytecode, and leftover temporary files of an interrupted write);
- numba's cache of every ``cache=True`` function (an index ``.nbi`` and data ``.nbc`` files per
  function): the generated loops and the kernels of schedkit's own packages (built-in plugins
  included). numba writes them to ``$NUMBA_CACHE_DIR/<folder>_<sha1 of the folder>`` when that is set,
  else to ``__pycache__`` beside the source, else (not writable) to the same sub-folder of its user-wide
  cache folder (numba/core/caching.py: ``UserProvidedCacheLocator``, ``InTreeCacheLocator``,
  ``UserWideCacheLocator``).

Only those files are listed and removed: a __pycache__ folder's bytecode of schedkit's modules, and
anything numba caches for other projects in the same folders, are left alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from .framework.loop_build import cache_dir

NUMBA_SUFFIXES = (".nbi", ".nbc")
LOOP_PREFIX = "schedkit_loop_"  # framework/loop.py: module_name = f"schedkit_loop_{digest}"


@dataclass
class CacheFolder:
    """One folder of the cache and the cache files in it."""

    path: str
    holds: str  # what the files are, for people
    files: list[str] = field(default_factory=list)  # full paths

    @property
    def size(self) -> int:
        total = 0
        for path in self.files:
            try:
                total += os.path.getsize(path)
            except OSError:  # removed meanwhile (another schedkit clearing the cache)
                pass
        return total


def _files(folder: str, belongs: Callable[[str], bool]) -> list[str]:
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # missing (nothing compiled yet) or unreadable: nothing of ours to show or remove
        return []
    return [os.path.join(folder, name) for name in names
            if belongs(name) and os.path.isfile(os.path.join(folder, name))]


def _numba_subfolder(source: str) -> str:
    """numba's sub-folder for the functions of the source files in ``source``."""
    from numba.core.caching import _CacheLocator

    return _CacheLocator.get_suitable_cache_subpath(os.path.join(source, "module.py"))


def _numba_folders(source: str) -> list[str]:
    """Where numba may have cached the functions defined in ``source``'s files (see the module's doc)."""
    subfolder = _numba_subfolder(source)
    user_provided = os.environ.get("NUMBA_CACHE_DIR")
    if user_provided:
        return [os.path.join(user_provided, subfolder)]
    from numba.misc.appdirs import AppDirs

    user_wide = AppDirs(appname="numba", appauthor=False).user_cache_dir
    return [os.path.join(source, "__pycache__"), os.path.join(user_wide, subfolder)]


def package_folders() -> list[str]:
    """Every folder holding schedkit's Python source: the package and the built-in plugins (in a source
    checkout ``plugins/``, which an install puts inside the package)."""
    import schedkit
    import schedkit.plugins

    folders: set[str] = set()
    for root in [os.path.dirname(os.path.abspath(schedkit.__file__)), *schedkit.plugins.__path__]:
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = [name for name in subfolders if name != "__pycache__"]
            if any(name.endswith(".py") for name in names):
                folders.add(os.path.abspath(folder))
    return sorted(folders)


def _is_numba_file_of(modules: set[str]) -> Callable[[str], bool]:
    # numba names a function's files "<module>.<qualname>-<line>.py<version>.nbi" / ".<n>.nbc"
    # (numba/core/caching.py _CacheImpl.get_filename_base, IndexDataCacheFile).
    return lambda name: name.endswith(NUMBA_SUFFIXES) and name.split(".", 1)[0] in modules


def _is_loop_numba_file(name: str) -> bool:
    return name.endswith(NUMBA_SUFFIXES) and name.startswith(LOOP_PREFIX)


def _is_loop_source(name: str) -> bool:
    # the generated modules, and the temporary files build_loop writes them through
    generated = name.startswith(LOOP_PREFIX) and name.endswith(".py")
    return generated or (name.startswith("tmp") and name.endswith(".tmp"))


def _is_loop_bytecode(name: str) -> bool:
    return name.startswith(LOOP_PREFIX) and name.endswith(".pyc")


def cache_folders() -> list[CacheFolder]:
    """Every folder of the cache, with its files: the generated loops' folder first (listed even when
    missing), then numba's folders that hold any of schedkit's files."""
    loops = cache_dir()
    found = [CacheFolder(loops, "generated loops", _files(loops, _is_loop_source))]
    by_path: dict[str, CacheFolder] = {}

    def add(path: str, holds: str, belongs: Callable[[str], bool]) -> None:
        files = _files(path, belongs)
        if not files:
            return
        if path in by_path:
            by_path[path].files = sorted(set(by_path[path].files) | set(files))
        else:
            by_path[path] = CacheFolder(path, holds, files)

    pycache = os.path.join(loops, "__pycache__")
    add(pycache, "generated loops' bytecode and numba cache",
        lambda name: _is_loop_bytecode(name) or _is_loop_numba_file(name))
    for folder in _numba_folders(loops):
        add(folder, "generated loops' numba cache", _is_loop_numba_file)
    for source in package_folders():
        modules = {name[:-3] for name in os.listdir(source) if name.endswith(".py")}
        for folder in _numba_folders(source):
            add(folder, f"numba cache of {source}", _is_numba_file_of(modules))
    return found + [by_path[path] for path in sorted(by_path)]


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def info_text(folders: list[CacheFolder]) -> str:
    files = sum(len(f.files) for f in folders)
    size = sum(f.size for f in folders)
    lines = [f"compile cache: {files} files, {_megabytes(size)}"]
    width = max(len(f.path) for f in folders)
    for folder in folders:
        state = "" if os.path.isdir(folder.path) else " (missing: nothing compiled yet)"
        count = f"{len(folder.files):5d} file{'' if len(folder.files) == 1 else 's'}"
        lines.append(f"  {folder.path.ljust(width)}  {count:11}  "
                     f"{_megabytes(folder.size):>9}  {folder.holds}{state}")
    lines.append("$SCHEDKIT_CACHE_DIR moves the generated loops, $NUMBA_CACHE_DIR numba's cache; "
                 "`schedkit cache clear` empties both.")
    return "\n".join(lines) + "\n"


@dataclass
class Cleared:
    files: int
    size: int
    failed: list[str]  # "path: reason" for files that could not be removed


def clear(folders: list[CacheFolder]) -> Cleared:
    """Remove the cache files (only those ``cache_folders`` lists; the folders stay)."""
    removed, size, failed = 0, 0, []
    for folder in folders:
        for path in folder.files:
            try:
                bytes_ = os.path.getsize(path)
                os.remove(path)
            except FileNotFoundError:  # removed meanwhile
                continue
            except OSError as exc:
                failed.append(f"{path}: {exc.strerror}")
                continue
            removed += 1
            size += bytes_
    return Cleared(removed, size, failed)
