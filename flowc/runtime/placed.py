"""The driver's side of a task run placed whole on a process, Dask or Ray worker.

The worker runs the run's attempts itself (:mod:`flowc.runtime.worker`); the driver keeps
the record. :class:`PlacedRun` sends the unit, applies the events the worker tells as they
happen — the run's own Running / AwaitingRetry / Retrying, and the task runs it submits
itself, recorded here with their parent — and settles the run from the worker's result, after
applying whatever events the live channel had not yet brought.

What only the driver can know stays here: a worker that died mid-run (the run is placed again
while it has retries left, else Crashed), a call the cluster cancelled, an input that could
not be sent, and, on Dask and Ray, a run placed before its upstreams finished that found one
of them failed (it goes back to ordinary scheduling).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import pickle
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from flowc.runtime import engine, events, states
from flowc.runtime.calls import Call, Outcome, RemoteTraceback
from flowc.runtime.inputs import Upstreams
from flowc.runtime.states import State, StateType
from flowc.runtime.taskrun import TaskRun
from flowc.runtime.worker import Unit, UnitResult, run_unit

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.tasks import Task

__all__ = ["PlacedRun"]

#: the nested runs of a placement that has none (never written to).
_NO_NESTED: dict[str, TaskRun] = {}

_FINAL_TYPES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}
)


class PlacedRun:
    """One placement of a whole task run on a worker of another process."""

    __slots__ = (
        "run",
        "runner",
        "resolved",
        "pipelined",
        "token",
        "applied",
        "nested",
        "lock",
        "reruns",
        "execution",
        "lost",
        "settling",
    )

    def __init__(
        self,
        run: TaskRun,
        runner: TaskRunner,
        resolved: dict[str, Any],
        pipelined: bool = False,
    ) -> None:
        self.run = run
        self.runner = runner
        self.resolved = resolved
        #: placed before its upstreams finished (Dask, Ray), their native futures as inputs.
        self.pipelined = pipelined
        #: the unit's token at the event hub, while it may send events.
        self.token: int | None = None
        self.applied = 0
        #: task runs the worker made under this one, by id (hex); most runs make none.
        self.nested: dict[str, TaskRun] = _NO_NESTED
        self.lock = threading.Lock()
        #: executions of this unit the cluster started again after their worker died.
        self.reruns = 0
        #: the worker-side execution whose events are being applied, and those before it.
        self.execution: int | None = None
        self.lost: set[int] | None = None
        #: the worker's result is being applied (its events replayed first).
        self.settling = False

    def place(self) -> None:
        run = self.run
        self.token = events.hub().register(self.on_event)
        try:
            blob = _task_blob(run.task)
        except BaseException as exc:
            self.on_done(exc)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C while placing: the flow stops, the run is settled
            return
        unit = Unit(
            blob,
            run.kind,
            self.resolved,
            run.id.int,
            run.name,
            run.node,
            run.run_count,
            _flow_info(run.flow_run),
            self.token,
        )
        call = Call(run_unit, (unit,), {}, None, False)
        try:
            placement = self.runner.place(run, call)
        except BaseException as exc:  # e.g. an argument that cannot be pickled
            self.on_done(exc)
            if not isinstance(exc, Exception):
                raise
            return
        placement.add_done_callback(self.on_done)

    # ----------------------------------------------------------------- events

    def on_event(self, sequence: tuple[int, int], event: tuple[Any, ...]) -> None:
        with self.lock:
            self._apply(sequence, event)

    def _apply(self, sequence: tuple[int, int], event: tuple[Any, ...]) -> None:
        execution, number = sequence
        if execution != self.execution:
            if self.lost is not None and execution in self.lost:
                return  # news of an execution that was lost, arriving late
            if self.execution is not None:
                # The unit began again: the cluster ran it anew after its worker died
                # (Dask does, up to its allowed failures). The lost attempt counts.
                self.reruns += 1
                if self.lost is None:
                    self.lost = set()
                self.lost.add(self.execution)
            self.execution, self.applied = execution, 0
        if number != self.applied + 1:
            return  # already applied, or one before it is missing: the result has all
        self.applied = number
        if event[0] == "state":
            self._state(*event[1:])
        elif event[0] == "created":
            self._created(*event[1:])
        elif event[0] == "log":
            _log(*event[1:])
        elif event[0] == "artifact":
            from flowc.runtime.artifacts import ArtifactRecord, record_artifact

            record_artifact(ArtifactRecord(**event[1]), self.run.flow_run)

    def _state(
        self, run_id: str, type_: str, name: str, message: str | None, ts: float, run_count: int
    ) -> None:
        kind = StateType(type_)
        run = self.run if run_id == self.run.id.hex else self.nested.get(run_id)
        if run is None or run.is_final():
            return
        run.run_count = run_count + (self.reruns if run is self.run else 0)
        if kind is StateType.RUNNING and run.start is None:
            run.start = ts
        if run is self.run:
            # The final state comes with the result; while the result is being applied, the
            # run's passing states would be replaced at once.
            if kind not in _FINAL_TYPES and not self.settling:
                engine.set_state(run, State(kind, name, message, timestamp=ts))
            return
        engine.set_state(run, State(kind, name, message, timestamp=ts))
        if kind in _FINAL_TYPES:
            run.end = ts
            run.release()

    def _created(
        self,
        run_id: str,
        parent_id: str | None,
        task_name: str,
        kind: str,
        node: str | None,
        name: str,
        data_ids: list[str],
        wait_ids: list[str],
    ) -> None:
        placed = self.run
        parent = placed if parent_id in (None, placed.id.hex) else self.nested.get(parent_id)
        upstreams = Upstreams()
        for upstream_id in data_ids:
            upstream = self.nested.get(upstream_id)
            if upstream is not None:
                upstreams.add(upstream, allowed=False)
        wait_for = [self.nested[i] for i in wait_ids if i in self.nested]
        flow_run = placed.flow_run
        mirror = TaskRun(
            _stand_in(task_name), kind, flow_run, {}, upstreams, wait_for, None, parent, name
        )
        mirror._id = _uuid(run_id)
        mirror.node = node
        mirror.observed = True  # its parent task resolved it, or not: not the flow's concern
        if self.nested is _NO_NESTED:
            self.nested = {}
        self.nested[run_id] = mirror
        if flow_run is not None:
            flow_run.root.records.append(mirror)

    # ----------------------------------------------------------------- the result

    def on_done(self, outcome: Outcome | BaseException) -> None:
        run = self.run
        if self.token is not None:
            events.hub().unregister(self.token)
        if isinstance(outcome, Outcome) and outcome.ok and isinstance(outcome.value, UnitResult):
            self._settle(outcome.value)
            return
        if self.pipelined and engine.upstream_missing(run, outcome):
            run.start = None
            engine.set_state(run, states.Pending())
            engine.schedule(run, self.runner)
            return
        self._end_nested("its worker stopped before it ended")
        if isinstance(outcome, Outcome):  # the unit itself could not run or reply
            error = outcome.value
            run.run_count = max(run.run_count, 1)
            message = f"Task run encountered an exception {engine.describe(error)}"
            engine.finalize(run, states.Failed(message, data=error), outcome.end, hooks=False)
        elif isinstance(outcome, concurrent.futures.CancelledError):
            engine.finalize(run, states.Cancelled("The task run was cancelled before it started."))
        else:
            self._lost(outcome)

    def _settle(self, result: UnitResult) -> None:
        run = self.run
        with self.lock:
            self.settling = True
            for sequence, event in result.events:
                self._apply(sequence, event)
        self._end_nested("its parent task run ended first")
        run.run_count = result.run_count + self.reruns
        message = result.message
        if self.reruns:
            lost = f"{self.reruns} attempt(s) lost with their worker; the cluster ran it again"
            message = f"{message} ({lost})" if message else lost
        if result.start is not None:
            run.start = result.start
        data = result.data
        if isinstance(data, BaseException) and result.traceback and data.__cause__ is None:
            data.__cause__ = RemoteTraceback(result.traceback, run.task.fn)
        state = State(result.type, result.name, message, data, timestamp=result.end)
        engine.finalize(run, state, result.end, hooks=False)  # caches and checkpoints it

    def _lost(self, error: BaseException) -> None:
        """The worker died, or the cluster lost the call: place it again while retries last."""
        run = self.run
        from flowc.runtime.runners.errors import CallNotSent

        if isinstance(error, CallNotSent):
            message = f"Task run encountered an exception {engine.describe(error)}"
            engine.finalize(run, states.Failed(message, data=error), hooks=False)
            return
        attempts = max(run.run_count, 1)
        if attempts <= run.task.retries:
            run.run_count = attempts
            engine.set_state(
                run,
                states.AwaitingRetry(
                    f"Retry {attempts}/{run.task.retries} will start after the worker was lost: "
                    f"{engine.describe(error)}"
                ),
            )
            retry = PlacedRun(run, self.runner, self.resolved)
            delay = run.task.retry_delay_for(attempts)
            if delay:
                from flowc.runtime.timers import call_later

                call_later(delay, retry.place)
            else:
                retry.place()
            return
        run.run_count = attempts
        engine.finalize(
            run,
            states.Crashed(f"Execution was interrupted: {engine.describe(error)}", data=error),
            hooks=False,
        )

    def _end_nested(self, why: str) -> None:
        """Nested runs the worker never reported final: they crashed with it."""
        with self.lock:
            left = [mirror for mirror in self.nested.values() if not mirror.is_final()]
        now = time.time()
        for mirror in left:
            engine.set_state(mirror, states.Crashed(f"Task run did not finish: {why}."))
            mirror.end = now
            mirror.release()


def _log(name: str, level: int, text: str, created: float, fields: dict[str, Any]) -> None:
    """A worker's run log record, handled here as if logged here (the driver shows logs)."""
    logger = logging.getLogger(name)
    if logger.isEnabledFor(level):
        record = logging.makeLogRecord(
            {
                "name": name,
                "levelno": level,
                "levelname": logging.getLevelName(level),
                "msg": text,
                "created": created,
                **fields,
            }
        )
        logger.handle(record)


def _flow_info(flow_run: FlowRun | None) -> bytes:
    """What a worker is told of the flow run — ids, names, parameters if they travel, and
    where its events go — pickled once per flow run (and unpickled once per worker, see
    ``worker.unpickled_once``)."""
    global _no_flow_run
    if flow_run is None:
        if _no_flow_run is None:
            _no_flow_run = pickle.dumps((None, "", "", {}, None, events.hub().endpoint))
        return _no_flow_run
    info = flow_run.worker_info
    if info is None:
        import cloudpickle

        parameters = flow_run.parameters
        log_prints = getattr(flow_run.flow, "log_prints", None)
        names = (flow_run.id, flow_run.name, flow_run.run_name)
        endpoint = events.hub().endpoint
        try:
            info = cloudpickle.dumps((*names, parameters, log_prints, endpoint))
        except Exception:  # the tasks can still run; only run information lacks them
            info = cloudpickle.dumps((*names, {}, log_prints, endpoint))
        flow_run.worker_info = info
    return info


_no_flow_run: bytes | None = None


_blobs: weakref.WeakKeyDictionary[Task[Any], bytes] = weakref.WeakKeyDictionary()


def _task_blob(task: Task[Any]) -> bytes:
    """The task pickled, once per task object: a map of 10,000 items sends the same bytes."""
    blob = _blobs.get(task)
    if blob is None:
        import cloudpickle

        from flowc.runtime.runners.errors import CallNotSent

        try:
            blob = cloudpickle.dumps(task)
        except Exception as exc:
            raise CallNotSent(
                f"task {task.name!r} cannot be sent to a worker: its function or options cannot "
                f"be pickled ({exc}); define it at module level, or run it on the thread runner"
            ) from exc
        _blobs[task] = blob
    return blob


@functools.lru_cache(maxsize=1024)
def _stand_in(task_name: str) -> Task[Any]:
    """The task of a nested run, by name: the driver records it, never runs it."""
    from flowc.runtime.tasks import Task

    return Task(_ran_in_worker, name=task_name)


def _ran_in_worker() -> None:
    raise RuntimeError("this task ran on a worker; the driver holds only its record")


def _uuid(hex_id: str) -> Any:
    import uuid

    return uuid.UUID(hex=hex_id)
