"""The contract every task runner meets, and nothing more.

A runner *places* a call somewhere — a thread, a process, a Dask or Ray worker — and hands
back a :class:`Placement`: the future of its :class:`~flowc.runtime.calls.Outcome`. That,
with start (``with runner:``), shut down and :meth:`TaskRunner.duplicate`, is the whole
contract, as small as ``concurrent.futures.Executor``'s. The engine owns states, retries,
timeouts, input resolution and callbacks (on a runner of another process, the engine of the
worker does: the call placed there is a whole task run, see :mod:`flowc.runtime.placed`).

``submit`` and ``map`` are here too, with Prefect's signatures, for code that drives a runner
directly; they go through the engine like ``Task.submit`` does.
"""

from __future__ import annotations

import abc
import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from flowc.runtime.calls import Call, Outcome

if TYPE_CHECKING:
    from flowc.runtime.futures import TaskRunFuture, TaskRunFutureList
    from flowc.runtime.taskrun import TaskRun
    from flowc.runtime.tasks import Task

__all__ = ["Placement", "TaskRunner"]

RunnerT = TypeVar("RunnerT", bound="TaskRunner")
logger = logging.getLogger("flowc.runtime")
_lock = threading.Lock()


class Placement:
    """The future of one placed call's outcome.

    Lighter than ``concurrent.futures.Future`` (no condition variable: nobody blocks on it,
    the engine only attaches a callback), as a trivial task's call costs a few microseconds.
    A runner settles it once with :meth:`set_outcome`; :meth:`cancel` is a runner's best
    effort to stop the call (before it starts, or, where it can, while it runs).
    """

    __slots__ = ("_settled", "_outcome", "_callbacks")

    def __init__(self) -> None:
        self._settled = False
        self._outcome: Outcome | BaseException | None = None
        self._callbacks: list[Callable[[Outcome | BaseException], object]] | None = None

    def add_done_callback(self, fn: Callable[[Outcome | BaseException], object]) -> None:
        """Call ``fn(outcome)`` once settled: now, in this thread, if it already is."""
        with _lock:
            if not self._settled:
                if self._callbacks is None:
                    self._callbacks = [fn]
                else:
                    self._callbacks.append(fn)
                return
        fn(self._outcome)  # type: ignore[arg-type]

    def set_outcome(self, outcome: Outcome | BaseException) -> bool:
        """Settle the placement; False (and nothing done) if it already was."""
        with _lock:
            if self._settled:
                return False
            self._settled, self._outcome = True, outcome
            callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            try:
                callback(outcome)
            except Exception:
                logger.exception("flowc could not hand over the outcome of a task call")
        return True

    def done(self) -> bool:
        return self._settled

    def cancel(self) -> bool:
        """Stop the call if this runner can; True if it will not complete normally."""
        return self.set_outcome(concurrent.futures.CancelledError())


class TaskRunner(abc.ABC):
    """Places task calls on workers. Enter it (``with runner:``) before placing anything.

    The object given to ``@flow(task_runner=...)`` is a template: each flow run enters its
    own :meth:`duplicate`, so two runs of a flow never share a pool.
    """

    #: True when calls run in this process, so they can see the flow run's context and a
    #: stuck thread can be interrupted; False for process, Dask and Ray workers.
    in_process: bool = True
    #: True when one call may carry many task calls (fused chains, batches; see planexec):
    #: worth it only where a call costs far more than running a trivial function.
    supports_groups: bool = False
    #: True when a call may be placed before its upstreams finish, their native futures as
    #: arguments, so the cluster's own scheduler runs the graph (plan mode on Dask and Ray).
    supports_pipelining: bool = False

    def __init__(self) -> None:
        self._started = False
        self._abandoned = 0

    @property
    def name(self) -> str:
        return type(self).__name__.lower().replace("taskrunner", "")

    @abc.abstractmethod
    def duplicate(self: RunnerT) -> RunnerT:
        """A fresh, unstarted runner with the same configuration."""

    @abc.abstractmethod
    def _start(self) -> None:
        """Acquire workers (pools, clusters)."""

    @abc.abstractmethod
    def _shutdown(self, abandon_running: bool) -> None:
        """Release what :meth:`_start` acquired; never wait on calls abandoned by timeouts."""

    @abc.abstractmethod
    def _place(self, run: TaskRun, call: Call) -> Placement:
        """Start ``call`` (made for ``run``) somewhere; the future of its outcome.

        The placement settles once, with the call's :class:`Outcome`, or with the exception
        that kept the runner from running it (a dead worker, an argument that does not
        pickle). ``call.on_start``, if set, must run when (or before) the call begins.
        """

    def place(self, run: TaskRun, call: Call) -> Placement:
        if not self._started:
            raise RuntimeError(
                f"The task runner {type(self).__name__} must be started (entered with `with`) "
                "before work is submitted to it."
            )
        return self._place(run, call)

    def resolve_inputs(self, run: TaskRun) -> dict[str, Any]:
        """The arguments ``run`` is called with, by parameter name; its upstreams are final.

        Local runners hand over values. A distributed runner may instead put its own futures
        (Dask futures, Ray object refs) in place of upstream results, so the engine of that
        cluster moves the data from worker to worker.
        """
        if not run.upstreams.need_resolution:
            return run.parameters
        from flowc.runtime.inputs import resolve_inputs

        resolved: dict[str, Any] = resolve_inputs(run.parameters)
        return resolved

    @property
    def worker_count(self) -> int:
        """How many calls run at once here, for sizing batches."""
        return os.cpu_count() or 1

    @property
    def started(self) -> bool:
        return self._started

    def __enter__(self: RunnerT) -> RunnerT:
        if self._started:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self._start()
        self._started = True
        self._abandoned = 0
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._shutdown(abandon_running=self._abandoned > 0)
        finally:
            self._started = False

    def note_abandoned(self) -> None:
        """A placed call was given up on (timeout): shutdown must not wait for it."""
        self._abandoned += 1

    # Prefect's runner API, for code that drives a runner directly.
    def submit(
        self,
        task: Task[Any],
        parameters: dict[str, Any],
        wait_for: Iterable[Any] | None = None,
        dependencies: dict[str, set[Any]] | None = None,
    ) -> TaskRunFuture[Any]:
        from flowc.runtime import engine

        return engine.submit_parameters(self, task, parameters, wait_for, dependencies)

    def map(
        self,
        task: Task[Any],
        parameters: dict[str, Any],
        wait_for: Iterable[Any] | None = None,
    ) -> TaskRunFutureList:
        from flowc.runtime import mapping

        return mapping.map_parameters(self, task, parameters, wait_for)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
