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

FILES = ("placements.parquet", "timeline.parquet", "curve.parquet", "summary.json")  # curve: fill runs on GPUs
LOCK = ".schedkit-replay.lock"  # in the --out folder while a replay writes there (its pid inside)


class OutLock:
    """One replay at a time per output folder: a second one given the same ``--out`` fails at once
    instead of overwriting the first's files with its own, unnoticed.

    The lock is an ``flock`` on ``LOCK`` in the folder, held for the whole run; the file holds the
    holder's pid for the message. The kernel drops the ``flock`` when its process dies, however it dies,
    so a lock file left by a dead process (kill -9, power loss) is simply taken over. The file is
    removed when the run ends, also on failure or Ctrl-C, and so are the folders this run created if it
    wrote nothing there.
    """

    def __init__(self, folder: str):
        self.folder = folder
        self.path = os.path.join(folder, LOCK)
        self.made: list[str] = []
        self.fd: int | None = None

    def __enter__(self) -> "OutLock":
        import fcntl

        if not os.path.isdir(self.folder):
            check_out_dir(self.folder)  # what is wrong with the path, if anything, before creating the folder
        self.made = make_folders(self.folder)  # with any missing parents, as mkdir -p would
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                self._remove_folder_if_ours()
                check_out_dir(self.folder)  # a folder that is not writable says so
                raise InputError(f"cannot create {LOCK}: {exc.strerror or exc}", self.folder) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                self._remove_folder_if_ours()
                raise InputError(f"another replay (pid {holder}) is writing to this folder; wait for it to "
                                 "finish or give another --out", self.folder) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file its previous holder unlinked while we waited to lock it: ours now
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc_info) -> None:
        if self.fd is not None:
            os.unlink(self.path)  # while still locked, so nobody else holds this file
            os.close(self.fd)
            self.fd = None
        self._remove_folder_if_ours()

    def _remove_folder_if_ours(self) -> None:
        remove_empty_folders(self.made)


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


def check_out_dir(path: str, owned: tuple[str, ...] = (*FILES, LOCK)) -> None:
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
