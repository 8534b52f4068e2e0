"""Running one attempt of a task function where a runner placed it, results as values.

``run_call`` is what executes on the worker (a thread, a process, a Dask or Ray worker). It
never raises for what the user's function does: the return value or the exception comes back
in an :class:`Outcome` with the attempt's start and end times and, for an exception, the
worker-side traceback text, so that a failure in another process still shows the user where
it happened.
"""

from __future__ import annotations

import inspect
import linecache
import re
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["Call", "Outcome", "RemoteTraceback", "UpstreamNotCompleted", "run_call"]


class Call:
    """What a runner must execute: ``fn(*args, **kwargs)``, inputs already resolved.

    ``on_start`` is the engine's, called by the runner as the call begins (where it begins in
    this process) or as it is sent (elsewhere); it never travels with the call.
    """

    __slots__ = ("fn", "args", "kwargs", "timeout", "is_async", "on_start")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: float | None = None,
        is_async: bool | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.timeout = timeout
        self.is_async = inspect.iscoroutinefunction(fn) if is_async is None else is_async
        self.on_start = on_start

    def started(self) -> None:
        if self.on_start is not None:
            self.on_start()


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


class UpstreamNotCompleted(Exception):
    """A call placed before its upstreams finished found one that did not complete.

    Plan mode places a run on Dask or Ray while its upstreams still run, with their native
    futures as arguments; the worker returns this instead of running the task when an
    upstream failed, and the engine then schedules the run the ordinary way (NotReady, or a
    fresh attempt once a retried upstream completes).
    """


class RemoteTraceback(Exception):
    """Carries a worker's traceback text; set as ``__cause__`` so it prints with the error."""

    def __init__(self, tb: str, fn: Callable[..., Any] | None = None) -> None:
        tb = _restore_file_names(tb, fn) if fn is not None else tb
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return f'\n"""\n{self.tb}"""'


_DYNAMIC_FRAME = re.compile(r'^(\s*)File "<dynamic-code>", line (\d+), in (\S+)$')


def _restore_file_names(tb: str, fn: Callable[..., Any]) -> str:
    """Put back the file names (and source lines) that pickling by value replaced.

    cloudpickle sends functions of un-importable modules (``__main__``, a file ``flowc run``
    loaded) by value, and their frames then read ``File "<dynamic-code>"``. The driver still
    has the real functions: frames are matched by function name against the task's module.
    """
    module_globals = getattr(inspect.unwrap(fn), "__globals__", {})
    files: dict[str, str] = {}
    for value in [*module_globals.values(), fn]:
        target = getattr(value, "fn", value)
        code = getattr(inspect.unwrap(target), "__code__", None) if callable(target) else None
        if code is not None:
            files.setdefault(code.co_name, code.co_filename)
    lines = []
    for line in tb.splitlines(keepends=True):
        match = _DYNAMIC_FRAME.match(line.rstrip("\n"))
        filename = files.get(match.group(3)) if match else None
        if match is None or filename is None:
            lines.append(line)
            continue
        indent, lineno, name = match.groups()
        lines.append(f'{indent}File "{filename}", line {lineno}, in {name}\n')
        source = linecache.getline(filename, int(lineno)).strip()
        if source:
            lines.append(f"{indent}  {source}\n")
    return "".join(lines)


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
