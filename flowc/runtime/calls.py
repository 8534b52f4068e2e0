"""Running one attempt of a task function where a runner placed it, results as values.

``run_call`` is what executes on the worker (a thread, a process, a Dask or Ray worker). It
never raises for what the user's function does: the return value or the exception comes back
in an :class:`Outcome` with the attempt's start and end times and, for an exception, the
worker-side traceback text, so that a failure in another process still shows the user where
it happened.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["Call", "Outcome", "RemoteTraceback", "run_call"]


class Call:
    """What a runner must execute: ``fn(*args, **kwargs)``, inputs already resolved."""

    __slots__ = ("fn", "args", "kwargs", "timeout", "is_async")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: float | None = None,
        is_async: bool | None = None,
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.timeout = timeout
        self.is_async = inspect.iscoroutinefunction(fn) if is_async is None else is_async


class Outcome:
    """The result of one attempt: ``ok`` with ``value`` the return value or the exception."""

    __slots__ = ("ok", "value", "start", "end", "traceback")

    def __init__(
        self, ok: bool, value: Any, start: float, end: float, traceback: str | None = None
    ) -> None:
        self.ok = ok
        self.value = value
        self.start = start
        self.end = end
        self.traceback = traceback

    def __reduce__(self) -> tuple[Any, ...]:
        return (Outcome, (self.ok, self.value, self.start, self.end, self.traceback))


class RemoteTraceback(Exception):
    """Carries a worker's traceback text; set as ``__cause__`` so it prints with the error."""

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb}"""'


def run_call(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    timeout: float | None = None,
    keep_traceback_text: bool = False,
    is_async: bool | None = None,
) -> Outcome:
    """Run one attempt; ``timeout`` is enforced here only for coroutine functions."""
    start = time.time()
    if is_async is None:
        is_async = inspect.iscoroutinefunction(fn)
    try:
        if is_async:
            import asyncio

            value = asyncio.run(_await_with_timeout(fn(*args, **kwargs), timeout))
        else:
            value = fn(*args, **kwargs)
            if inspect.isawaitable(value):
                import asyncio

                value = asyncio.run(_await_with_timeout(value, timeout))
    except BaseException as exc:  # the engine decides what each exception means
        text = "".join(traceback.format_exception(exc)) if keep_traceback_text else None
        return Outcome(False, exc, start, time.time(), text)
    return Outcome(True, value, start, time.time())


async def _await_with_timeout(awaitable: Any, timeout: float | None) -> Any:
    if timeout is None:
        return await awaitable
    import asyncio

    return await asyncio.wait_for(awaitable, timeout)
