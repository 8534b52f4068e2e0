"""What travels to a worker of another process and back: one format, one set of messages.

Every runner of another process (processes, Dask, Ray) sends a call the same way and gets
the same thing back:

* **Out**: :func:`pack` turns a :class:`~flowc.runtime.calls.Call` into bytes with cloudpickle
  (lambdas, closures and tasks of ``__main__`` travel by value). What does not pickle fails
  that run, never the flow, with a message naming the argument (:class:`CallNotSent`). A
  whole task run whose arguments are plain data (numbers, strings, bytes and containers of
  them; its task and flow run are bytes already) goes with the standard pickler instead:
  cloudpickle would send the same bytes at several times the cost, looking up every object
  it meets to decide whether it travels by value.
* **There**: :func:`run_packed` unpickles and runs it under Prefect's import names when the
  driver ran under them, and never raises for what the call does.
* **Back**: the call's :class:`~flowc.runtime.calls.Outcome`, pickled in the worker, so that a
  result or an exception that cannot travel back is caught where it is made and replaced by
  a failure that names its type. The standard pickler is tried first: it refuses whatever
  it could only send by reference to something the driver may not have (a function, or a
  class that this worker got by value), and that goes with cloudpickle. An exception goes
  bare: its worker-side traceback travels as text and is shown under it
  (:class:`~flowc.runtime.calls.RemoteTraceback`), since a frame of a function pickled by
  value would only read ``<dynamic-code>``.
"""

from __future__ import annotations

import contextlib
import pickle
import time
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.runtime.calls import Call, Outcome, run_call
from flowc.runtime.prefect_alias import prefect_aliases, prefect_aliases_active
from flowc.runtime.runners.errors import CallNotSent
from flowc.runtime.states import StateType
from flowc.runtime.worker import Unit, UnitResult, run_unit

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["CallNotSent", "Outcome", "outcome_of", "pack", "run_packed", "sent_by_reference"]


# --------------------------------------------------------------------------- out


def pack(run: TaskRun, call: Call) -> bytes:
    """The call as bytes for a worker; an unpicklable part fails the run, naming it."""
    aliased = prefect_aliases_active()  # a task body may ``import prefect`` under flowc run
    envelope = (call.fn, call.args, call.kwargs, call.is_async, aliased)
    try:
        if _plain_unit(call):
            return pickle.dumps(envelope, _PROTOCOL)
        return cloudpickle.dumps(envelope)
    except Exception as exc:
        raise CallNotSent(_unpicklable(run, call, exc)) from exc


_PROTOCOL = pickle.HIGHEST_PROTOCOL
_SCALARS = frozenset({int, float, complex, str, bytes, bool, type(None)})
_CONTAINERS = frozenset({list, tuple, set, frozenset})
#: the most objects looked at before a value is sent with cloudpickle anyway.
_PLAIN_LIMIT = 256
_by_reference: set[type] = set()


def sent_by_reference(cls: type) -> type:
    """Mark ``cls`` (a flowc class that pickles as a call of a flowc function) as plain data."""
    _by_reference.add(cls)
    return cls


def _plain_unit(call: Call) -> bool:
    """Whether ``call`` is one whole task run whose arguments are plain data: then everything
    in it pickles the same with the standard pickler (flowc's functions and classes by
    reference), and nothing there would need cloudpickle's by-value functions and classes."""
    if call.fn is not run_unit or len(call.args) != 1 or call.kwargs:
        return False
    unit = call.args[0]
    return type(unit) is Unit and _plain(unit.parameters)


def _plain(value: Any) -> bool:
    """Whether ``value`` is built of numbers, strings, bytes and the builtin containers only
    (exactly those types: a subclass may be defined in ``__main__``), within a budget."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind in _SCALARS or kind in _by_reference:
            continue
        seen += 1
        if seen > _PLAIN_LIMIT:
            return False
        if kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind in _CONTAINERS:
            stack.extend(item)
        else:
            return False
    return True


def _unpicklable(run: TaskRun, call: Call, exc: Exception) -> str:
    where = f"task {run.task.name!r} cannot be sent to a worker"
    for label, value in _parts(call):
        try:
            cloudpickle.dumps(value)
        except Exception as inner:
            return (
                f"{where}: {label} cannot be pickled ({inner}); pass picklable data, "
                "or run this task on the thread runner"
            )
    return f"{where}: {exc}"


def _parts(call: Call) -> list[tuple[str, Any]]:
    """What a call carries, labelled as the user knows it: a whole task run's arguments by
    parameter name, its task, then anything else."""
    unit = call.args[0] if len(call.args) == 1 and isinstance(call.args[0], Unit) else None
    if unit is not None:
        return [(f"argument {name!r}", value) for name, value in unit.parameters.items()]
    parts = [("its function", call.fn)]
    parts += [(f"positional argument {i}", value) for i, value in enumerate(call.args)]
    return parts + [(f"argument {name!r}", value) for name, value in call.kwargs.items()]


# --------------------------------------------------------------------------- there and back


def run_packed(payload: bytes) -> bytes:
    """Worker side: run a packed call; its outcome, pickled, whatever the call did."""
    try:
        fn, args, kwargs, is_async, aliased = cloudpickle.loads(payload)
    except BaseException as exc:  # e.g. a module the worker cannot import
        now = time.time()
        return _dumped(Outcome(False, exc, now, now, f"{type(exc).__name__}: {exc}\n"))
    with prefect_aliases() if aliased else contextlib.nullcontext():
        outcome = run_call(fn, args, kwargs, None, keep_traceback_text=True, is_async=is_async)
    return _dumped(outcome)


def _dumped(outcome: Outcome) -> bytes:
    """``outcome`` pickled; what would not survive the trip is replaced by a failure."""
    if not outcome.ok:
        outcome = Outcome(
            False, _bare(outcome.value), outcome.start, outcome.end, outcome.traceback
        )
    try:
        data = _dumps(outcome)
        if not outcome.ok:
            cloudpickle.loads(data)  # an exception that pickles may still not unpickle
        return data
    except Exception as exc:
        return cloudpickle.dumps(_unsent(outcome, exc))


def _dumps(value: Any) -> bytes:
    """``value`` pickled: by the standard pickler where it can be, else by cloudpickle.

    The standard pickler sends a class or a function by reference only after checking that
    this process imports that very object under its name; a class that came by value (from
    the driver's ``__main__`` or a file ``flowc run`` loaded) fails that check, and a lambda
    has no name, so those, and only those, need cloudpickle's by-value pickling.
    """
    try:
        return pickle.dumps(value, _PROTOCOL)
    except Exception:
        return cloudpickle.dumps(value)


def _bare(exc: BaseException) -> BaseException:
    exc.__traceback__ = exc.__cause__ = exc.__context__ = None
    return exc


def _unsent(outcome: Outcome, problem: Exception) -> Outcome:
    """The failure that stands for an outcome that could not be sent back."""
    value = outcome.value
    if isinstance(value, UnitResult):  # a whole task run: it fails, its record is kept
        what = "result" if value.type is StateType.COMPLETED else "exception"
        error = RuntimeError(
            f"the task's {what} of type {type(value.data).__name__} could not be sent back "
            f"from the worker: {problem}"
        )
        value.type, value.name = StateType.FAILED, "Failed"
        value.message = f"Task run encountered an exception RuntimeError: {error}"
        value.data = error
        return Outcome(True, value, outcome.start, outcome.end)
    what = "result" if outcome.ok else "exception"
    error = RuntimeError(
        f"the task's {what} of type {type(value).__name__} could not be sent back from the "
        f"worker: {problem}"
    )
    return Outcome(False, error, outcome.start, outcome.end, outcome.traceback)


def outcome_of(data: Any) -> Outcome | BaseException:
    """Driver side: the outcome in a worker's reply (bytes from :func:`run_packed`)."""
    if isinstance(data, BaseException):
        return data
    try:
        outcome = cloudpickle.loads(data)
    except Exception as exc:  # e.g. a result class the driver cannot import
        return RuntimeError(f"the worker's reply could not be read here: {exc}")
    if not isinstance(outcome, Outcome):
        return RuntimeError(f"a flowc worker replied with {type(outcome).__name__}, not an Outcome")
    return outcome
