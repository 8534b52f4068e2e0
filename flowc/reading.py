"""Reading a file the user names: regular files only, and not too large.

``flowc graph/compile/explain/lint`` read paths a user names or a folder holds, and the
project modules a flow imports. Opening a FIFO blocks until someone writes to it, ``/dev/zero``
never ends, and libcst needs some 600 bytes of memory per byte of source (a 50 MB file takes
minutes and gigabytes): so only regular files are opened, and never more than
:data:`MAX_SOURCE_BYTES` is read. Each refusal is one sentence for a one-line error.
"""

from __future__ import annotations

import os
import stat

from flowc.messages import not_regular

__all__ = ["MAX_SOURCE_BYTES", "SourceReadError", "read_limited"]

#: The largest source file read (1 MB: some 25,000 lines of ordinary code, parsed in seconds).
MAX_SOURCE_BYTES = 1_000_000


class SourceReadError(OSError):
    """A file that is not read: ``reason`` is a sentence such as ``no such file``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe(mode: int, what: str) -> str:
    if stat.S_ISDIR(mode):
        return f"is a directory, not a {what}"
    return not_regular(mode)


def read_limited(
    path: str | os.PathLike[str], limit: int = MAX_SOURCE_BYTES, what: str = "Python file"
) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), at most ``limit`` of them.

    Raises :class:`SourceReadError` for a missing file, anything but a regular file (checked
    before opening, so a FIFO never blocks), a file over ``limit`` bytes (also when it grows
    while being read), or an OS error.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise SourceReadError("no such file") from None
    except OSError as exc:
        raise SourceReadError(f"cannot read the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(before.st_mode):
        raise SourceReadError(_describe(before.st_mode, what))
    too_large = f"is larger than {limit:,} bytes, the most flowc reads"
    if before.st_size > limit:
        raise SourceReadError(f"{too_large} ({before.st_size:,} bytes)")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SourceReadError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between stat and open
            raise SourceReadError(_describe(os.fstat(fd).st_mode, what))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        if isinstance(exc, SourceReadError):
            raise
        raise SourceReadError(f"cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise SourceReadError(too_large)
    return data
