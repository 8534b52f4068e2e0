"""One call that runs many task calls on a worker: fused chains and batches of mapped items.

The plan executor sends a *group* where a call costs far more than running the function
(a process, a Dask or Ray worker): the chains of a group are independent, the steps of a chain
run in order, each step's upstream within the chain being the step before it. A step whose
arguments need that upstream's result carries :data:`PREVIOUS` where the result goes: put in
place by a walk of plain containers, or — when the marker sits inside the user's own objects —
by unpickling the step's arguments just before it runs, the marker unpickling as the value.

A chain stops at its first failure; the engine gives the runs it never reached back to
ordinary scheduling, where they become ``NotReady`` like any downstream of a failed run.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from typing import Any

import cloudpickle

from flowc.runtime.calls import Call, Outcome, run_call

__all__ = [
    "PREVIOUS",
    "GroupCall",
    "Step",
    "count_previous",
    "fill",
    "make_step",
    "run_group",
    "run_rows",
    "run_step",
]

_previous: contextvars.ContextVar[Any] = contextvars.ContextVar("flowc_previous_result")

#: Containers :func:`fill` looks into; the marker anywhere else travels pickled.
_PLAIN = (list, tuple, dict, set, frozenset)


class _Previous:
    """Stands for the previous step's result inside a step's arguments."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_previous_value, ())

    def __repr__(self) -> str:
        return "PREVIOUS"


def _previous_value() -> Any:
    """The result being substituted, or the marker itself when unpickled with its group."""
    return _previous.get(PREVIOUS)


PREVIOUS = _Previous()


def count_previous(value: Any, depth: int = 0) -> int:
    """How many markers :func:`fill` would find in ``value`` (plain containers only)."""
    if value is PREVIOUS:
        return 1
    if depth > 50 or type(value) not in _PLAIN:
        return 0
    items = value.items() if type(value) is dict else value
    if type(value) is dict:
        return sum(count_previous(k, depth + 1) + count_previous(v, depth + 1) for k, v in items)
    return sum(count_previous(item, depth + 1) for item in items)


def fill(value: Any, previous: Any) -> Any:
    """``value`` with each marker in it (plain containers only) replaced by ``previous``."""
    if value is PREVIOUS:
        return previous
    kind = type(value)
    if kind is list:
        return [fill(item, previous) for item in value]
    if kind is tuple:
        return tuple(fill(item, previous) for item in value)
    if kind is dict:
        return {fill(k, previous): fill(v, previous) for k, v in value.items()}
    if kind is set or kind is frozenset:
        return kind(fill(item, previous) for item in value)
    return value


#: One task call of a group, as a plain tuple (it pickles with no reducer, and a 10,000-step
#: group unpickles in C): ``(fn, args, kwargs, packed, is_async, previous)``. ``previous``
#: says how the previous step's result gets in: not at all (None), by :func:`fill` where
#: every marker sits in plain containers (``"fill"``, the common ``g.submit(f)``), or by
#: unpickling ``packed`` arguments with the result at hand (``"packed"``, for a marker
#: inside the user's own objects).
Step = tuple[
    Callable[..., Any], tuple[Any, ...], dict[str, Any], "bytes | None", bool, "str | None"
]


def make_step(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    is_async: bool,
    previous: str | None = None,
) -> Step:
    if previous == "packed":
        return (fn, (), {}, cloudpickle.dumps((args, kwargs)), is_async, previous)
    return (fn, args, kwargs, None, is_async, previous)


def run_step(step: Step, previous: Any) -> Outcome:
    fn, args, kwargs, packed, is_async, how = step
    if how == "fill":
        args, kwargs = fill(args, previous), fill(kwargs, previous)
    elif packed is not None:
        token = _previous.set(previous)
        try:
            args, kwargs = cloudpickle.loads(packed)
        except BaseException as exc:  # an argument that does not unpickle here
            import time

            now = time.time()
            return Outcome(False, exc, now, now, f"{type(exc).__name__}: {exc}\n")
        finally:
            _previous.reset(token)
    return run_call(fn, args, kwargs, None, keep_traceback_text=True, is_async=is_async)


class GroupCall(Call):
    """The call of a group: its result is every member's outcome, never one run's result,
    so a runner must not hand its native future to downstream runs as a member's."""

    __slots__ = ()

    def __init__(self, chains: Sequence[Sequence[Step]]) -> None:
        super().__init__(run_group, (chains,), {}, None, False)

    @classmethod
    def rows(
        cls,
        fn: Callable[..., Any],
        is_async: bool,
        rows: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
    ) -> GroupCall:
        """Many independent calls of one function: its arguments as rows, which pickle far
        smaller and faster than a step object each (a 10,000-item ``.map``)."""
        call = cls.__new__(cls)
        Call.__init__(call, run_rows, (fn, is_async, rows), {}, None, False)
        return call


def run_group(chains: Sequence[Sequence[Step]]) -> list[list[Outcome]]:
    """Run every chain; each chain's outcomes end at its first failure."""
    results: list[list[Outcome]] = []
    for chain in chains:
        outcomes: list[Outcome] = []
        previous: Any = None
        for step in chain:
            outcome = run_step(step, previous)
            outcomes.append(outcome)
            if not outcome.ok:
                break
            previous = outcome.value
        results.append(outcomes)
    return results


def run_rows(
    fn: Callable[..., Any], is_async: bool, rows: Sequence[tuple[tuple[Any, ...], dict[str, Any]]]
) -> list[list[Outcome]]:
    """Run ``fn`` once per row of arguments; outcomes shaped as :func:`run_group`'s."""
    return [[run_call(fn, args, kwargs, None, True, is_async)] for args, kwargs in rows]
