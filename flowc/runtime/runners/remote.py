"""Shipping task calls to Dask and Ray workers, with upstream results left on the cluster.

Both distributed runners do the same three things, so they live here once:

* **Driver side** (:class:`Shipments`): the runner keeps the native future (Dask ``Future``,
  Ray ``ObjectRef``) of every call it placed, by task run. When a downstream run is
  dispatched, each upstream future or state in its arguments — found by the engine's own
  traversal (:func:`flowc.runtime.inputs.replace_runs`), so ``quote`` and ``allow_failure``
  mean the same as on threads — becomes a small :class:`UpstreamResult` placeholder with a
  key, and the upstream's native future goes alongside the call as ``{key: native}``. The
  cluster resolves those natives on the worker, so the data moves worker to worker; the
  driver only sends the pickled call, which holds placeholders, not values. An upstream this
  runner did not produce (a cache hit, a run of another runner) or one that did not complete
  (``allow_failure``) is passed by value, as the engine would.
* **Worker side** (:func:`run_shipped`): the upstream outcomes arrive as values; while the
  call is unpickled, each placeholder turns into its upstream's result (it unpickles through
  :func:`_received_value`), wherever the driver's traversal put it. Then the call runs, under
  a watchdog thread when it has a timeout, so a call the engine gave up on frees its worker
  slot at the deadline even when stuck in C (the engine has already settled it as TimedOut).
* **Errors**: the call's :class:`~flowc.runtime.calls.Outcome` carries the worker-side
  traceback text; an exception that would not survive the trip back is replaced by one that
  says so; a cluster that cannot be reached raises :class:`ClusterUnreachable`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.exceptions import FlowcError, TaskRunTimeoutError
from flowc.runtime.calls import Call, Outcome, UpstreamNotCompleted, run_call
from flowc.runtime.inputs import replace_runs
from flowc.runtime.prefect_alias import prefect_aliases, prefect_aliases_active
from flowc.runtime.runners.errors import CallNotSent
from flowc.runtime.runners.threads import raise_in_thread

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "ClusterUnreachable",
    "Deliveries",
    "NotPlacedHere",
    "Shipments",
    "UpstreamResult",
    "check_reachable",
    "host_and_port",
    "pickle_call",
    "run_shipped",
    "run_shipped_positional",
    "unsendable_result",
]


logger = logging.getLogger("flowc.runtime")

Deliver = Callable[["Outcome | BaseException"], None]


class ClusterUnreachable(FlowcError, ConnectionError):
    """The scheduler or head node at the given address did not answer in time."""


# --------------------------------------------------------------------------- driver side


class NotPlacedHere(LookupError):
    """An unfinished upstream has no native future on this runner to pass along."""


class UpstreamResult:
    """Stands for one upstream's result inside a shipped call; unpickles as that result."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __reduce__(self) -> tuple[Any, ...]:
        return (_received_value, (self.key,))

    def __repr__(self) -> str:
        return f"UpstreamResult({self.key!r})"


class Shipments:
    """A runner's bookkeeping: the native future of each run's latest placement, and the
    natives each dispatched run needs. Entries are keyed by ``id(run)`` and keep the run, so a
    recycled id is never mistaken for another run."""

    def __init__(self) -> None:
        self._latest: dict[int, tuple[TaskRun, Any]] = {}
        self._inputs: dict[int, tuple[TaskRun, dict[str, Any]]] = {}

    def resolve_inputs(self, run: TaskRun) -> dict[str, Any]:
        """``run``'s parameters with upstream results as placeholders (see the module doc)."""
        if not run.upstreams.need_resolution:
            return run.parameters
        natives: dict[str, Any] = {}

        def replace(upstream: TaskRun) -> Any:
            state = upstream.state
            final = upstream.is_final()
            if final and not state.is_completed():
                return state.exception()  # only reached under allow_failure
            entry = self._latest.get(id(upstream))
            if entry is None or entry[0] is not upstream:
                if not final:  # plan mode asked to place early, but it was never placed here
                    raise NotPlacedHere(upstream.name)
                return state.data
            key = f"{id(upstream):x}"
            natives[key] = entry[1]
            return UpstreamResult(key)

        parameters: dict[str, Any] = replace_runs(run.parameters, replace)
        if natives:
            self._inputs[id(run)] = (run, natives)
        return parameters

    def inputs_of(self, run: TaskRun) -> dict[str, Any]:
        """The ``{key: native}`` the placeholders in ``run``'s call stand for."""
        entry = self._inputs.get(id(run))
        return entry[1] if entry is not None and entry[0] is run else {}

    def placed(self, run: TaskRun, native: Any) -> None:
        self._latest[id(run)] = (run, native)

    def settled(self, run: TaskRun) -> None:
        """A final run is never placed again: drop what its placement needed."""
        if run.is_final():
            self._inputs.pop(id(run), None)

    def natives(self) -> list[Any]:
        return [native for _, native in list(self._latest.values())]

    def clear(self) -> None:
        """Release every native future (and so the cluster's copy of every result)."""
        self._latest.clear()
        self._inputs.clear()


class Deliveries:
    """A thread of the runner's own that hands finished calls' outcomes to the engine.

    Clusters complete their futures on their own threads (Dask's callback thread, a Ray core
    worker thread), where engine code, which runs hooks and places downstream calls, does
    not belong: done-callbacks only enqueue. This thread takes whatever has finished, turns
    the batch into outcomes with ``outcomes`` (for Dask, one ``gather`` for the whole batch)
    and delivers them in order.
    """

    _BATCH = 1000

    def __init__(
        self, name: str, outcomes: Callable[[list[Any]], list[Outcome | BaseException]]
    ) -> None:
        self._outcomes = outcomes
        self._queue: queue.SimpleQueue[tuple[Any, Deliver] | None] = queue.SimpleQueue()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def watch(self, future: Any, deliver: Deliver) -> None:
        """Deliver ``future``'s outcome once it is done (any future with done-callbacks)."""
        future.add_done_callback(lambda done: self._queue.put((done, deliver)))

    def stop(self) -> None:
        """Deliver nothing more; the thread ends once the batch in hand is turned."""
        self._stopped = True
        self._queue.put(None)

    def join(self, timeout: float) -> None:
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped:
            batch = [self._queue.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < self._BATCH:
                    batch.append(self._queue.get_nowait())
            items = [item for item in batch if item is not None]
            outcomes = self._outcomes([future for future, _ in items]) if items else []
            for (_, deliver), outcome in zip(items, outcomes, strict=True):
                if self._stopped:
                    return
                try:
                    deliver(outcome)
                except Exception:
                    logger.exception("flowc could not deliver the outcome of a task call")


def pickle_call(run: TaskRun, call: Call) -> bytes:
    """The call as bytes for a worker; an unpicklable part fails the run, naming it."""
    aliased = prefect_aliases_active()  # a task body may ``import prefect`` under flowc run
    try:
        return cloudpickle.dumps(
            (call.fn, call.args, call.kwargs, call.timeout, call.is_async, aliased)
        )
    except Exception as exc:
        raise CallNotSent(_unpicklable_message(run, call, exc)) from exc


def _unpicklable_message(run: TaskRun, call: Call, exc: Exception) -> str:
    where = f"task {run.task.name!r} cannot be sent to a cluster worker"
    parts: list[tuple[str, Any]] = [("its function", call.fn)]
    parts += [(f"positional argument {i}", value) for i, value in enumerate(call.args)]
    parts += [(f"argument {name!r}", value) for name, value in call.kwargs.items()]
    for label, value in parts:
        try:
            cloudpickle.dumps(value)
        except Exception as inner:
            return (
                f"{where}: {label} cannot be pickled ({inner}); pass picklable data, "
                "or run this task on the thread runner"
            )
    return f"{where}: {exc}"


def unsendable_result(exc: BaseException) -> Outcome:
    """The outcome of a call whose result could not be brought back to the driver."""
    now = time.time()
    error = RuntimeError(f"the task's result could not be sent back from the worker: {exc}")
    return Outcome(False, error, now, now)


def check_reachable(address: str, timeout: float, what: str) -> None:
    """Fail fast, naming ``address``, when nothing accepts connections at its host and port.

    Without this, Dask retries a refused connection until its timeout, and Ray waits for a
    head node minutes long. An address whose host and port cannot be read is left to the
    library (schemes such as ``inproc://``).
    """
    parsed = host_and_port(address)
    if parsed is None:
        return
    host, port = parsed
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        if isinstance(exc, TimeoutError):
            reason = f"no answer within {timeout:g} s"
        else:
            reason = exc.strerror or str(exc) or type(exc).__name__
        raise ClusterUnreachable(
            f"cannot reach the {what} at {address!r} ({reason}): check that it is running "
            "and that the address is right, or leave address unset to start a local cluster"
        ) from None


def host_and_port(address: str) -> tuple[str, int] | None:
    """``("127.0.0.1", 8786)`` from ``tcp://127.0.0.1:8786``, ``ray://[::1]:10001``, ``h:1``."""
    _, _, location = address.rpartition("://")
    host, sep, port = location.rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


# --------------------------------------------------------------------------- worker side

_received = threading.local()


def _received_value(key: str) -> Any:
    values: dict[str, Any] | None = getattr(_received, "values", None)
    if values is None or key not in values:
        raise RuntimeError(
            f"flowc: upstream result {key!r} was unpickled outside of the call it was sent with"
        )
    return values[key]


def run_shipped(payload: bytes, upstreams: Mapping[str, Outcome]) -> Outcome:
    """Worker side: unpickle the call with its upstream results in place, run it once."""
    for key, outcome in upstreams.items():
        if not outcome.ok:  # placed early (plan mode) and an upstream failed: do not run
            now = time.time()
            return Outcome(False, UpstreamNotCompleted(key), now, now)
    _received.values = {key: outcome.value for key, outcome in upstreams.items()}
    try:
        fn, args, kwargs, timeout, is_async, aliased = cloudpickle.loads(payload)
    finally:
        _received.values = None
    with prefect_aliases() if aliased else contextlib.nullcontext():
        outcome = _run_with_deadline(fn, args, kwargs, timeout, is_async)
    if not outcome.ok:
        # The traceback text has it all. Dask would also ship the traceback object, whose
        # frames of functions pickled by value read "<dynamic-code>", and a chained cause
        # would keep the engine from attaching the text: send the bare exception, as pickle
        # does on the other runners.
        error = outcome.value
        error.__traceback__ = error.__cause__ = error.__context__ = None
        try:  # an exception that pickles may still fail to unpickle on the driver
            cloudpickle.loads(cloudpickle.dumps(outcome.value))
        except Exception as exc:
            replacement = RuntimeError(
                f"the task's exception {outcome.value!r} could not be sent back from the "
                f"worker: {exc}"
            )
            return Outcome(False, replacement, outcome.start, outcome.end, outcome.traceback)
    return outcome


def run_shipped_positional(payload: bytes, keys: tuple[str, ...], *upstreams: Outcome) -> Outcome:
    """:func:`run_shipped` for Ray, which resolves object refs only as top-level arguments."""
    return run_shipped(payload, dict(zip(keys, upstreams, strict=True)))


def _run_with_deadline(
    fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float | None, is_async: bool
) -> Outcome:
    """Run the call; with a timeout, give up on it at the deadline and free this thread.

    The engine has settled the run as TimedOut by then; this only returns the worker slot to
    the cluster. The abandoned call is asked to stop (at its next bytecode) and left behind.
    """
    if timeout is None:
        return run_call(fn, args, kwargs, None, True, is_async)
    done: list[Outcome] = []
    start = time.time()
    thread = threading.Thread(
        target=lambda: done.append(run_call(fn, args, kwargs, timeout, True, is_async)),
        name="flowc-timed-call",
        daemon=True,
    )
    thread.start()
    thread.join(timeout)
    if done:
        return done[0]
    if thread.ident is not None:
        raise_in_thread(thread.ident, TaskRunTimeoutError)
    exc = TaskRunTimeoutError(f"Task run exceeded timeout of {timeout} second(s)")
    return Outcome(False, exc, start, time.time(), "".join(traceback.format_exception(exc)))
