"""Fewer passes of Python's cyclic garbage collector while a flow runs.

CPython's collector runs a young-generation pass every 700 new container objects (2,000 from
3.14) and, now and then, a pass over every object alive. A flow run keeps each of its task
runs — run, state, future, parameters, result — until its report is written, and creates
several containers per run, so a two-stage map of 200,000 runs spent from a fifth (dynamic
mode, threads) to nearly half (plan mode, processes, which creates its runs in one burst) of
its time in the collector, re-examining runs that were still in use. Reference counting frees
nearly everything a run leaves behind; the collector is only needed for cycles, and those can
wait for a larger batch of allocations.

So while any flow run is running in this process, the young generation's threshold is at
least :data:`YOUNG_THRESHOLD`; the older generations keep theirs. The previous thresholds come
back when the last flow run ends, unless something else changed them meanwhile. A threshold
the user set higher, or a collector the user disabled (threshold 0), is left alone.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["YOUNG_THRESHOLD", "fewer_collections"]

#: Allocations between two young-generation passes while a flow runs.
YOUNG_THRESHOLD = 50_000

_lock = threading.Lock()
_running = 0
_saved: tuple[int, ...] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the young generation's threshold for as long as any caller is inside."""
    global _running, _saved
    with _lock:
        _running += 1
        if _running == 1:
            current = gc.get_threshold()
            if 0 < current[0] < YOUNG_THRESHOLD:
                _saved = current
                gc.set_threshold(YOUNG_THRESHOLD, *current[1:])
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _saved is not None:
                if gc.get_threshold()[0] == YOUNG_THRESHOLD:
                    gc.set_threshold(*_saved)
                _saved = None
