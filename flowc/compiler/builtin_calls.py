"""Calls the walk does not follow into: Python's builtins and functions it cannot see.

Builtins of known arguments fold to constants (``range``, ``len``, ``zip``, ...); containers
of futures keep their elements through ``list``/``enumerate``/``zip``. Anything else returns
a new object with no lineage (unless it hands back a member: ``max``, ``list(r)``), uses the
futures given to it as values (FC002 for ``print``, ``len``, ...), and is a graph break when
a task or flow escapes into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from flowc.compiler.state import _small
from flowc.compiler.values import (
    UNKNOWN,
    Const,
    FlowRef,
    ModuleRef,
    Opaque,
    Result,
    RunRef,
    Seq,
    TaskRef,
    Value,
    elements,
    futures_in,
    length,
    member_of,
)

if TYPE_CHECKING:
    from flowc.compiler.interpret import Frame, Interpreter

__all__ = ["VALUE_BUILTINS", "builtin", "note", "unknown_call"]

_PURE = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "abs": abs,
    "min": min,
    "max": max,
    "sum": sum,
    "sorted": sorted,
    "bool": bool,
    "list": list,
    "tuple": tuple,
    "set": set,
    "reversed": lambda x: list(reversed(x)),
    "enumerate": lambda x: list(enumerate(x)),
    "zip": lambda *x: list(zip(*x, strict=False)),
    "dict": dict,
    "round": round,
}

#: Builtins that return one of their arguments' members (or a new container of them).
_PICK_BUILTINS = frozenset(["max", "min", "next"])
_COPY_BUILTINS = frozenset(["list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"])


#: Builtins that use their arguments' values: a future passed to them is a bug (FC002).
VALUE_BUILTINS = frozenset(
    [
        "print",
        "len",
        "str",
        "int",
        "float",
        "bool",
        "repr",
        "sum",
        "min",
        "max",
        "abs",
        "round",
        "sorted",
        "format",
        "hash",
        "str.format",
    ]
)
#: Builtins that neither use nor keep a future: it is still pending after the call.
NEUTRAL_BUILTINS = frozenset(
    ["isinstance", "id", "type", "callable", "getattr", "hasattr", "setattr"]
)


def note(interp: Interpreter, kind: str, node: cst.CSTNode, frame: Frame, message: str) -> None:
    line, col = interp.pos(node, frame)
    interp.track.note(kind, frame.func.module.path, line, col, message, frame.func.qualname)


def unknown_call(
    interp: Interpreter,
    node: cst.Call,
    frame: Frame,
    values: list[Value],
    callee: str | None = None,
) -> Value:
    if callee in VALUE_BUILTINS:
        shown = callee if callee == "str.format" else f"{callee}()"
        for value in values:
            interp.use(value, f"as an argument of {shown}", node, frame)
    elif callee not in NEUTRAL_BUILTINS:
        for value in values:  # it escapes into code the analysis does not follow
            interp.track.resolve(value)
    for value in values:
        if isinstance(value, (TaskRef, FlowRef)):
            interp.brk(
                node,
                frame,
                "a task or flow is passed to a function the analysis does "
                "not follow; its runs are not in the graph",
            )
        interp.resolve(value, "value", node, frame)
    return _result_of(values, callee)


def _result_of(values: list[Value], callee: str | None = None) -> Value:
    """What an unfollowed call returns: a new object (no lineage), unless it picks or copies.

    The runtime links a result by identity, so only a call handing back one of its
    arguments' members (``max``, ``min``) or a container of them (``list``, ``sorted``, ...)
    keeps lineage.
    """
    if callee in _PICK_BUILTINS and len(values) > 1:
        runs: set[RunRef] = set()
        for value in values:
            runs.update(run for run, kind in futures_in(value) if kind == "value")
        return Result(frozenset(runs)) if runs else UNKNOWN
    if callee in _PICK_BUILTINS and values:
        return member_of(values[0])
    if callee in _COPY_BUILTINS and len(values) == 1:
        member = member_of(values[0])
        return Opaque((member,)) if member != UNKNOWN else UNKNOWN
    return UNKNOWN


def builtin(
    interp: Interpreter,
    name: str,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> Value:

    if name in ("exec", "eval", "compile", "__import__"):
        interp.brk(node, frame, f"{name}() is not followed")
        return UNKNOWN
    if name == "getattr" and args and isinstance(args[0], (TaskRef, FlowRef, ModuleRef)):
        interp.brk(node, frame, "getattr() on a task, flow or module is not followed")
        return UNKNOWN
    if name == "range" and all(isinstance(a, Const) and isinstance(a.value, int) for a in args):
        try:
            return Const(range(*(a.value for a in args)))  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            return UNKNOWN
    if name == "len" and len(args) == 1:
        n = length(args[0])
        if n is not None:
            return Const(n)
    if name in ("list", "tuple", "sorted", "reversed") and len(args) == 1 and not kwargs:
        items = elements(args[0])
        if items is not None and not all(isinstance(i, Const) for i in items):
            if name == "reversed":
                items.reverse()
            if name != "sorted":
                return Seq(tuple(items), "tuple" if name == "tuple" else "list")
        if isinstance(args[0], Opaque):
            return args[0]
    if name == "enumerate" and len(args) == 1:
        items = elements(args[0])
        if items is not None and not all(isinstance(i, Const) for i in items):
            return Seq(tuple(Seq((Const(i), v), "tuple") for i, v in enumerate(items)))
    if name == "zip" and args and set(kwargs) <= {"strict"}:
        columns = [elements(a) for a in args]
        if all(c is not None for c in columns):  # zip(..., strict=True) as ruff's B905 asks
            if len({len(c) for c in columns if c is not None}) > 1 and kwargs:
                return unknown_call(interp, node, frame, [*args, *kwargs.values()], name)
            rows = zip(*columns, strict=False)  # type: ignore[misc]
            if all(isinstance(a, Const) for a in args):
                return Const([tuple(v.value for v in row) for row in rows])  # type: ignore[attr-defined]
            return Seq(tuple(Seq(row, "tuple") for row in rows))
    fn = _PURE.get(name)
    if (
        fn is not None
        and all(isinstance(a, Const) and _small(a.value) for a in args)
        and not kwargs
    ):
        try:
            result = fn(*(a.value for a in args))  # type: ignore[attr-defined,operator]
        except Exception:
            return UNKNOWN
        return Const(result) if _small(result) else UNKNOWN
    return unknown_call(interp, node, frame, [*args, *kwargs.values()], name)
