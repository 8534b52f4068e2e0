"""Where user code created a task run: file and line, and the column where a line needs it.

A run's site names it in messages ("created at flow.py:12") and in its node id, which must
equal the compiler's: ``fetch@12``, or ``fetch@12:22`` when one line holds two calls of the
same task (``combine.submit(fetch.submit(1), fetch.submit(2))``). Finding a column costs a
walk over the frame's code positions, so it is done only on such lines: each file is read
once with :mod:`ast` (never run) to find them.

Python 3.10 has no code positions: there, two calls of one task on one line share a site.
"""

from __future__ import annotations

import ast
import functools
import itertools
import linecache
import sys
from types import FrameType

__all__ = ["Site", "caller_site"]

#: (file, line) or (file, line, 1-based column).
Site = tuple[str, int] | tuple[str, int, int]

_CALL_METHODS = frozenset({"submit", "map"})
_SITES: dict[Site, Site] = {}
_MAX_SITES = 100_000


def caller_site(depth: int) -> Site | None:
    """The site of the user code ``depth`` frames above the caller."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    columns = _shared_lines(filename).get(line)
    site: Site = (filename, line)
    if columns is not None:
        column = _column(frame, filename, line)
        if column is not None and column in columns:
            site = (filename, line, column)
    # One tuple per call site, shared by its runs (a map's million runs keep one site).
    return _SITES.setdefault(site, site) if len(_SITES) < _MAX_SITES else site


def _column(frame: FrameType, filename: str, line: int) -> int | None:
    """The 1-based character column where the frame's current call starts."""
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is None:  # Python 3.10
        return None
    position = next(itertools.islice(positions(), frame.f_lasti // 2, None), None)
    if position is None or position[0] != line or position[2] is None:
        return None
    text = linecache.getline(filename, line).encode("utf-8")
    return len(text[: position[2]].decode("utf-8", "replace")) + 1


@functools.lru_cache(maxsize=256)
def _shared_lines(filename: str) -> dict[int, frozenset[int]]:
    """Lines where one callee is called more than once: line -> the columns of those calls.

    Columns are 1-based characters, as the compiler counts them.
    """
    source = "".join(linecache.getlines(filename))
    if not source:
        return {}
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return {}
    calls: dict[tuple[int, str], list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = _callee(node.func)
            calls.setdefault((node.lineno, callee), []).append(node.col_offset)
    shared: dict[int, set[int]] = {}
    for (line, _callee_text), offsets in calls.items():
        if len(offsets) > 1:
            text = linecache.getline(filename, line).encode("utf-8")
            for offset in offsets:
                column = len(text[:offset].decode("utf-8", "replace")) + 1
                shared.setdefault(line, set()).add(column)
    return {line: frozenset(columns) for line, columns in shared.items()}


def _callee(func: ast.expr) -> str:
    """What a call calls, with ``.submit``/``.map`` taken off: ``fetch`` for ``fetch.map``."""
    if isinstance(func, ast.Attribute) and func.attr in _CALL_METHODS:
        func = func.value
    try:
        return ast.unparse(func)
    except Exception:
        return repr(func)
