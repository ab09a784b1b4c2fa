"""Output folders the way ``mkdir -p`` makes them, and undone again when a run fails.

``--out`` may name a folder (or a file in a folder) whose parents do not exist yet: they are created,
and removed again if the run fails before anything is complete, so a failed run leaves no empty
folders behind.
"""

from __future__ import annotations

import os

from .errors import InputError


def nearest_existing(path: str) -> str:
    """The closest ancestor of ``path`` (or ``path`` itself) that exists."""
    current = os.path.abspath(path)
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def check_creatable(path: str, flag_path: str) -> None:
    """Fail when ``path`` (a folder that may not exist yet) cannot be created or written."""
    base = nearest_existing(path)
    if not os.path.isdir(base):
        raise InputError(f"{base} is not a folder", flag_path)
    if not os.access(base, os.W_OK):
        raise InputError(f"folder {base} is not writable", flag_path)


def make_folders(path: str) -> list[str]:
    """Create ``path`` and its missing parents; returns the folders created, innermost first."""
    created = []
    current = os.path.abspath(path)
    while not os.path.exists(current):
        created.append(current)
        current = os.path.dirname(current)
    for folder in reversed(created):
        try:
            os.mkdir(folder)
        except FileExistsError:  # a parallel run made it: not ours to remove
            created.remove(folder)
        except OSError as exc:
            remove_empty_folders(created)
            raise InputError(f"cannot create the folder: {exc.strerror or exc}", folder) from None
    return created


def remove_empty_folders(folders: list[str]) -> None:
    """Remove the folders ``make_folders`` created (innermost first), as long as they are empty."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            return


def user_file_mode() -> int:
    """The mode ``open()`` would give a new file: 0666 less the process's umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask
