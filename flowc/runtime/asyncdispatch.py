"""Prefect's sync-or-async dispatch: one function name, a coroutine only where one is awaited.

Prefect's client-side helpers (``create_markdown_artifact``, ``Variable.get``, ...) return a
coroutine when called from an async flow or task (or, outside any run, with an event loop
running) and a plain value otherwise, so the same documented call works in both kinds of
flow. flowc's local equivalents follow the same rule, decided here once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from flowc.runtime.context import current_flow_run, current_task_run

__all__ = ["in_async_context", "sync_or_async"]

R = TypeVar("R")


def in_async_context() -> bool:
    """True inside an async task or flow, or outside any run with an event loop running."""
    task_run = current_task_run()
    if task_run is not None:
        return bool(getattr(task_run.task, "isasync", False))
    flow_run = current_flow_run()
    if flow_run is not None:
        return bool(getattr(flow_run.flow, "isasync", False))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class sync_or_async(Generic[R]):  # noqa: N801 - used as a decorator
    """Wrap a blocking local operation so it is awaitable where Prefect's would be.

    ``_sync=True`` / ``_sync=False`` forces one form, as in Prefect; ``.aio`` is always the
    async form. The async form runs the operation when awaited: it is local and short (a file
    read or a record), so it needs no thread of its own.
    """

    def __init__(self, fn: Callable[..., R]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, _sync: bool | None = None, **kwargs: Any) -> Any:
        run_sync = _sync if _sync is not None else not in_async_context()
        if run_sync:
            return self.fn(*args, **kwargs)
        return self.aio(*args, **kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> R:
        return self.fn(*args, **kwargs)
