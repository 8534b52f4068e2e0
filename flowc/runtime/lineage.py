"""Result lineage: which task run produced a plain value that is passed to another task.

Prefect records an edge not only for futures in a task's arguments but also for *values* that
came out of another task — the value of a direct call, or of ``.result()`` — by remembering the
identity of each task's result and of its direct members (one level deep), and looking up every
object found in a later call's arguments. Singletons (``None``, booleans, ``...``, small ints)
cannot be told apart, so they are never linked. flowc keeps a reference with each link so an
identity that was freed and reused can never point at the wrong run.

A future or a State is never looked up by identity: it stands for its own task run only (as
in Prefect), even when it is a direct member of a subflow's returned tuple.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flowc.runtime.annotations import BaseAnnotation, quote
from flowc.runtime.futures import TaskRunFuture
from flowc.runtime.states import State

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["ResultLinks"]

_UNTRACKABLE = frozenset({bool, type(None), type(...), type(NotImplemented)})
_LEAVES = frozenset({int, float, str, bytes, complex, range, bool, type(None)})


def _trackable(value: Any) -> bool:
    kind = type(value)
    if kind in _UNTRACKABLE:
        return False
    return not (kind is int and -5 <= value <= 256)


def _members(value: Any) -> list[Any]:
    """The direct members of a container, as Prefect's one-level visit sees them."""
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    fields = getattr(type(value), "model_fields", None)
    if isinstance(fields, dict) and hasattr(value, "model_dump"):
        return [getattr(value, name, None) for name in fields]
    return []


class ResultLinks:
    """The results of one flow run's task runs, by identity.

    Every finishing task run writes here, from whichever thread finished it, so a lock would
    be taken by every worker once per run — and a worker that lost the interpreter while
    holding it would queue the others behind it (a lock convoy: a map of trivial tasks on a
    thread pool ran 1.7 times slower, at random, with a context switch or two per run). A
    dict's item assignment and ``update`` from a list of pairs with int keys are each done
    whole under the interpreter's own lock, and runs only add entries, so none is needed.
    """

    __slots__ = ("_by_id",)

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[Any, TaskRun]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def link(self, value: Any, run: TaskRun) -> None:
        """Remember that ``value`` (and each of its direct members) came from ``run``."""
        if type(value) in _LEAVES:  # no members: the value alone, if it can be told apart
            if _trackable(value):
                self._by_id[id(value)] = (value, run)
            return
        entries = [(id(v), (v, run)) for v in (value, *_members(value)) if _trackable(v)]
        if entries:
            self._by_id.update(entries)

    def producer_of(self, value: Any) -> TaskRun | None:
        entry = self._by_id.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        return None

    def producers(self, arguments: Iterable[Any]) -> list[TaskRun]:
        """The runs whose results appear anywhere in ``arguments`` (``quote`` hides a value).

        Most arguments are leaves (numbers, strings) or futures: a leaf is one lookup, with
        no walk.
        """
        found: dict[int, TaskRun] = {}
        seen: set[int] = set()
        by_id = self._by_id
        for value in arguments:
            if type(value) in _LEAVES:
                entry = by_id.get(id(value))
                if entry is not None and entry[0] is value:
                    found.setdefault(id(entry[1]), entry[1])
                continue
            self._walk(value, found, seen, 1, None)
        return list(found.values())

    def _walk(
        self, value: Any, found: dict[int, TaskRun], seen: set[int], depth: int, limit: int | None
    ) -> None:
        if isinstance(value, (State, TaskRunFuture)):
            return  # its own run, which the future/state walk records
        run = self.producer_of(value)
        if run is not None:
            found.setdefault(id(run), run)
        if isinstance(value, BaseAnnotation):
            if not isinstance(value, quote):
                self._walk(value.value, found, seen, depth, limit)
            return
        if type(value) in _LEAVES or (limit is not None and depth >= limit) or id(value) in seen:
            return
        members = _members(value)
        if not members:
            return
        seen.add(id(value))
        for member in members:
            self._walk(member, found, seen, depth + 1, limit)
