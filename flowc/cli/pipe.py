"""A closed stdout (``flowc run x.py --report r.json | head -1``) costs output, never the run.

When the reader of a pipe goes away, the next write to it fails with ``BrokenPipeError``.
Left alone that stops ``flowc`` half way (rich exits 1 on it, so no report is written), and
a task's own ``print`` would fail the task, on a thread or in a worker process. So when
stdout or stderr is a pipe, ``flowc`` puts a pipe of its own in its place, at the file
descriptor, before anything starts: every writer (flowc, task threads, the worker processes
it spawns) writes there, and a thread copies the bytes on. Once the reader is gone the
thread drops them: nobody sees an error, the run and its report are what they would have
been, and the exit code is the run's.

Terminals and regular files are left alone: they cannot be closed under a writer.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import sys
import threading
from collections.abc import Iterator

__all__ = ["relay_closed_pipes"]

_CHUNK = 65536
_POLL = 0.05  # seconds: how soon the copy notices stop()
_DRAIN_SECONDS = 30.0  # a bound for the last copy, should a leftover process keep writing


def _is_pipe(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Relay:
    """``fd`` now writes into a private pipe; a thread copies it to where ``fd`` pointed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.original = os.dup(fd)
        self.read_end, write_end = os.pipe()
        os.dup2(write_end, fd)  # inheritable: spawned workers write here too
        os.close(write_end)
        self.reader_gone = False
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._copy, name=f"flowc-relay-{fd}", daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        while True:
            # Read the flag before waiting: once it is set, whatever was written before
            # stop() is in the pipe, and the wait below sees it.
            stopping = self.stopping.is_set()
            readable, _, _ = select.select([self.read_end], [], [], 0 if stopping else _POLL)
            if not readable:
                if stopping:
                    return  # drained: everything written before stop() has been copied
                continue
            data = os.read(self.read_end, _CHUNK)
            if not data:
                return
            self._forward(data)

    def _forward(self, data: bytes) -> None:
        if self.reader_gone:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.original, view) :]
        except OSError:  # EPIPE (the reader left) or the like: drop the rest, quietly
            self.reader_gone = True

    def stop(self) -> None:
        """Copy what is still in the pipe, and put the original file back.

        If the reader is gone, ``fd`` points at ``/dev/null`` instead: a last write at
        interpreter exit must not fail either.
        """
        os.dup2(self.original, self.fd)
        self.stopping.set()
        self.thread.join(_DRAIN_SECONDS)
        if self.reader_gone:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.fd)
            os.close(devnull)
        if not self.thread.is_alive():
            os.close(self.read_end)
        os.close(self.original)


@contextlib.contextmanager
def relay_closed_pipes() -> Iterator[None]:
    """Relay stdout and stderr when they are pipes (POSIX), for the block."""
    relays: list[_Relay] = []
    if os.name == "posix":
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                fd = stream.fileno()
                if _is_pipe(fd):
                    relays.append(_Relay(fd))
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        for relay in relays:
            relay.stop()
