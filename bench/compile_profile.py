"""Where a command's compile time goes: numba compile events, per function, for one CLI run.

    NUMBA_CACHE_DIR=$(mktemp -d) SCHEDKIT_CACHE_DIR=$(mktemp -d) python bench/compile_profile.py replay --quiet

runs ``schedkit replay --quiet`` in this process with a listener on numba's ``numba:compile`` event (sent
only for real compiles, never for cache loads) and prints, on stderr, the wall time and every compiled
function's exclusive and inclusive seconds (a loop's compile includes the kernels it compiles on the way),
largest first. With empty caches it is the cold start's breakdown; the issue notes quote it.
"""

from __future__ import annotations

import collections
import sys
import time

from numba.core import event


class _Timings(event.Listener):
    def __init__(self) -> None:
        self.stack: list[list] = []  # [event, start, seconds spent in nested compiles]
        self.records: list[tuple[str, float, float, int]] = []  # (function, inclusive, exclusive, depth)

    def on_start(self, ev) -> None:
        self.stack.append([ev, time.perf_counter(), 0.0])

    def on_end(self, ev) -> None:
        start_event, started, nested = self.stack.pop()
        seconds = time.perf_counter() - started
        if self.stack:
            self.stack[-1][2] += seconds
        function = getattr(start_event.data.get("dispatcher"), "py_func", None)
        name = f"{function.__module__}.{function.__qualname__}" if function else "?"
        self.records.append((name, seconds, seconds - nested, len(self.stack)))


def main(argv: list[str]) -> None:
    from schedkit.cli import main as cli

    timings = _Timings()
    event.register("numba:compile", timings)
    started = time.perf_counter()
    try:
        cli(argv, standalone_mode=False)
    except SystemExit:
        pass
    wall = time.perf_counter() - started
    inclusive: dict[str, float] = collections.defaultdict(float)
    exclusive: dict[str, float] = collections.defaultdict(float)
    count: collections.Counter = collections.Counter()
    for name, total, own, _ in timings.records:
        inclusive[name] += total
        exclusive[name] += own
        count[name] += 1
    print(f"wall {wall:.1f}s, {len(timings.records)} compiles, {sum(exclusive.values()):.1f}s compiling",
          file=sys.stderr)
    print("exclusive  inclusive  compiles  function", file=sys.stderr)
    for name in sorted(exclusive, key=exclusive.get, reverse=True):
        print(f"{exclusive[name]:9.2f} {inclusive[name]:10.2f} {count[name]:9d}  {name}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
