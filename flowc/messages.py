"""The words every command uses for the same bad input, so ``run`` and ``graph`` never differ.

``flowc run`` (which imports the file, :mod:`flowc.runtime.modules`) and ``graph``/``compile``/
``explain`` (which read it with the compiler, :mod:`flowc.compiler.targets`) check their
``FILE[:FLOW]`` separately; the messages live here once, beside both halves rather than in
:mod:`flowc.cli`, because both raise them. A path that cannot be read is said as coreutils
and ruff say it (``nosuch.py: No such file or directory``); only regular files are read, so a
FIFO or a device cannot hang a command or fill its memory.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

__all__ = ["NO_FLOW", "flow_listing", "no_flow_named", "not_regular", "path_problem"]

NO_FLOW = "no flow found (a flow is a function decorated with @flow)"


def path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a flow file, as the one line to print, or None."""
    try:
        mode = path.stat().st_mode  # follows symlinks: a dangling one is "No such file"
    except OSError as exc:
        reason = exc.strerror or os.strerror(exc.errno or errno.EIO)
        return f"{path}: {reason}"
    except ValueError:  # a NUL byte in the path
        return f"{path}: invalid path"
    if stat.S_ISDIR(mode):
        return f"{path}: {os.strerror(errno.EISDIR)}; give a Python file (FILE.py[:FLOW])"
    if not stat.S_ISREG(mode):
        return f"{path}: {not_regular(mode)}"
    return None


def not_regular(mode: int) -> str:
    """What a path of ``mode`` is instead of a regular file, said as one clause."""
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def flow_listing(flows: Iterable[tuple[str, str]]) -> str:
    """``name`` per flow, with ``(function)`` when the function's name is not the flow's."""
    return ", ".join(
        name if function in (name, name.replace("-", "_")) else f"{name} ({function})"
        for name, function in flows
    )


def no_flow_named(path: Path | str, name: str, flows: Iterable[tuple[str, str]]) -> str:
    """``FILE:FLOW`` names no flow: say which there are (``flows``: name, function pairs)."""
    listing = flow_listing(flows)
    if not listing:
        return f"{path}: {NO_FLOW}"
    return f"{path}: no flow named {name!r} (its flows: {listing})"
