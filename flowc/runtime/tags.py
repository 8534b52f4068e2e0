"""Prefect's ``tags(...)`` context: tags given to every flow run and task run made inside it.

A context variable, so that each thread and each async flow sees the tags of its own block;
a run keeps the tags that were active where it was created (the flow body that submitted it),
not those of the worker that executes it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["current_tags", "tags"]

_NONE: frozenset[str] = frozenset()
_tags: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("flowc_tags", default=_NONE)


def current_tags() -> frozenset[str]:
    """The tags of every enclosing ``tags(...)`` block (empty outside any)."""
    return _tags.get()


@contextlib.contextmanager
def tags(*names: str) -> Iterator[set[str]]:
    """Add ``names`` to the runs created inside the block; yields all tags now in effect."""
    combined = _tags.get() | frozenset(names)
    token = _tags.set(combined)
    try:
        yield set(combined)
    finally:
        _tags.reset(token)
