"""Files flowc writes for its users: where they live, and writing them all or nothing.

Both halves write files (the compiler its drawings and plans, the runtime its reports,
checkpoints, result store and variables), so the two rules every such file follows live here
once: nothing is ever seen half-written, and flowc's own state lives under one directory the
user can move (``FLOWC_HOME``), as Prefect's lives under ``PREFECT_HOME``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["flowc_home", "write_atomic"]


def flowc_home() -> Path:
    """flowc's own state directory: ``$FLOWC_HOME``, else ``~/.flowc``. Not created here."""
    configured = os.environ.get("FLOWC_HOME")
    return Path(configured).expanduser() if configured else Path.home() / ".flowc"


def write_atomic(
    path: Path, data: str | bytes, mode: int | None = None, durable: bool = False
) -> None:
    """Write ``data`` to ``path`` so that no reader, and no crash, sees it partly written.

    The temporary file sits in the target's directory (``os.replace`` is atomic only within
    one filesystem). ``mode`` defaults to the replaced file's, else to what a new file gets
    under the umask (mkstemp's 0600 is not what a user expects of a drawing or a report);
    ``durable`` fsyncs the data
    before the rename, for state that must survive a power cut. OSError reaches the caller,
    who knows how to word it; the temporary file never stays behind.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with open_atomic(path, mode, durable) as handle:
        handle.write(payload)


@contextlib.contextmanager
def open_atomic(path: Path, mode: int | None = None, durable: bool = False) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new content into, put in its place only if the block ends
    without an exception (see :func:`write_atomic`): output too large to hold in memory is
    written as it is made, still all or nothing."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temporary, mode if mode is not None else _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _mode_for(path: Path) -> int:
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o7777
    return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
