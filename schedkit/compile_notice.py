"""One line on stderr while numba compiles, never while it only loads compiled code from its cache.

The first run of a profile compiles its loop for about half a minute, and that much silence looks like a
hang; a later run loads the loop from the cache in under a second (or a few on a busy machine) and
needs no comment. Elapsed time cannot tell the two apart, so the notice listens to numba's
``numba:compile`` event, which numba broadcasts only after a cache miss (numba/core/dispatcher.py
``Dispatcher.compile``: a cache hit returns before the event), and counts compile time only.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from numba.core import event

NOTICE_AFTER = 1.0  # seconds of compiling before the notice: a shorter compile needs no comment
QUIET_NOTICE_AFTER = 5.0  # under --quiet: only a compile long enough to look like a hang


def compile_message(what: str, profiles: list[str] | tuple[str, ...]) -> str:
    """The notice explain, schedule and replay print (one line)."""
    plural = "s" if len(profiles) > 1 else ""
    return (f"compiling the {what} for profile{plural} {', '.join(profiles)} "
            "(first time only: about half a minute; then cached, see `schedkit cache info`)\n")


class CompileWatch(event.Listener):
    """How long numba compiled between ``start()`` and ``stop()`` (or inside ``with``): loading from
    numba's cache never counts. Subclasses act when a compile starts (``compile_started``) or ends."""

    def __init__(self) -> None:
        self.depth = 0  # nested compiles: a loop's compile compiles the kernels it calls
        self.compiling_since: float | None = None
        self.compiled_seconds = 0.0  # finished compiles so far
        self.compiles = 0  # top-level compiles started
        self.lock = threading.Lock()

    # -- numba's event listener interface (called in the compiling thread) --

    def on_start(self, _event) -> None:
        with self.lock:
            self.depth += 1
            if self.depth > 1:
                return
            self.compiles += 1
            self.compiling_since = time.perf_counter()
            self.compile_started()

    def on_end(self, _event) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth > 0 or self.compiling_since is None:
                return
            self.compiled_seconds += time.perf_counter() - self.compiling_since
            self.compiling_since = None
            self.compile_ended()

    def compile_started(self) -> None:
        """Called (holding ``lock``) when a top-level compile starts."""

    def compile_ended(self) -> None:
        """Called (holding ``lock``) when it ends."""

    # -- use --

    @property
    def compiled(self) -> bool:
        """Whether numba compiled anything (rather than only loading from its cache)."""
        return self.compiles > 0

    def start(self):
        event.register("numba:compile", self)
        return self

    def stop(self) -> None:
        event.unregister("numba:compile", self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


class CompileNotice(CompileWatch):
    """Writes ``message`` to ``stream`` once numba has spent ``after`` seconds compiling while it
    watches (default ``NOTICE_AFTER``)."""

    def __init__(self, stream: TextIO, message: str, after: float | None = None):
        super().__init__()
        self.stream, self.message = stream, message
        self.after = NOTICE_AFTER if after is None else after
        self.timer: threading.Timer | None = None
        self.said = False

    def compile_started(self) -> None:
        if self.said:
            return
        self.timer = threading.Timer(max(self.after - self.compiled_seconds, 0.0), self._say)
        self.timer.daemon = True
        self.timer.start()

    def compile_ended(self) -> None:
        self._cancel()

    def stop(self) -> None:
        super().stop()
        with self.lock:
            self._cancel()

    def _cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _say(self) -> None:
        with self.lock:
            if self.said or self.timer is None:  # cancelled while the timer was firing
                return
            self.said = True
        self.stream.write(self.message)
        self.stream.flush()
