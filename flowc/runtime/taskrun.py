"""The record of one task run: what it runs, what it waits on, where it stands.

A ``TaskRun`` is data plus one completion signal (a ``concurrent.futures.Future`` that is set
with the final state). The engine moves it through its states; futures, ``wait`` and
``as_completed`` read it. It carries only what a run report and the engine need, in slots,
because a flow may hold hundreds of thousands of them.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import random
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowc.runtime.states import State, StateType
from flowc.runtime.tags import current_tags

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.inputs import Upstreams
    from flowc.runtime.tasks import Task

__all__ = ["TaskRun"]


class TaskRun:
    __slots__ = (
        "_id",
        "task",
        "kind",
        "flow_run",
        "parent",
        "parameters",
        "upstreams",
        "wait_for",
        "wait_values",
        "state",
        "run_count",
        "start",
        "end",
        "_final",
        "_callbacks",
        "_future",
        "site",
        "observed",
        "has_downstream",
        "settled",
        "blocked_by",
        "_name",
        "node",
        "checkpoint_key",
        "transaction",
        "priority",
        "context_tags",
        "__weakref__",
    )

    def __init__(
        self,
        task: Task,
        kind: str,
        flow_run: FlowRun | None,
        parameters: dict[str, Any],
        upstreams: Upstreams,
        wait_for: list[TaskRun],
        site: tuple[str, int] | tuple[str, int, int] | None,
        parent: TaskRun | None = None,
        name: str | None = None,
    ) -> None:
        self._id: uuid.UUID | None = None
        self.task = task
        #: how the run was created: "submit", "map", "call" (direct call) or "subflow".
        self.kind = kind
        self.flow_run = flow_run
        self.parent = parent
        self.parameters = parameters
        self.upstreams = upstreams
        self.wait_for = wait_for
        #: runs whose results were given in ``wait_for``: recorded edges, never waited on.
        self.wait_values: list[TaskRun] | None = None
        self.state: State = _pending_state(self)
        self.run_count = 0
        self.start: float | None = None
        self.end: float | None = None
        self._final = False
        self._callbacks: list[Callable[[TaskRun], object]] | None = None
        self._future: concurrent.futures.Future[State] | None = None
        self.site = site
        #: set once user code waited on or took the result of this run (or of a downstream).
        self.observed = False
        self.has_downstream = False
        #: the last attempt whose outcome (or timeout) has been decided.
        self.settled = 0
        #: the upstream that kept this run from running (it is NotReady), if any.
        self.blocked_by: TaskRun | None = None
        self._name = name
        #: the plan node id (``task@line#i``), see :mod:`flowc.runtime.nodeids`.
        self.node: str | None = None
        #: its key in the run's checkpoint store (``--checkpoint``), once dispatched.
        self.checkpoint_key: str | None = None
        #: the transaction it was created in, then its own (see flowc.runtime.caching).
        self.transaction: Any = None
        #: plan mode: the longest remaining path from this run (see flowc.optimize).
        self.priority = 0.0
        #: the tags of the ``tags(...)`` blocks around the call that created the run.
        self.context_tags = current_tags()

    @property
    def id(self) -> uuid.UUID:
        """A random (version 4) UUID, made on first use: most runs are never asked for one."""
        if self._id is None:
            self._id = uuid.UUID(int=_random_bits(128), version=4)
        return self._id

    @property
    def name(self) -> str:
        """The run's name: ``task_run_name`` rendered, else the task name and a short id."""
        name = self._name
        if name is None:
            name = self._name = f"{self.task.name}-{self.id.hex[:3]}"
        return name

    @property
    def tags(self) -> frozenset[str]:
        """Prefect's task run tags: the task's own and those of enclosing ``tags(...)`` blocks."""
        return frozenset(self.task.tags) | self.context_tags

    @property
    def task_name(self) -> str:
        return self.task.name

    @property
    def flow_name(self) -> str | None:
        return self.flow_run.name if self.flow_run is not None else None

    # Completion. Most runs are never waited on while unfinished, so the blocking primitive
    # (a ``concurrent.futures.Future``, with its lock and condition) is made only on demand;
    # a flag and a callback list, guarded by one module lock, serve everyone else.

    def is_final(self) -> bool:
        return self._final

    def add_done_callback(self, fn: Callable[[TaskRun], object]) -> None:
        """Call ``fn(run)`` once the run is final: now, in this thread, if it already is."""
        with _completion_lock:
            if not self._final:
                if self._callbacks is None:
                    self._callbacks = [fn]
                else:
                    self._callbacks.append(fn)
                return
        fn(self)

    def completion(self) -> concurrent.futures.Future[State]:
        """A future that is (or will be) set with the final state: for ``wait``-style APIs."""
        flow_run = self.flow_run
        if flow_run is not None and flow_run.deferred and not self._final:
            flow_run.flush()
        with _completion_lock:
            future = self._future
            if future is None:
                future = self._future = concurrent.futures.Future()
                if not self._final:
                    return future
            else:
                return future
        future.set_result(self.state)
        return future

    def wait(self, timeout: float | None = None) -> State:
        """Block until final and return the final state; ``TimeoutError`` after ``timeout``."""
        if self._final:
            return self.state
        flow_run = self.flow_run
        if flow_run is not None and flow_run.deferred:
            flow_run.flush()
        try:
            return self.completion().result(timeout)
        except concurrent.futures.TimeoutError:  # a distinct class on Python 3.10
            raise TimeoutError(f"task run {self.name!r} is not final after {timeout}s") from None

    def release(self) -> None:
        """Mark the run final (its state is set) and wake waiters and callbacks, once."""
        with _completion_lock:
            if self._final:
                return
            self._final = True
            callbacks, self._callbacks = self._callbacks, None
            future = self._future
        if future is not None:
            future.set_result(self.state)
        if callbacks:
            for callback in callbacks:
                try:
                    callback(self)
                except Exception:
                    logger.exception("callback %r on task run %s failed", callback, self.name)

    def __repr__(self) -> str:
        return f"<TaskRun {self.name!r} {self.state}>"


_completion_lock = threading.Lock()
logger = logging.getLogger("flowc.runtime")

#: Run ids come from a PRNG seeded from the OS once: ``uuid4()`` reads ``os.urandom`` on
#: every call, a system call that costs more than the rest of a submit on some kernels.
_random_bits = random.Random(os.urandom(32)).getrandbits


def _pending_state(run: TaskRun) -> State:
    state = State(StateType.PENDING)
    state._run = run
    return state
