"""Processes a runner starts leave Ctrl-C to the driver.

Ctrl-C in a terminal reaches every process of its group. A cluster's processes still
starting (Dask's workers, Python's resource tracker that a library starts when it is
imported, Ray's services) would each print a KeyboardInterrupt traceback, or a fatal error
from the middle of Python's start-up. The driver alone handles Ctrl-C: it stops what it
started, killing those processes itself. So they are started with SIGINT blocked — a mask
a thread passes to the threads and processes it starts.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

__all__ = ["children_ignore_ctrl_c"]


@contextlib.contextmanager
def children_ignore_ctrl_c() -> Iterator[None]:
    """Within the block, this thread — and what it starts — does not take SIGINT.

    A Ctrl-C meanwhile is not lost: the signal stays pending for this thread, or is taken by
    another thread of the process, and Python raises KeyboardInterrupt in the main thread.
    """
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:  # no POSIX signal masks (Windows): nothing to do
        yield
        return
    previous = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)
