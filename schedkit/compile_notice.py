"""One line on stderr while numba compiles, never while it only loads compiled code from its cache.

The first run of a profile compiles its loop for a minute or two, and that much silence looks like a
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
            "(first time only: a minute or two; then cached, see `schedkit cache info`)\n")


class CompileNotice(event.Listener):
    """Writes ``message`` to ``stream`` once numba has spent ``after`` seconds compiling between
    ``start()`` and ``stop()`` (or inside ``with``). Loading from numba's cache never counts."""

    def __init__(self, stream: TextIO, message: str, after: float | None = None):
        self.stream, self.message = stream, message
        self.after = NOTICE_AFTER if after is None else after
        self.depth = 0  # nested compiles: a loop's compile compiles the kernels it calls
        self.compiling_since: float | None = None
        self.compiled_seconds = 0.0  # finished compiles so far
        self.timer: threading.Timer | None = None
        self.said = False
        self.lock = threading.Lock()

    # -- numba's event listener interface (called in the compiling thread) --

    def on_start(self, _event) -> None:
        with self.lock:
            self.depth += 1
            if self.depth > 1 or self.said:
                return
            self.compiling_since = time.perf_counter()
            self.timer = threading.Timer(max(self.after - self.compiled_seconds, 0.0), self._say)
            self.timer.daemon = True
            self.timer.start()

    def on_end(self, _event) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth > 0 or self.compiling_since is None:
                return
            self.compiled_seconds += time.perf_counter() - self.compiling_since
            self.compiling_since = None
            self._cancel()

    # -- use --

    def start(self) -> CompileNotice:
        event.register("numba:compile", self)
        return self

    def stop(self) -> None:
        event.unregister("numba:compile", self)
        with self.lock:
            self._cancel()

    def __enter__(self) -> CompileNotice:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

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
