"""A task run placed on a process, Dask or Ray worker runs there whole, as Prefect runs it.

The unit the driver sends is a task run, not one call: its inputs already resolved, its
task with every option. Here, in the worker, the engine itself (:mod:`flowc.runtime.engine`)
runs it against a *worker flow run* — a stand-in for the driver's flow run that carries its
id, names and parameters — so everything that works on threads works the same way here:

* the attempts loop: retries with their delays (lists and jitter), ``retry_condition_fn``,
  the timeout of each attempt, ``on_running``/``on_completion``/``on_failure`` hooks — all in
  the process that keeps the task's module state between attempts, as in Prefect;
* the run context: ``get_run_logger()``, the run's and the flow run's names and parameters;
* tasks that submit, map or call tasks: those nested runs execute on a thread pool of this
  worker's own, started on first use (see ``docs/runners.md`` for why here and not on the
  cluster), and the unit ends only once they are final.

Every state change and every nested run is told to the driver as it happens
(:mod:`flowc.runtime.events`) and returned again with the outcome, so the driver's report
records each attempt and each nested run, with its parent, exactly.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import traceback
import types
import uuid
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.runtime import events
from flowc.runtime.context import flow_run_var
from flowc.runtime.flowrun import FlowRun
from flowc.runtime.inputs import Upstreams
from flowc.runtime.lineage import ResultLinks
from flowc.runtime.states import State, StateType
from flowc.runtime.taskrun import TaskRun

if TYPE_CHECKING:
    from flowc.runtime.runners.base import TaskRunner
    from flowc.runtime.tasks import Task

__all__ = ["Unit", "UnitResult", "run_unit"]


class Unit:
    """One task run as the driver sends it: the task, its resolved inputs, who it is."""

    __slots__ = (
        "task_blob",
        "kind",
        "parameters",
        "run_id",
        "run_name",
        "node",
        "attempts_done",
        "flow",
        "token",
    )

    def __init__(
        self,
        task_blob: bytes,
        kind: str,
        parameters: dict[str, Any],
        run_id: int,
        run_name: str,
        node: str | None,
        attempts_done: int,
        flow: bytes,
        token: int | None,
    ) -> None:
        #: the task, pickled once per flow run by the driver and unpickled once per worker.
        self.task_blob = task_blob
        self.kind = kind
        self.parameters = parameters
        #: the run's id as an integer: a UUID pickles through Python code, an int in C.
        self.run_id = run_id
        self.run_name = run_name
        self.node = node
        #: attempts made before this placement (a worker that died took the last one).
        self.attempts_done = attempts_done
        #: the flow run, pickled once per flow run: (id, flow name, run name, parameters,
        #: log_prints, where the driver's event hub listens).
        self.flow = flow
        #: the unit's token at that hub.
        self.token = token

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Unit,
            (
                self.task_blob,
                self.kind,
                self.parameters,
                self.run_id,
                self.run_name,
                self.node,
                self.attempts_done,
                self.flow,
                self.token,
            ),
        )

    @property
    def task(self) -> Task[Any]:
        return unpickled_once(self.task_blob)  # type: ignore[no-any-return]


_unpickled: dict[bytes, Any] = {}
_UNPICKLED_KEPT = 256


def unpickled_once(blob: bytes) -> Any:
    """What ``blob`` holds (a task, a flow run's information), unpickled once per worker
    process rather than once per run: a map of 10,000 items sends the same bytes each time."""
    value = _unpickled.get(blob)
    if value is None:
        value = cloudpickle.loads(blob)
        if len(_unpickled) >= _UNPICKLED_KEPT:
            _unpickled.clear()
        _unpickled[blob] = value
    return value


class UnitResult:
    """How a unit ended: its final state (type, name, message, data), attempts and times,
    the worker-side traceback text of a failure, and every event it sent."""

    __slots__ = (
        "type",
        "name",
        "message",
        "data",
        "traceback",
        "run_count",
        "start",
        "end",
        "events",
    )

    def __init__(
        self,
        type: StateType,
        name: str,
        message: str | None,
        data: Any,
        traceback: str | None,
        run_count: int,
        start: float | None,
        end: float | None,
        events: list[tuple[tuple[int, int], tuple[Any, ...]]],
    ) -> None:
        self.type = type
        self.name = name
        self.message = message
        self.data = data
        self.traceback = traceback
        self.run_count = run_count
        self.start = start
        self.end = end
        self.events = events

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            UnitResult,
            (
                self.type,
                self.name,
                self.message,
                self.data,
                self.traceback,
                self.run_count,
                self.start,
                self.end,
                self.events,
            ),
        )


# --------------------------------------------------------------------------- the worker flow run


class WorkerFlowRun(FlowRun):
    """The driver's flow run, as seen from a worker running one of its task runs.

    It has the driver's ids and names (for ``get_run_logger`` and run information) and the
    engine's bookkeeping for the runs made here; it tells the driver of each run created and
    each state set (the engine calls :meth:`created` and :meth:`state_set` through
    ``FlowRun.observer``).
    """

    def __init__(self, unit: Unit) -> None:  # no super().__init__: nothing to register
        flow_id, flow_name, run_name, parameters, log_prints, endpoint = unpickled_once(unit.flow)
        self.id = flow_id
        #: what is read of the Flow object here; the driver holds the Flow itself.
        self.flow = types.SimpleNamespace(name=flow_name, log_prints=log_prints)  # type: ignore[assignment]
        self.name = flow_name
        self.run_name = run_name
        self.parameters = dict(parameters)  # shared by the units of this flow run here
        self.parent = None
        self.root = self
        self.record = None
        self.runs = []
        self.links = _NestedLinks(self)
        self.state = State(StateType.RUNNING)
        self.start = time.time()
        self.end = None
        self.run_count = 1
        self.records = []
        self.flow_runs = []
        self.node_counters = {}
        self.source_file = None
        self.plan = None
        self.deferred = None
        self.observer = self
        token = unit.token
        self._outbox = events.Outbox((*endpoint, token)) if token is not None else None
        #: tells this execution of the unit from another the cluster may start after a
        #: worker died: events are numbered within an execution.
        self._execution = random.getrandbits(63)
        self._events: list[tuple[tuple[int, int], tuple[Any, ...]]] = []
        self._events_lock = threading.Lock()
        self._nested: TaskRunner | None = None
        self._nested_lock = threading.Lock()
        #: the task run the driver placed here (set once it is made).
        self.placed: TaskRun | None = None

    @property  # type: ignore[override]  # started on first use: most tasks submit nothing
    def runner(self) -> TaskRunner:
        with self._nested_lock:
            if self._nested is None:
                from flowc.runtime.runners.threads import ThreadPoolTaskRunner

                self._nested = ThreadPoolTaskRunner().__enter__()
            return self._nested

    @runner.setter
    def runner(self, value: TaskRunner) -> None:
        raise AttributeError("a worker flow run's runner is its own")

    def emit(self, event: tuple[Any, ...]) -> None:
        with self._events_lock:
            sequence = (self._execution, len(self._events) + 1)
            self._events.append((sequence, event))
            if self._outbox is not None:
                self._outbox.put(sequence, event)

    def created(self, run: TaskRun) -> None:
        parent = run.parent
        self.emit(
            (
                "created",
                run.id.hex,
                parent.id.hex if parent is not None else None,
                run.task.name,
                run.kind,
                run.node,
                run.name,
                [up.id.hex for up in run.upstreams.edges()],
                [up.id.hex for up in run.wait_for],
            )
        )

    def state_set(self, run: TaskRun, state: State) -> None:
        if run is self.placed and state.is_final():
            return  # the unit's result carries it
        self.emit(
            (
                "state",
                run.id.hex,
                state.type.value,
                state.name,
                state.message,
                state._ts,
                run.run_count,
            )
        )

    def finish(self) -> list[tuple[tuple[int, int], tuple[Any, ...]]]:
        """Wait for the runs made here, stop their pool; every event sent, in order."""
        with contextlib.suppress(BaseException):
            self.wait_for_task_runs()
        with self._nested_lock:
            nested, self._nested = self._nested, None
        if nested is not None:
            nested.__exit__(None, None, None)
        with self._events_lock:
            if self._outbox is not None:
                self._outbox.close()
            return list(self._events)


class _NestedLinks(ResultLinks):
    """The results of the runs made here, for the value edges between them. The placed run's
    own result is left out: it is made last, so no run here can be given it, and linking it
    (with each of its members) would only cost the unit time."""

    __slots__ = ("flow_run",)

    def __init__(self, flow_run: WorkerFlowRun) -> None:
        super().__init__()
        self.flow_run = flow_run

    def link(self, value: Any, run: TaskRun) -> None:
        if run is not self.flow_run.placed:
            super().link(value, run)


# --------------------------------------------------------------------------- running a unit


def run_unit(unit: Unit) -> UnitResult:
    """Run the task run of ``unit`` whole, here; never raises for what the task does."""
    from flowc.runtime import engine
    from flowc.runtime.runners.inline import InlineRunner

    flow_run = WorkerFlowRun(unit)
    task = unit.task
    _forward_logs()
    if task.log_prints or flow_run.flow.log_prints:
        from flowc.runtime.prints import install_print_logging

        install_print_logging()  # the task arrived unpickled, not built by its decorator
    run = TaskRun(task, unit.kind, flow_run, unit.parameters, Upstreams(), [], None)
    run._id = uuid.UUID(int=unit.run_id)
    run._name = unit.run_name
    run.node = unit.node
    run.run_count = unit.attempts_done
    flow_run.placed = run
    with InlineRunner() as runner:
        engine.run_placed(run, runner)
        state = run.wait()
    recorded = flow_run.finish()
    return _result_of(run, state, recorded)


_RUN_FIELDS = ("flow_run_name", "flow_name", "task_run_name", "task_name")


class _ToDriver(logging.Handler):
    """Sends flowc's run loggers' records to the driver of the unit they are logged in."""

    def emit(self, record: logging.LogRecord) -> None:
        flow_run = flow_run_var.get()
        observer = flow_run.root.observer if flow_run is not None else None
        if observer is None:
            return
        fields = {name: getattr(record, name) for name in _RUN_FIELDS if hasattr(record, name)}
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        observer.emit(("log", record.name, record.levelno, text, record.created, fields))


_forwarding = threading.Lock()
_to_driver = _ToDriver()
_flowc_logger = logging.getLogger("flowc")


def _forward_logs() -> None:
    """Once per worker process (again if the handler was removed): run loggers' records go
    to the driver, which shows them."""
    if _to_driver in _flowc_logger.handlers:
        return
    with _forwarding:
        if _to_driver not in _flowc_logger.handlers:
            _flowc_logger.addHandler(_to_driver)
            _flowc_logger.setLevel(logging.DEBUG)  # the driver's logger decides what is shown


def _result_of(
    run: TaskRun, state: State, recorded: list[tuple[tuple[int, int], tuple[Any, ...]]]
) -> UnitResult:
    data, text = state.data, None
    if isinstance(data, BaseException):
        text = "".join(traceback.format_exception(type(data), data, data.__traceback__))
        data = _sendable_exception(data)
    return UnitResult(
        state.type,
        state.name,
        state.message,
        data,
        text,
        run.run_count,
        run.start,
        run.end,
        recorded,
    )


def _sendable_exception(exc: BaseException) -> BaseException:
    """``exc`` bare (its traceback is sent as text), or a stand-in if it cannot travel back."""
    exc.__traceback__ = exc.__cause__ = exc.__context__ = None
    try:
        cloudpickle.loads(cloudpickle.dumps(exc))
    except Exception as problem:
        return RuntimeError(
            f"the task's exception ({type(exc).__name__}: {exc}) could not be sent back from "
            f"the worker: {problem}"
        )
    return exc
