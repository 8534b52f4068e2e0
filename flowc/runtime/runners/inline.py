"""Runners for directly-called tasks: in the calling thread, or on an async flow's loop.

Prefect runs ``task(...)`` in the caller. A call with a timeout runs on a helper thread
instead, so the caller is released when the timeout fires even if the function is stuck in C.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
import time
from typing import TYPE_CHECKING

from flowc.runtime.calls import Call, Outcome
from flowc.runtime.context import flow_run_var, task_run_var
from flowc.runtime.runners.base import Placement, TaskRunner
from flowc.runtime.runners.threads import Placed

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["InlineRunner", "LoopRunner"]


class InlineRunner(TaskRunner):
    def duplicate(self) -> InlineRunner:
        return InlineRunner()

    def _start(self) -> None:
        pass

    def _shutdown(self, abandon_running: bool) -> None:
        pass

    def _place(self, run: TaskRun, call: Call) -> Placed:
        placed = Placed(run, call)
        if call.timeout is None:
            placed.execute()
        else:
            threading.Thread(
                target=placed.execute, name=f"flowc-call-{run.task.name}", daemon=True
            ).start()
        return placed


class LoopRunner(TaskRunner):
    """Runs a directly-called async task on the event loop of the async flow that awaits it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def duplicate(self) -> LoopRunner:
        return LoopRunner(self._loop)

    def _start(self) -> None:
        pass

    def _shutdown(self, abandon_running: bool) -> None:
        pass

    def _place(self, run: TaskRun, call: Call) -> Placement:
        placement = Placement()
        future = asyncio.run_coroutine_threadsafe(_execute_async(run, call), self._loop)

        def settle(done: concurrent.futures.Future[Outcome]) -> None:
            if done.cancelled():
                placement.set_outcome(concurrent.futures.CancelledError())
            else:
                error = done.exception()
                placement.set_outcome(error if error is not None else done.result())

        future.add_done_callback(settle)
        return placement


async def _execute_async(run: TaskRun, call: Call) -> Outcome:
    flow_token = flow_run_var.set(run.flow_run)
    task_token = task_run_var.set(run)
    start = time.time()
    try:
        call.started()
        value = call.fn(*call.args, **call.kwargs)
        if inspect.isawaitable(value):
            value = await value
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        return Outcome(False, exc, start, time.time())
    finally:
        task_run_var.reset(task_token)
        flow_run_var.reset(flow_token)
    return Outcome(True, value, start, time.time())
