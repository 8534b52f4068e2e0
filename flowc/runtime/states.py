"""Run states: one immutable value per transition, with Prefect's type and name vocabulary.

The state machine itself lives in the engine; this module only defines the values, their
predicates and how a state yields its result. A ``State`` must pickle, because states cross
process boundaries with results and exceptions.
"""

from __future__ import annotations

import datetime
import enum
import time
from typing import Any

from flowc.exceptions import CancelledRun, CrashedRun, FailedRun, UnfinishedRun

__all__ = [
    "AwaitingRetry",
    "Cached",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Late",
    "NotReady",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Scheduled",
    "State",
    "StateType",
    "TimedOut",
]


class StateType(str, enum.Enum):
    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"
    CANCELLING = "CANCELLING"

    def __str__(self) -> str:
        return self.value


TERMINAL_TYPES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}
)

_DEFAULT_NAMES = {
    StateType.SCHEDULED: "Scheduled",
    StateType.PENDING: "Pending",
    StateType.RUNNING: "Running",
    StateType.COMPLETED: "Completed",
    StateType.FAILED: "Failed",
    StateType.CANCELLED: "Cancelled",
    StateType.CRASHED: "Crashed",
    StateType.PAUSED: "Paused",
    StateType.CANCELLING: "Cancelling",
}


class State:
    """The state of a task or flow run at one moment.

    ``data`` holds the result of a completed run, the exception of a failed or crashed one,
    or (for an aggregated flow state) the list of states it was computed from.
    The timestamp is kept as a float and turned into a ``datetime`` only on request,
    because a run makes several states and most are never looked at.
    """

    __slots__ = ("type", "name", "message", "data", "_ts", "_run_id", "_run")

    def __init__(
        self,
        type: StateType,
        name: str | None = None,
        message: str | None = None,
        data: Any = None,
        timestamp: float | None = None,
    ) -> None:
        self.type = type if type.__class__ is StateType else StateType(type)
        self.name = name or _DEFAULT_NAMES[self.type]
        self.message = message
        self.data = data
        self._ts = time.time() if timestamp is None else timestamp
        #: The task run this state belongs to, once the engine sets it: a State passed to a
        #: task then counts as an upstream of that run, as a future would.
        self._run_id: Any = None
        self._run: Any = None  # the live run object; never pickled

    @property
    def run_id(self) -> Any:
        """The id of the run this state belongs to (None for a state made by user code)."""
        if self._run is not None:
            return self._run.id
        return self._run_id

    @property
    def timestamp(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self._ts, tz=datetime.timezone.utc)

    # Predicates, as Prefect names them.
    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_cancelling(self) -> bool:
        return self.type is StateType.CANCELLING

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        return self.type in TERMINAL_TYPES

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's return value; for a failed run, its exception (raised or returned)."""
        if self.type is StateType.COMPLETED:
            return self.data
        if not self.is_final():
            raise UnfinishedRun(
                f"Run is in {self.type.value} state, its result is not available."
                + (f" {self.message}" if self.message else "")
            )
        exc = self.exception()
        if raise_on_failure:
            raise exc
        return exc

    def exception(self) -> BaseException:
        """The exception that describes why this final, non-completed run did not complete."""
        data = self.data
        if isinstance(data, BaseException):
            return data
        if not self.is_final():
            return UnfinishedRun(self._unfinished_message())
        if isinstance(data, State):
            return data.exception()
        if isinstance(data, (list, tuple)):
            for item in data:
                if isinstance(item, State) and not item.is_completed():
                    return item.exception()
        kind = {StateType.CRASHED: CrashedRun, StateType.CANCELLED: CancelledRun}.get(
            self.type, FailedRun
        )
        return kind(self.message or f"Run is in {self.type.value} state.")

    def _unfinished_message(self) -> str:
        """Why there is no result; for a NotReady run, the upstream failure at the root of it."""
        text = f"Run is in {self.type.value} state, its result is not available."
        if self.message:
            text += f" {self.message}"
        run = self._run
        blocker = getattr(run, "blocked_by", None)
        while getattr(blocker, "blocked_by", None) is not None:
            blocker = blocker.blocked_by  # type: ignore[union-attr]
        if blocker is not None:
            cause = blocker.state
            text = (
                f"Task run {run.name!r} did not run: its upstream {blocker.name!r} ended "
                f"{cause.name}" + (f" ({cause.message})" if cause.message else "") + f". {text}"
            )
        return text

    def copy(self, **changes: Any) -> State:
        fields = {"type": self.type, "name": self.name, "message": self.message, "data": self.data}
        fields.update(changes)
        return State(**fields)

    def __str__(self) -> str:
        message = repr(self.message) if self.message else ""
        shown_type = (
            "" if self.type.value.lower() == self.name.lower() else f"type={self.type.value}"
        )
        inner = ", ".join(part for part in (message, shown_type) if part)
        return f"{self.name}({inner})"

    def __repr__(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_state,
            (self.type, self.name, self.message, self.data, self._ts, self.run_id),
        )


def _rebuild_state(
    type_: StateType, name: str, message: str | None, data: Any, ts: float, run_id: Any
) -> State:
    state = State(type_, name=name, message=message, data=data, timestamp=ts)
    state._run_id = run_id
    return state


def _constructor(type_: StateType, default_name: str | None = None) -> Any:
    name_of = default_name or _DEFAULT_NAMES[type_]

    def make(
        message: str | None = None, *, name: str | None = None, data: Any = None, **_: Any
    ) -> State:
        return State(type_, name=name or name_of, message=message, data=data)

    make.__name__ = make.__qualname__ = name_of
    make.__doc__ = f"A new ``{type_.value}`` state named ``{name_of}``."
    return make


Scheduled = _constructor(StateType.SCHEDULED)
Late = _constructor(StateType.SCHEDULED, "Late")
AwaitingRetry = _constructor(StateType.SCHEDULED, "AwaitingRetry")
Pending = _constructor(StateType.PENDING)
NotReady = _constructor(StateType.PENDING, "NotReady")
Running = _constructor(StateType.RUNNING)
Retrying = _constructor(StateType.RUNNING, "Retrying")
Completed = _constructor(StateType.COMPLETED)
Cached = _constructor(StateType.COMPLETED, "Cached")
Failed = _constructor(StateType.FAILED)
TimedOut = _constructor(StateType.FAILED, "TimedOut")
Crashed = _constructor(StateType.CRASHED)
Cancelled = _constructor(StateType.CANCELLED)
Cancelling = _constructor(StateType.CANCELLING)
Paused = _constructor(StateType.PAUSED)
