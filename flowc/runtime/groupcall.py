"""One call that runs many task calls on a worker: fused chains and batches of mapped items.

The plan executor sends a *group* where a call costs far more than running the function
(a process, a Dask or Ray worker): the chains of a group are independent, the steps of a chain
run in order, each step's upstream within the chain being the step before it. A step whose
arguments need that upstream's result carries them pickled, with :data:`PREVIOUS` where the
result goes: unpickled only when the step is about to run, the marker becomes the value, so it
may sit anywhere — nested in lists, dicts or the user's own objects.

A chain stops at its first failure; the engine gives the runs it never reached back to
ordinary scheduling, where they become ``NotReady`` like any downstream of a failed run.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from typing import Any

import cloudpickle

from flowc.runtime.calls import Call, Outcome, run_call

__all__ = ["PREVIOUS", "GroupCall", "Step", "run_group"]

_previous: contextvars.ContextVar[Any] = contextvars.ContextVar("flowc_previous_result")


class _Previous:
    """Stands for the previous step's result inside a step's pickled arguments."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_previous_value, ())

    def __repr__(self) -> str:
        return "PREVIOUS"


def _previous_value() -> Any:
    return _previous.get()


PREVIOUS = _Previous()


class Step:
    """One task call of a group: ``fn`` with arguments, given as values or pickled bytes."""

    __slots__ = ("fn", "args", "kwargs", "packed", "is_async")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        is_async: bool,
        uses_previous: bool = False,
    ) -> None:
        self.fn = fn
        self.is_async = is_async
        if uses_previous:
            self.packed: bytes | None = cloudpickle.dumps((args, kwargs))
            self.args: tuple[Any, ...] = ()
            self.kwargs: dict[str, Any] = {}
        else:
            self.packed = None
            self.args = args
            self.kwargs = kwargs

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_step, (self.fn, self.args, self.kwargs, self.packed, self.is_async))

    def run(self, previous: Any) -> Outcome:
        args, kwargs = self.args, self.kwargs
        if self.packed is not None:
            token = _previous.set(previous)
            try:
                args, kwargs = cloudpickle.loads(self.packed)
            except BaseException as exc:  # an argument that does not unpickle here
                import time

                now = time.time()
                return Outcome(False, exc, now, now, f"{type(exc).__name__}: {exc}\n")
            finally:
                _previous.reset(token)
        return run_call(
            self.fn, args, kwargs, None, keep_traceback_text=True, is_async=self.is_async
        )


def _rebuild_step(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    packed: bytes | None,
    is_async: bool,
) -> Step:
    step = Step.__new__(Step)
    step.fn, step.args, step.kwargs, step.packed, step.is_async = fn, args, kwargs, packed, is_async
    return step


class GroupCall(Call):
    """The call of a group: its result is every member's outcome, never one run's result,
    so a runner must not hand its native future to downstream runs as a member's."""

    __slots__ = ()

    def __init__(self, chains: Sequence[Sequence[Step]]) -> None:
        super().__init__(run_group, (chains,), {}, None, False)


def run_group(chains: Sequence[Sequence[Step]]) -> list[list[Outcome]]:
    """Run every chain; each chain's outcomes end at its first failure."""
    results: list[list[Outcome]] = []
    for chain in chains:
        outcomes: list[Outcome] = []
        previous: Any = None
        for step in chain:
            outcome = step.run(previous)
            outcomes.append(outcome)
            if not outcome.ok:
                break
            previous = outcome.value
        results.append(outcomes)
    return results
