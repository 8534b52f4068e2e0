"""Runs task calls in worker processes, shipping functions and arguments with cloudpickle.

Lambdas, closures and tasks defined in ``__main__`` work. A worker that dies mid-call fails
only that call (the run is Crashed) and is replaced; a call past its timeout has its worker
killed. An argument that cannot be pickled fails that run with a message naming it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.runtime import groupcall  # noqa: F401  # loaded with the worker, not by its first group
from flowc.runtime.calls import Call, Outcome, run_call
from flowc.runtime.prefect_alias import prefect_aliases, prefect_aliases_active
from flowc.runtime.runners.base import OnDone, OnStart, TaskRunner
from flowc.runtime.runners.errors import CallNotSent
from flowc.runtime.runners.worker_pool import WorkerPool

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["ProcessPoolTaskRunner"]


class ProcessPoolTaskRunner(TaskRunner):
    """Task calls in up to ``max_workers`` processes (default: the number of CPUs)."""

    in_process = False
    supports_groups = True

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__()
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self._pool: WorkerPool | None = None

    @property
    def worker_count(self) -> int:
        return self.max_workers or os.cpu_count() or 1

    def duplicate(self) -> ProcessPoolTaskRunner:
        return type(self)(max_workers=self.max_workers)

    def _start(self) -> None:
        self._pool = WorkerPool(self.max_workers or os.cpu_count() or 1, worker_fn=run_pickled_call)

    def _shutdown(self, abandon_running: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_pending=abandon_running, kill_running=abandon_running)

    def _place(
        self, run: TaskRun, call: Call, on_start: OnStart, on_done: OnDone
    ) -> concurrent.futures.Future[bytes]:
        assert self._pool is not None
        payload = _pickle_call(run, call)
        on_start()
        future = self._pool.submit(payload)
        future.add_done_callback(lambda done: on_done(_outcome_of(done)))
        return future

    def interrupt(self, handle: Any, exc: BaseException) -> None:
        if self._pool is not None:
            self._pool.kill(handle, exc)

    def __repr__(self) -> str:
        return f"ProcessPoolTaskRunner(max_workers={self.max_workers})"


def _pickle_call(run: TaskRun, call: Call) -> bytes:
    # Under ``flowc run`` a task body may ``import prefect``: the worker must alias it too.
    aliased = prefect_aliases_active()
    try:
        return cloudpickle.dumps((call.fn, call.args, call.kwargs, call.timeout, aliased))
    except Exception as exc:
        raise CallNotSent(_unpicklable_message(run, call, exc)) from exc


def _unpicklable_message(run: TaskRun, call: Call, exc: Exception) -> str:
    task = run.task.name
    try:
        cloudpickle.dumps(call.fn)
    except Exception:
        return (
            f"task {task!r} cannot be sent to a worker process: its function cannot be "
            f"pickled ({exc})"
        )
    named = list(enumerate(call.args)) + list(call.kwargs.items())
    for name, value in named:
        try:
            cloudpickle.dumps(value)
        except Exception as inner:
            label = f"argument {name!r}" if isinstance(name, str) else f"positional argument {name}"
            return (
                f"task {task!r} cannot be sent to a worker process: {label} cannot be pickled "
                f"({inner}); pass picklable data, or use the thread runner for this task"
            )
    return f"task {task!r} cannot be sent to a worker process: {exc}"


def _outcome_of(done: concurrent.futures.Future[bytes]) -> Outcome | BaseException:
    if done.cancelled():
        return concurrent.futures.CancelledError()
    error = done.exception()
    if error is not None:
        return error
    try:
        outcome: Outcome = cloudpickle.loads(done.result())
    except Exception as exc:  # e.g. a result class the driver cannot import
        return exc
    return outcome


def run_pickled_call(payload: bytes) -> bytes:
    """Worker side: run the call and send its Outcome back, always as something picklable."""
    fn, args, kwargs, timeout, aliased = cloudpickle.loads(payload)
    with prefect_aliases() if aliased else contextlib.nullcontext():
        outcome = run_call(fn, args, kwargs, timeout, keep_traceback_text=True)
    try:
        data: bytes = cloudpickle.dumps(outcome)
        if not outcome.ok:
            cloudpickle.loads(data)  # an exception that pickles may still fail to unpickle
        return data
    except Exception as exc:
        what = "result" if outcome.ok else f"exception {outcome.value!r}"
        replacement = RuntimeError(
            f"the task's {what} could not be sent back from the worker: {exc}"
        )
        return cloudpickle.dumps(
            Outcome(False, replacement, outcome.start, outcome.end, outcome.traceback)
        )
