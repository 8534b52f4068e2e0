"""The abstract values the interpreter tracks for each local name.

A value says what a name holds *before* the flow runs: a future of a call site's run, a
sequence of values, the result of a task (known only at run time, but known to come from that
task), a constant, or unknown. Values are immutable; "mutating" a list rebinds its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowc.compiler.discovery import FlowDef, FuncDef, ModuleInfo, TaskDef

__all__ = [
    "MAX_ELEMENTS",
    "Annotated",
    "Canon",
    "Const",
    "DictVal",
    "FlowRef",
    "FuncRef",
    "Future",
    "ModuleRef",
    "Opaque",
    "Param",
    "Result",
    "RunRef",
    "Seq",
    "Sized",
    "TaskFactory",
    "TaskRef",
    "Union",
    "Unknown",
    "UNKNOWN",
    "Value",
    "elements",
    "flattened",
    "futures_in",
    "length",
    "member_of",
    "returned_by",
    "weight",
]

#: Longest sequence materialised element by element; longer ones keep only their length.
MAX_ELEMENTS = 100_000

#: A run of a call site: (site key, run index); the index is None where it is not known.
RunRef = tuple[int, "int | None"]


class Value:
    """Base of every abstract value."""

    __slots__ = ()


@dataclass(frozen=True)
class Unknown(Value):
    """Anything: the analysis does not know (and does not need to)."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class Const(Value):
    """A value known before the run (a literal, ``range`` of literals, a parameter's value)."""

    value: Any


@dataclass(frozen=True)
class Param(Value):
    """A flow parameter whose value is not known (no default and none given)."""

    name: str


@dataclass(frozen=True)
class Future(Value):
    """A future of one run of a call site (``.submit``, an element of ``.map``).

    ``links``: runs this very object is also linked to by identity (a State a subflow
    returned is linked to the subflow's run, and counts as its task run's future as well).
    """

    run: RunRef
    links: frozenset[RunRef] = frozenset()


@dataclass(frozen=True)
class Result(Value):
    """The result of these runs (``.result()``, a direct call's value), or a member of it.

    The runtime, like Prefect, links a task's result and its *direct members* (``member``)
    to the run by identity; anything computed from a result is a new object with no lineage.
    """

    runs: frozenset[RunRef]
    member: bool = False


@dataclass(frozen=True)
class Seq(Value):
    """A list, tuple or set whose elements are known one by one."""

    items: tuple[Value, ...]
    kind: str = "list"
    links: frozenset[RunRef] = frozenset()


@dataclass(frozen=True)
class Opaque(Value):
    """A collection of unknown length whose elements are drawn from ``members``."""

    members: tuple[Value, ...] = ()
    links: frozenset[RunRef] = frozenset()


@dataclass(frozen=True)
class Sized(Opaque):
    """A collection of a known number of elements, all alike: the futures of a large
    ``.map`` (element ``i`` is run ``i`` of one call site) or what is computed from them.

    Its elements are never listed one by one, so a ``.map`` of a million items costs the
    analysis what a map of ten does; only its length ``n`` is kept, so a ``.map`` over it
    knows its count.
    """

    n: int = 0


@dataclass(frozen=True)
class DictVal(Value):
    items: tuple[tuple[Value, Value], ...]
    links: frozenset[RunRef] = frozenset()


@dataclass(frozen=True)
class Union(Value):
    """One of several values, depending on a branch the analysis could not decide."""

    options: tuple[Value, ...]


@dataclass(frozen=True)
class Annotated(Value):
    """``unmapped(x)``, ``allow_failure(x)``, ``quote(x)`` or ``opaque(x)``."""

    kind: str
    inner: Value


@dataclass(frozen=True)
class TaskRef(Value):
    task: TaskDef


@dataclass(frozen=True)
class FlowRef(Value):
    flow: FlowDef


@dataclass(frozen=True, eq=False)
class FuncRef(Value):
    """A plain function of the project (followed into when called)."""

    func: FuncDef
    closure: dict[str, Value] | None = field(default=None, compare=False)


@dataclass(frozen=True, eq=False)
class ModuleRef(Value):
    module: ModuleInfo


@dataclass(frozen=True)
class Canon(Value):
    """A name of prefect's/flowc's API, canonically ``prefect.<name>`` (or a module prefix)."""

    name: str


@dataclass(frozen=True)
class TaskFactory(Value):
    """``task(name=...)`` or ``flow(...)`` called without a function: a decorator."""

    kind: str
    options: tuple[tuple[str, Any], ...] = ()


def length(value: Value) -> int | None:
    """The number of elements iterating ``value`` gives, when known."""
    if isinstance(value, Sized):
        return value.n
    if isinstance(value, Seq):
        return len(value.items)
    if isinstance(value, DictVal):
        return len(value.items)
    if isinstance(value, Const) and isinstance(
        value.value, (list, tuple, range, set, frozenset, dict, str, bytes)
    ):
        return len(value.value)
    return None


def elements(value: Value) -> list[Value] | None:
    """The elements iterating ``value`` gives, one by one, when known (and not too many)."""
    if isinstance(value, Seq):
        return list(value.items)
    if isinstance(value, DictVal):
        return [k for k, _ in value.items]
    if isinstance(value, Const) and isinstance(
        value.value, (list, tuple, range, set, frozenset, dict, str, bytes)
    ):
        if len(value.value) > MAX_ELEMENTS:
            return None
        if isinstance(value.value, bytes):
            return [Const(b) for b in value.value]
        return [Const(v) for v in value.value]
    return None


def futures_in(
    value: Value, kind: str = "future", depth: int = 0, seen: set[int] | None = None
) -> Iterator[tuple[RunRef, str]]:
    """Every upstream run found in ``value`` however nested, with its edge kind.

    A value shared many times (``v = [v, v]`` repeated) is visited once: the walk is linear in
    the number of distinct values, not in the size of the tree they spell.
    """
    if depth > 50:
        return
    if seen is None:
        seen = set()
    if isinstance(value, (Seq, Opaque, Union, DictVal, Annotated)):
        if id(value) in seen:
            return
        seen.add(id(value))
    for run in getattr(value, "links", ()):
        yield run, "value"
    if isinstance(value, Future):
        yield value.run, kind
    elif isinstance(value, Result):
        for run in value.runs:
            yield run, "value"
    elif isinstance(value, (Seq, Opaque, Union)):
        items = (
            value.items
            if isinstance(value, Seq)
            else (value.members if isinstance(value, Opaque) else value.options)
        )
        for item in items:
            yield from futures_in(item, kind, depth + 1, seen)
    elif isinstance(value, DictVal):
        for key, item in value.items:
            yield from futures_in(key, kind, depth + 1, seen)
            yield from futures_in(item, kind, depth + 1, seen)
    elif isinstance(value, Annotated) and value.kind != "quote":
        yield from futures_in(value.inner, kind, depth + 1, seen)


def weight(value: Value) -> int:
    """How many values ``value`` spells out, counting every level of nesting (shared parts
    once per use): ``v = [v, v]`` forty times weighs 2**40. Cached on each container, so a
    container built from weighed parts is weighed in the time it takes to build it."""
    cached = getattr(value, "_weight", None)
    if cached is not None:
        return int(cached)
    if isinstance(value, Seq):
        parts: tuple[Value, ...] = value.items
    elif isinstance(value, Opaque):
        parts = value.members
    elif isinstance(value, Union):
        parts = value.options
    elif isinstance(value, DictVal):
        parts = tuple(v for pair in value.items for v in pair)
    elif isinstance(value, Annotated):
        parts = (value.inner,)
    else:
        return 1
    total = 1 + sum(weight(part) for part in parts)
    object.__setattr__(value, "_weight", total)
    return total


def flattened(value: Value) -> Value:
    """A value too large to follow element by element: a collection of unknown length holding
    the futures and results found in it (each distinct one once), so its edges are kept."""
    members: dict[Value, None] = {}
    for run, kind in futures_in(value):
        members[Future(run) if kind == "future" else Result(frozenset([run]))] = None
    return Opaque(tuple(members))


def member_of(value: Value) -> Value:
    """A direct member of ``value`` (an element, item or attribute) when which one is unknown.

    A member of a task's result is linked to its run; a member of a member is not.
    """
    if isinstance(value, Result):
        return Result(value.runs, True) if not value.member and value.runs else UNKNOWN
    if isinstance(value, Opaque):
        return Union(value.members) if len(value.members) != 1 else value.members[0]
    if isinstance(value, Seq) and value.items:
        if len(value.items) == 1:
            return value.items[0]
        return Union(tuple(dict.fromkeys(value.items))[:16])
    if isinstance(value, Union):
        return Union(tuple(member_of(o) for o in value.options))
    return UNKNOWN


_UNLINKED = (bool, type(None))


def _trackable(value: Any) -> bool:
    """Whether the runtime can link this constant by identity (not None, bools, small ints)."""
    if isinstance(value, _UNLINKED):
        return False
    return not (isinstance(value, int) and -5 <= value <= 256)


def returned_by(value: Value, run: RunRef, depth: int = 0) -> Value:
    """What the caller of a subflow gets for the subflow's return ``value``.

    The returned object and its direct members are linked to the subflow's run; futures
    arrive as States, which count as their task runs' futures and only as that (the runtime,
    like Prefect, never looks a State up by identity); results from inside the subflow's own
    run carry no lineage in the caller's run.
    """
    links = frozenset([run]) if depth < 2 else frozenset()
    if isinstance(value, Future):
        return Future(value.run)
    if isinstance(value, Seq):
        return Seq(tuple(returned_by(v, run, depth + 1) for v in value.items), value.kind, links)
    if isinstance(value, Opaque):
        return Opaque(tuple(returned_by(v, run, depth + 1) for v in value.members), links)
    if isinstance(value, DictVal):
        return DictVal(
            tuple(
                (returned_by(k, run, depth + 1), returned_by(v, run, depth + 1))
                for k, v in value.items
            ),
            links,
        )
    if isinstance(value, Union):
        return Union(tuple(returned_by(o, run, depth) for o in value.options))
    if isinstance(value, Const):
        if isinstance(value.value, (list, tuple)) and len(value.value) <= 1000:
            kind = "list" if isinstance(value.value, list) else "tuple"
            return returned_by(Seq(tuple(Const(v) for v in value.value), kind), run, depth)
        if not links or not _trackable(value.value):
            return value
        return Result(links, depth > 0)
    return Result(links, depth > 0) if links else UNKNOWN
