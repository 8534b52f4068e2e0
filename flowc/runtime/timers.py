"""One daemon thread that calls functions later: retry delays and timeout deadlines.

A ``threading.Timer`` per task run would start a thread per retry or timeout; a flow with
thousands of timed tasks would start thousands. One heap and one thread serve them all.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TimerHandle", "call_later"]

logger = logging.getLogger("flowc.runtime")


class TimerHandle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _TimerThread:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle, Callable[..., Any], tuple[Any, ...]]] = []
        self._counter = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        handle = TimerHandle()
        entry = (time.monotonic() + max(0.0, delay), next(self._counter), handle, fn, args)
        with self._wakeup:
            heapq.heappush(self._heap, entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="flowc-timers", daemon=True)
                self._thread.start()
            self._wakeup.notify()
        return handle

    def _loop(self) -> None:
        while True:
            with self._wakeup:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wakeup.wait(timeout)
                _, _, handle, fn, args = heapq.heappop(self._heap)
            if handle.cancelled:
                continue
            try:
                fn(*args)
            except Exception:  # a timer callback must never kill the timer thread
                logger.exception("flowc timer callback %r failed", fn)


_timers = _TimerThread()


def call_later(delay: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
    """Call ``fn(*args)`` on the timer thread after ``delay`` seconds, unless cancelled."""
    return _timers.call_later(delay, fn, *args)
