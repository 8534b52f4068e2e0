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
  :func:`_received_value`), wherever the driver's traversal put it. Then the call runs as
  every runner of another process runs one (:mod:`flowc.runtime.runners.wire`).
* **The runner** (:class:`ClusterRunner`): placing, settling and input resolution are the same
  for both; a subclass only submits a packed call to its cluster and watches what comes back.
  A cluster that cannot be reached raises :class:`ClusterUnreachable`.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.exceptions import FlowcError
from flowc.runtime.calls import Call, Outcome, UpstreamNotCompleted
from flowc.runtime.groupcall import GroupCall
from flowc.runtime.inputs import replace_runs
from flowc.runtime.runners import wire
from flowc.runtime.runners.base import Placement, TaskRunner
from flowc.runtime.states import StateType
from flowc.runtime.worker import UnitResult

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "ClusterRunner",
    "ClusterUnreachable",
    "Deliveries",
    "NotPlacedHere",
    "Shipments",
    "UpstreamResult",
    "check_reachable",
    "host_and_port",
    "run_shipped",
    "run_shipped_positional",
]


logger = logging.getLogger("flowc.runtime")

Deliver = Callable[["Outcome | BaseException"], None]


class ClusterUnreachable(FlowcError, ConnectionError):
    """The scheduler or head node at the given address did not answer in time."""


# --------------------------------------------------------------------------- driver side


class NotPlacedHere(LookupError):
    """An unfinished upstream has no native future on this runner to pass along."""


@wire.sent_by_reference
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


# --------------------------------------------------------------------------- the runner


class ClusterRunner(TaskRunner):
    """What Dask's and Ray's runners share: everything but submitting to their cluster.

    A placed call goes out packed (:mod:`flowc.runtime.runners.wire`) with the native futures
    of the upstream results it needs; its native future is kept for the downstream runs
    (unless it is a group's, whose result is no one run's); its reply is watched by the
    subclass's delivery thread and handed to the engine there.
    """

    in_process = False
    supports_groups = True
    supports_pipelining = True

    def __init__(self) -> None:
        super().__init__()
        self._shipments = Shipments()

    @abc.abstractmethod
    def _submit(self, run: TaskRun, payload: bytes, upstreams: dict[str, Any]) -> Any:
        """Submit ``run_shipped(payload, upstreams)`` to the cluster; its native future."""

    @abc.abstractmethod
    def _watch(self, native: Any, deliver: Deliver) -> None:
        """Call ``deliver`` with the outcome of ``native`` once it is done, on our thread."""

    @abc.abstractmethod
    def _cancel(self, native: Any) -> None:
        """Ask the cluster to stop the call of ``native`` (best effort)."""

    def _place(self, run: TaskRun, call: Call) -> Placement:
        payload = wire.pack(run, call)
        upstreams = self._shipments.inputs_of(run)
        call.started()
        native = self._submit(run, payload, upstreams)
        if not isinstance(call, GroupCall):  # a group's result is not its first run's
            self._shipments.placed(run, native)
        placement = _ClusterPlacement(self, native)
        self._watch(native, functools.partial(self._settle, run, placement))
        return placement

    def _settle(self, run: TaskRun, placement: Placement, outcome: Outcome | BaseException) -> None:
        placement.set_outcome(outcome)
        self._shipments.settled(run)

    def resolve_inputs(self, run: TaskRun) -> dict[str, Any]:
        return self._shipments.resolve_inputs(run)


class _ClusterPlacement(Placement):
    __slots__ = ("_runner", "_native")

    def __init__(self, runner: ClusterRunner, native: Any) -> None:
        super().__init__()
        self._runner = runner
        self._native = native

    def cancel(self) -> bool:
        with contextlib.suppress(Exception):
            self._runner._cancel(self._native)
        return not self.done()


# --------------------------------------------------------------------------- worker side

_received = threading.local()


def _received_value(key: str) -> Any:
    values: dict[str, Any] | None = getattr(_received, "values", None)
    if values is None or key not in values:
        raise RuntimeError(
            f"flowc: upstream result {key!r} was unpickled outside of the call it was sent with"
        )
    return values[key]


def run_shipped(payload: bytes, upstreams: Mapping[str, bytes]) -> bytes:
    """Worker side: the packed call with its upstream results in place, run as ``wire`` runs
    every call; nothing runs if an upstream placed alongside did not complete.

    The reply is the outcome pickled here, so that what cannot travel fails here, naming its
    type. On Ray it is not pickled twice: Ray stores and returns ``bytes`` as they are."""
    values = {}
    for key, reply in upstreams.items():
        completed, value = _result_of(reply)
        if not completed:  # placed early and an upstream did not complete: do not run
            now = time.time()
            return cloudpickle.dumps(Outcome(False, UpstreamNotCompleted(key), now, now))
        values[key] = value
    _received.values = values
    try:
        return wire.run_packed(payload)
    finally:
        _received.values = None


def _result_of(reply: bytes) -> tuple[bool, Any]:
    """Whether an upstream's placement completed, and its result: a whole task run's
    (:class:`~flowc.runtime.worker.UnitResult`) or a single call's."""
    outcome = wire.outcome_of(reply)
    if not isinstance(outcome, Outcome):
        return False, outcome
    value = outcome.value
    if outcome.ok and isinstance(value, UnitResult):
        return value.type is StateType.COMPLETED, value.data
    return outcome.ok, value


def run_shipped_positional(payload: bytes, keys: list[str], *upstreams: bytes) -> bytes:
    """:func:`run_shipped` for Ray, which resolves object refs only as top-level arguments."""
    return run_shipped(payload, dict(zip(keys, upstreams, strict=True)))
