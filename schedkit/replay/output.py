"""Writing a replay's files so that an interrupted run never leaves something that looks complete.

Every file is written under a temporary name in the output folder and renamed when all of them are
done; ``summary.json`` is renamed last, and an older one is removed first, so a folder with a
``summary.json`` always holds one complete replay.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Callable

from ..errors import InputError
from ..paths import check_creatable, make_folders, remove_empty_folders

FILES = ("placements.parquet", "timeline.parquet", "summary.json")


def new_out_dir(trace: str) -> str:
    """A new folder for a replay's outputs, ``replay-<trace>-<time>[-N]``, created now: two replays
    started in the same second get different folders."""
    stem = os.path.splitext(os.path.basename(os.path.normpath(trace)))[0] or "trace"
    base = f"replay-{stem}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while True:
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            n += 1
            path = f"{base}-{n}"
        except OSError as exc:
            raise InputError(f"cannot create the output folder: {exc.strerror or exc}", path) from None


def check_out_dir(path: str, owned: tuple[str, ...] = FILES) -> None:
    """Fail before any work when the folder cannot be written, or already holds files other than the
    ``owned`` ones this command writes (an earlier run's are replaced; anything else is left alone)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError("exists and is not a folder; --out needs a folder", path)
    check_creatable(path, path)  # missing parents are created when writing, as mkdir -p would
    if os.path.isdir(path):
        others = sorted(name for name in os.listdir(path) if name not in owned)
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise InputError(f"folder holds other files ({shown}); give a new or empty folder for --out", path)


def write_outputs(path: str, writers: dict[str, Callable[[str], None]], created: bool = False) -> list[str]:
    """Run each ``writers[name](tmp_path)``, then rename them all into place; on any failure remove what
    was written (and the folder, if this call or its caller, ``created``, made it)."""
    made = make_folders(path)
    if created and not made:
        made = [os.path.abspath(path)]
    pending: dict[str, str] = {}
    try:
        for name, write in writers.items():
            tmp = os.path.join(path, f".{name}.tmp-{os.getpid()}")
            pending[name] = tmp
            write(tmp)
        old_summary = os.path.join(path, "summary.json")
        if os.path.exists(old_summary):
            os.unlink(old_summary)
        for name in sorted(pending, key=lambda n: n == "summary.json"):
            os.replace(pending[name], os.path.join(path, name))
        return [os.path.join(path, name) for name in writers]
    except BaseException as exc:
        for tmp in pending.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
        remove_empty_folders(made)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write: {exc.strerror or exc}", path) from None
        raise


def json_writer(data: dict) -> Callable[[str], None]:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
    return write


def parquet_writer(frame) -> Callable[[str], None]:
    def write(tmp: str) -> None:
        frame.to_parquet(tmp, index=False)
    return write
