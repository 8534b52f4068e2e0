"""``prefect_ray.context``: Ray ``@remote`` options for the task runs submitted in a block.

``with remote_options(num_cpus=4): task.submit(...)`` asks Ray to place those runs with those
options; nested blocks merge, the inner value winning. The options live in a context
variable, read with :func:`current_remote_options` by the Ray runner when it places a run.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

__all__ = ["current_remote_options", "remote_options"]

_options: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "flowc_ray_remote_options", default=None
)


def current_remote_options() -> dict[str, Any]:
    """The options of the innermost ``remote_options`` block (empty outside any)."""
    return dict(_options.get() or {})


@contextlib.contextmanager
def remote_options(**new_remote_options: Any) -> Iterator[None]:
    """Add keyword arguments to Ray's ``remote`` for the task runs submitted inside."""
    token = _options.set({**(_options.get() or {}), **new_remote_options})
    try:
        yield
    finally:
        _options.reset(token)
