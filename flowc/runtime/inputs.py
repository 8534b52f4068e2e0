"""Finding futures inside a task's arguments, and replacing them by their results.

Prefect resolves a future wherever it sits in an argument: directly, or nested in lists,
tuples (named tuples rebuilt), sets, dicts (keys and values), dataclasses and pydantic models,
to any depth. Each future found is an upstream of the new run. ``quote`` hides a value from
both; ``allow_failure`` lets a failed upstream through as its exception; a ``State`` counts as
the future of the run it belongs to.

Both walks share one traversal (:func:`_visit`) so that what is found and what is replaced can
never disagree. Atomic values are checked first because they are what most arguments are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowc.runtime.annotations import BaseAnnotation, allow_failure, opaque, quote
from flowc.runtime.futures import TaskRunFuture
from flowc.runtime.states import State

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["NO_UPSTREAMS", "Upstreams", "collect_upstreams", "replace_runs", "resolve_inputs"]

_ATOMIC = frozenset({int, float, str, bytes, bool, type(None), complex, range})


class Upstreams:
    """The upstream task runs found in a set of arguments, in first-seen order."""

    __slots__ = ("runs", "allowed", "annotated", "values")

    def __init__(self) -> None:
        self.runs: dict[int, TaskRun] = {}
        #: runs whose *results* (not futures) were passed: recorded as edges, as Prefect
        #: does, but they never block or change what the task receives.
        self.values: dict[int, TaskRun] | None = None
        #: ids of runs wrapped in ``allow_failure``: a failure there does not block.
        self.allowed: frozenset[int] | set[int] = _NONE_ALLOWED
        #: whether an annotation was seen, so the arguments need unwrapping even without runs.
        self.annotated = False

    def add(self, run: TaskRun, allowed: bool) -> None:
        self.runs.setdefault(id(run), run)
        if allowed:
            if not isinstance(self.allowed, set):
                self.allowed = set()
            self.allowed.add(id(run))

    def copy(self) -> Upstreams:
        """A separate set to add to (``.map`` children share their parent's dependencies)."""
        twin = Upstreams()
        twin.runs = dict(self.runs)
        twin.allowed = set(self.allowed) if self.allowed else _NONE_ALLOWED
        twin.annotated = self.annotated
        twin.values = dict(self.values) if self.values else None
        return twin

    def empty(self) -> bool:
        """Nothing upstream, nothing to unwrap: a run's arguments are exactly as given."""
        return not self.runs and not self.values and not self.allowed and not self.annotated

    def add_values(self, runs: list[TaskRun]) -> None:
        for run in runs:
            if id(run) not in self.runs:
                if self.values is None:
                    self.values = {}
                self.values.setdefault(id(run), run)

    def edges(self) -> list[TaskRun]:
        """Every data upstream: runs of futures and states, then producers of plain values."""
        if not self.values:
            return list(self.runs.values())
        return [*self.runs.values(), *(r for k, r in self.values.items() if k not in self.runs)]

    def __bool__(self) -> bool:
        return bool(self.runs) or self.annotated or bool(self.values)

    def allow(self, ids: frozenset[int] | set[int]) -> None:
        if ids:
            self.allowed = set(self.allowed) | ids

    @property
    def need_resolution(self) -> bool:
        """False when the arguments can be passed exactly as given (the common case)."""
        return bool(self.runs) or self.annotated


_NONE_ALLOWED: frozenset[int] = frozenset()


def _run_of(value: Any) -> TaskRun | None:
    """The task run a future or an engine-made State stands for, else None."""
    if isinstance(value, TaskRunFuture):
        return value._run
    if isinstance(value, State):
        return value._run  # type: ignore[no-any-return]
    return None


def collect_upstreams(values: Any, into: Upstreams | None = None) -> Upstreams:
    """Every task run whose future or state appears in ``values``, however nested."""
    found = into if into is not None else Upstreams()

    def on_run(run: TaskRun, value: Any, allowed: bool) -> Any:
        found.add(run, allowed)
        return value

    if type(values) is not dict:
        _visit(values, on_run, False, set(), rebuild=False, found=found)
        return found
    # Parameters by name, most of them atomic or a future (a ``.map`` item): those need no
    # walk; the rest are walked in order, so upstreams keep their first-seen order.
    seen: set[int] = set()
    for value in values.values():
        kind = type(value)
        if kind in _ATOMIC:
            continue
        if kind is TaskRunFuture:
            found.add(value._run, False)
        else:
            _visit(value, on_run, False, seen, rebuild=False, found=found)
    return found


def resolve_inputs(values: Any) -> Any:
    """``values`` with every future and run state replaced by its result.

    Callers guarantee each upstream is final (ready-only dispatch). A failed upstream reaches
    here only under ``allow_failure``, and is replaced by its exception.
    """

    def on_run(run: TaskRun, value: Any, allowed: bool) -> Any:
        state = run.state
        if state.is_completed():
            return state.data
        return state.exception()

    return _rebuild(values, on_run)


def replace_runs(values: Any, replace: Callable[[TaskRun], Any]) -> Any:
    """``values`` with every future and run state replaced by ``replace(run)``."""
    return _rebuild(values, lambda run, _value, _allowed: replace(run))


def _rebuild(values: Any, on_run: _OnRun) -> Any:
    if type(values) is not dict:
        return _visit(values, on_run, False, set(), rebuild=True)
    # Parameters by name: an atomic value, or a future given as the argument itself (a
    # ``.map`` item), needs no walk.
    seen: set[int] = set()
    out = {}
    for name, value in values.items():
        kind = type(value)
        if kind in _ATOMIC:
            out[name] = value
        elif kind is TaskRunFuture:
            out[name] = on_run(value._run, value, False)
        else:
            out[name] = _visit(value, on_run, False, seen, rebuild=True)
    return out


_OnRun = Callable[["TaskRun", Any, bool], Any]


def _visit(
    value: Any,
    on_run: _OnRun,
    allowed: bool,
    seen: set[int],
    rebuild: bool,
    found: Upstreams | None = None,
) -> Any:
    kind = type(value)
    if kind in _ATOMIC:
        return value
    run = _run_of(value)
    if run is not None:
        return on_run(run, value, allowed)
    if isinstance(value, BaseAnnotation):
        if found is not None:
            found.annotated = True
        if isinstance(value, quote):
            return value.value if rebuild else value
        if isinstance(value, opaque):
            inner_run = _run_of(value.value)
            if inner_run is not None:
                return on_run(inner_run, value.value, allowed)
            return value.value if rebuild else value
        allow = allowed or isinstance(value, allow_failure)
        inner = _visit(value.value, on_run, allow, seen, rebuild, found)
        return inner if rebuild else value
    if id(value) in seen:
        return value
    if kind is list or kind is tuple or kind is set or kind is frozenset or kind is dict:
        pass
    elif not isinstance(value, (list, tuple, set, frozenset, dict)) and not _is_record(value):
        return value
    seen.add(id(value))
    try:
        return _visit_container(value, on_run, allowed, seen, rebuild, found)
    finally:
        seen.discard(id(value))


def _is_record(value: Any) -> bool:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return True
    return hasattr(type(value), "model_fields") and hasattr(value, "model_dump")


def _visit_container(
    value: Any,
    on_run: _OnRun,
    allowed: bool,
    seen: set[int],
    rebuild: bool,
    found: Upstreams | None,
) -> Any:
    def visit(item: Any) -> Any:
        return _visit(item, on_run, allowed, seen, rebuild, found)

    if isinstance(value, dict):
        items = [(visit(k), visit(v)) for k, v in value.items()]
        if not rebuild:
            return value
        if type(value) is dict:
            return dict(items)
        try:
            return type(value)(items)
        except TypeError:
            return dict(items)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [visit(item) for item in value]
        if not rebuild:
            return value
        if type(value) in (list, tuple, set, frozenset):
            return type(value)(items)
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return type(value)(*items)
        try:
            return type(value)(items)
        except TypeError:
            return items
    if dataclasses.is_dataclass(value):
        fields = [f for f in dataclasses.fields(value) if f.init]
        values = {f.name: visit(getattr(value, f.name)) for f in fields}
        if not rebuild:
            return value
        try:
            return dataclasses.replace(value, **values)  # type: ignore[type-var]
        except (TypeError, ValueError):
            return value
    # A pydantic model: rebuild without re-validating, keeping the field values we resolved.
    names = list(type(value).model_fields)
    values = {name: visit(getattr(value, name)) for name in names}
    if not rebuild:
        return value
    return type(value).model_construct(**values)


#: The upstreams of every run that has none, shared (a run's record is kept until the flow's
#: report is written, so a million leaf runs would otherwise hold a million empty records).
#: Never added to: :func:`flowc.runtime.engine.create_run` adds before it shares.
NO_UPSTREAMS = Upstreams()
