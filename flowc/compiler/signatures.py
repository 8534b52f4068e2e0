"""FC004: whether a call's arguments fit the signature of the task or flow it calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from flowc.compiler.builtin_calls import note
from flowc.compiler.discovery import FuncDef, parameters_of
from flowc.compiler.values import Value

if TYPE_CHECKING:
    from flowc.compiler.interpret import Frame, Interpreter

__all__ = ["RESERVED", "signature"]

#: Keyword arguments Prefect takes for itself on every call, submit and map.
RESERVED = ("wait_for", "return_state")


def signature(
    interp: Interpreter,
    name: str,
    func: FuncDef,
    kind: str,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> None:
    """FC004: a call, submit or map whose arguments ``func``'s signature does not accept."""
    if any(arg.star for arg in node.args):
        return
    params = parameters_of(func)
    how = {"submit": f"{name}.submit()", "map": f"{name}.map()"}.get(kind, f"{name}()")
    kinds = {p.kind for p in params}
    positional = [p for p in params if p.kind in ("positional_only", "positional_or_keyword")]
    problems: list[str] = []
    if len(args) > len(positional) and "var_positional" not in kinds:
        problems.append(f"takes {len(positional)} positional arguments but {len(args)} were given")
    bound = {p.name for p in positional[: len(args)]}
    names = {p.name for p in params if p.kind not in ("var_positional", "var_keyword")}
    for key in kwargs:
        if key in RESERVED:
            continue
        if key not in names and "var_keyword" not in kinds:
            problems.append(f"got an unexpected keyword argument {key!r}")
        elif key in bound:
            problems.append(f"got multiple values for argument {key!r}")
    missing = [
        p.name
        for p in params
        if p.required
        and p.kind not in ("var_positional", "var_keyword")
        and p.name not in bound
        and p.name not in kwargs
    ]
    if missing:
        problems.append("missing required argument " + ", ".join(repr(m) for m in missing))
    for problem in problems:
        note(interp, "signature", node, frame, f"{how} {problem}")
