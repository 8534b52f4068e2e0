"""The Ray runner's delivery thread: finished Ray tasks' outcomes, in batches, to the engine.

No engine thread ever blocks in ``ray.get``: :class:`Waiter` watches the placed refs with
``ray.wait``, fetches whatever has finished with one ``ray.get`` per batch, and hands the
outcomes over in order, on its own thread. A ``ref.future()`` per call, with its
done-callback on a Ray core thread and a hand-off to a delivery thread (Dask's way, see
``remote.Deliveries``), cost the driver more CPU per call.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ray

from flowc.runtime.calls import Outcome
from flowc.runtime.runners import wire
from flowc.runtime.runners.remote import Deliver

__all__ = ["Waiter"]

logger = logging.getLogger("flowc.runtime")


class Waiter:
    """The runner's thread that turns finished refs into outcomes and delivers them.

    A ``ray.wait`` over the refs in flight, then one ``ray.get`` for all that finished,
    costs the driver less than a ``future()`` per ref, and keeps engine code (hooks, the
    placement of downstream calls) off Ray's core threads. Refs placed meanwhile, from any
    thread and from inside a delivery too, queue under a lock that no delivery holds, and join
    the next ``ray.wait``.

    Each wait is for *all* the refs placed since the previous one (``young``), for at most
    ``_WINDOW``: a fan-out then comes back in batches, and a chain link as soon as it is done.
    Refs that outlived one wait (``old``: long calls, or a backlog Ray has queued) are only
    checked alongside, without waiting; waiting for them too would hold every short call
    behind a long one for the whole window. With only old refs in flight, the wait is for the
    first of them to finish, or, past ``_FEW`` of them, for all within the window: a wait costs
    the driver in proportion to its refs, and a backlog woken once per finished call would
    cost more than it saves. That timeout doubles while nothing finishes, up to
    ``_LONGEST_WAIT``: ``ray.wait`` cannot be woken early, so that is how late a ref placed
    meanwhile is first looked at, and the most a stop waits. With nothing in flight the thread
    sleeps on the condition, not in a poll.
    """

    _WINDOW = 0.005  # seconds; Ray counts whole milliseconds (less than 0.001 is no wait)
    _LONGEST_WAIT = 0.05
    _FEW = 16

    def __init__(self, name: str) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._incoming: dict[Any, Deliver] = {}
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def watch(self, ref: Any, deliver: Deliver) -> None:
        """Deliver ``ref``'s outcome on this thread once Ray has it."""
        with self._changed:
            self._incoming[ref] = deliver
            self._changed.notify()

    def stop(self) -> None:
        """Deliver nothing more; the thread ends at its current wait's timeout at the latest,
        or once the delivery in hand returns."""
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def join(self, timeout: float) -> None:
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        young: dict[Any, Deliver] = {}  # placed since the last wait
        old: dict[Any, Deliver] = {}  # outlived a wait
        idle_wait = self._WINDOW
        while self._take_incoming(young, old):
            finished = self._finished(young, old, idle_wait)
            old.update(young)
            young.clear()
            if not finished:
                idle_wait = min(idle_wait * 2, self._LONGEST_WAIT)
                continue
            idle_wait = self._WINDOW
            delivers = [old.pop(ref) for ref in finished]
            if not self._deliver(delivers, _outcomes(finished)):
                return

    def _finished(
        self, young: dict[Any, Deliver], old: dict[Any, Deliver], idle_wait: float
    ) -> list[Any]:
        """The refs that are done: old ones first, as they were placed first."""
        if young:
            arrived = _ready(young, len(young), self._WINDOW)
            return _ready(old, len(old), 0) + arrived
        if len(old) > self._FEW:  # a wait costs the driver in proportion to its refs
            return _ready(old, len(old), idle_wait)
        if not _ready(old, 1, idle_wait):  # wakes as soon as one is done ...
            return []
        return _ready(old, len(old), 0)  # ... and then takes all that are

    def _take_incoming(self, young: dict[Any, Deliver], old: dict[Any, Deliver]) -> bool:
        """Move newly placed refs into ``young``; block while there is nothing to watch.

        False once stopped: the thread ends without looking at what is in flight.
        """
        with self._changed:
            while not (self._incoming or old or self._stopped):
                self._changed.wait()
            if self._stopped:
                return False
            young.update(self._incoming)
            self._incoming.clear()
            return True

    def _deliver(self, delivers: list[Deliver], outcomes: list[Outcome | BaseException]) -> bool:
        """Hand each outcome to the engine, in order; False if stopped meanwhile."""
        for deliver, outcome in zip(delivers, outcomes, strict=True):
            if self._stopped:
                return False
            try:
                deliver(outcome)
            except Exception:
                logger.exception("flowc could not deliver the outcome of a task call")
        return True


def _ready(refs: dict[Any, Any], wanted: int, timeout: float) -> list[Any]:
    """Those of ``refs`` that are ready once ``wanted`` are, or after ``timeout`` seconds.

    ``fetch_local=False``: the ``ray.get`` that follows fetches anyway. Should ``ray.wait``
    itself fail (Ray is gone), every ref counts as ready, so that its ``ray.get`` fails and its
    run crashes instead of waiting forever.
    """
    if not refs:
        return []
    listed = list(refs)
    try:
        ready, _ = ray.wait(listed, num_returns=wanted, timeout=timeout, fetch_local=False)
    except Exception:
        logger.exception("flowc could not wait for its Ray tasks; their runs crash")
        return listed
    return list(ready)


def _outcomes(refs: list[Any]) -> list[Outcome | BaseException]:
    """The outcome of each finished ref: one ``ray.get`` for all, or one per ref on failure.

    A failed ref (its worker died, it was cancelled) makes the batched ``get`` raise; getting
    the refs one by one then gives that error to its own run only.
    """
    try:
        values = ray.get(refs)
    except Exception:
        return [_outcome_of(ref) for ref in refs]
    return [_checked(value) for value in values]


def _outcome_of(ref: Any) -> Outcome | BaseException:
    try:
        value = ray.get(ref)
    except Exception as exc:  # e.g. WorkerCrashedError: the worker died running the call
        return exc
    return _checked(value)


def _checked(value: Any) -> Outcome | BaseException:
    return wire.outcome_of(value)
