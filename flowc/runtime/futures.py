"""Futures for task runs, and the ``wait`` / ``as_completed`` utilities, as Prefect shapes them.

A future is a thin handle on a :class:`~flowc.runtime.taskrun.TaskRun`: its completion signal
is a ``concurrent.futures.Future`` carrying the final state, so waiting reuses the standard
library's well-tested machinery instead of a second implementation of it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from flowc.runtime.states import State

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "DoneAndNotDoneFutures",
    "PrefectFuture",
    "PrefectFutureList",
    "TaskRunFuture",
    "TaskRunFutureList",
    "as_completed",
    "resolve_futures_to_states",
    "wait",
]

R = TypeVar("R")


class TaskRunFuture(Generic[R]):
    """The result-to-be of a submitted task run.

    ``.result()`` waits and returns the value (or raises the run's exception), ``.wait()``
    waits and never raises, ``.state`` is the run's current state, free to read.
    """

    __slots__ = ("_run",)

    def __init__(self, run: TaskRun) -> None:
        self._run = run

    @property
    def task_run_id(self) -> UUID:
        return self._run.id

    @property
    def state(self) -> State:
        return self._run.state

    @property
    def task_run(self) -> TaskRun:
        return self._run

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the run is final or ``timeout`` seconds pass; never raises for either."""
        self._run.observed = True
        _check_timeout(timeout)
        try:
            self._run.wait(timeout)
        except TimeoutError:
            return

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """The run's return value; a failed run's exception is raised (or returned)."""
        self._run.observed = True
        _check_timeout(timeout)
        try:
            state = self._run.wait(timeout)
        except TimeoutError:
            raise TimeoutError(
                f"Task run {self._run.id} did not complete within {timeout} seconds"
            ) from None
        return state.result(raise_on_failure=raise_on_failure)  # type: ignore[no-any-return]

    def add_done_callback(self, fn: Callable[[TaskRunFuture[R]], object]) -> None:
        """Call ``fn(self)`` once the run is final (now, if it already is)."""
        self._run.add_done_callback(lambda _: fn(self))

    def __repr__(self) -> str:
        return f"PrefectFuture({self._run.name!r}, state={self._run.state})"

    # Futures are values users put in sets and dicts (``wait`` returns sets of them).
    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskRunFuture) and other._run is self._run

    def __hash__(self) -> int:
        return id(self._run)


#: The name code written for Prefect imports.
PrefectFuture = TaskRunFuture


class TaskRunFutureList(list):  # type: ignore[type-arg]
    """The futures of a ``.map``, in input order, with list-wide ``wait`` and ``result``."""

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every future (or until ``timeout``); never raises for failures."""
        wait(self, timeout=timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[Any]:
        """The results in list order; raises the first failure to complete, or on timeout."""
        _check_timeout(timeout)
        for future in as_completed(self, timeout=timeout):
            if raise_on_failure and not future.state.is_completed():
                future.result(raise_on_failure=True)
        return [future.result(raise_on_failure=raise_on_failure) for future in self]


PrefectFutureList = TaskRunFutureList


class DoneAndNotDoneFutures(NamedTuple):
    done: set[TaskRunFuture[Any]]
    not_done: set[TaskRunFuture[Any]]


def wait(
    futures: Iterable[TaskRunFuture[Any]], timeout: float | None = None
) -> DoneAndNotDoneFutures:
    """Wait for all ``futures`` to be final, or for ``timeout`` seconds; never raises on timeout.

    One countdown for the whole set, fed by the runs' done-callbacks: waiting on thousands of
    futures costs a callback each, not a lock and condition each.
    """
    _check_timeout(timeout)
    unique = set(futures)
    pending = []
    for future in unique:
        future._run.observed = True
        if not future._run.is_final():
            pending.append(future._run)
    if pending:
        _flush_deferred(pending)
        _Countdown(len(pending)).wait_for(pending, timeout)
    done = {future for future in unique if future._run.is_final()}
    return DoneAndNotDoneFutures(done, unique - done)


class _Countdown:
    __slots__ = ("_left", "_lock", "_event")

    def __init__(self, count: int) -> None:
        self._left = count
        self._lock = threading.Lock()
        self._event = threading.Event()

    def _one_done(self, _run: TaskRun) -> None:
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self._event.set()

    def wait_for(self, runs: list[TaskRun], timeout: float | None) -> None:
        for run in runs:
            run.add_done_callback(self._one_done)
        self._event.wait(timeout)


def as_completed(
    futures: Iterable[TaskRunFuture[Any]], timeout: float | None = None
) -> Iterator[TaskRunFuture[Any]]:
    """Yield each future once: those already final first, then in completion order."""
    _check_timeout(timeout)
    unique: dict[int, TaskRunFuture[Any]] = {}
    for future in futures:
        future._run.observed = True
        unique.setdefault(id(future._run), future)
    finished: queue.SimpleQueue[TaskRun] = queue.SimpleQueue()
    pending = []
    for future in unique.values():
        if future._run.is_final():
            yield future
        else:
            pending.append(future)
    _flush_deferred([future._run for future in pending])
    for future in pending:
        future._run.add_done_callback(finished.put)
    deadline = None if timeout is None else time.monotonic() + timeout
    for left in range(len(pending), 0, -1):
        try:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            run = finished.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError(f"{left} (of {len(unique)}) futures unfinished") from None
        yield unique[id(run)]


def _flush_deferred(runs: list[TaskRun]) -> None:
    """Plan mode: waiting on runs the body has not dispatched yet dispatches them first."""
    flushed: set[int] = set()
    for run in runs:
        flow_run = run.flow_run
        if flow_run is not None and flow_run.deferred and id(flow_run) not in flushed:
            flushed.add(id(flow_run))
            flow_run.flush()


def resolve_futures_to_states(value: Any) -> Any:
    """``value`` with each future (however nested) waited for and replaced by its final state."""
    from flowc.runtime.inputs import replace_runs

    return replace_runs(value, lambda run: run.wait())


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds, got {timeout!r}")
