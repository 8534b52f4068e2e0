"""Walking into another function's body: a task's nested task calls, a subflow, a helper.

A task body is walked with its arguments resolved (futures as their results, which keep their
lineage: nested runs are in the same flow run). A subflow's parameters receive values with no
lineage and its return value is linked to the subflow's call site. A helper function of the
project shares its caller's flow and scope. Recursion is a graph break.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from flowc.compiler.discovery import FuncDef, parameters_of
from flowc.compiler.signatures import RESERVED, signature
from flowc.compiler.state import MAX_DEPTH, bind_params
from flowc.compiler.state import Frame as NewFrame
from flowc.compiler.values import (
    UNKNOWN,
    Annotated,
    DictVal,
    FlowRef,
    FuncRef,
    Future,
    Opaque,
    Result,
    Seq,
    TaskRef,
    Union,
    Value,
    returned_by,
)

if TYPE_CHECKING:
    from flowc.compiler.interpret import Frame, Interpreter, Site

__all__ = ["follow_task_body", "helper", "resolved", "resolved_arg", "subflow"]


def _plain(value: Value) -> Value:
    """What a task receives for an annotated argument (``unmapped(x)`` gives ``x``)."""
    return value.inner if isinstance(value, Annotated) and value.kind != "quote" else value


def resolved(value: Value) -> Value:
    if isinstance(value, Future):
        return Result(frozenset([value.run]))
    if isinstance(value, Seq):
        return Seq(tuple(resolved(v) for v in value.items), value.kind)
    if isinstance(value, Opaque):  # a Sized stays sized: its elements' results, as many
        return replace(value, members=tuple(resolved(v) for v in value.members))
    if isinstance(value, Union):
        return Union(tuple(resolved(v) for v in value.options))
    return value


def follow_task_body(
    interp: Interpreter,
    task: TaskRef,
    site: Site,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> None:
    """Nested task calls in a task's body become nodes under the calling site.

    The body receives its arguments resolved: futures as their results, which run in the
    same flow run and so keep their lineage.
    """
    func = task.task.func
    if func is None or not _calls_tasks(func) or func in interp.stack:
        return

    given = {k: resolved(_plain(v)) for k, v in kwargs.items() if k not in RESERVED}
    env = bind_params(parameters_of(func), [resolved(_plain(a)) for a in args], given, {})
    inner = NewFrame(func, env, frame.flow, site.key)
    if len(interp.stack) < 8:
        interp.call_function(inner, site.key)


_CALLED = re.compile(r"(\w+)\s*\(")
#: id(node) -> (node, answer): the node is kept so that its id is never reused by another one
_CALLS_TASKS: dict[int, tuple[cst.CSTNode, bool]] = {}


def _calls_tasks(func: FuncDef) -> bool:
    cached = _CALLS_TASKS.get(id(func.node))
    known = cached[1] if cached is not None and cached[0] is func.node else None
    if known is None:
        code = func.module.code(func.node.body)
        symbols = func.module.symbols
        known = (
            ".submit(" in code
            or ".map(" in code
            or any(  # a name called in the body that is a task or a flow
                isinstance(symbols.get(name), (TaskRef, FlowRef))
                for name in set(_CALLED.findall(code))
            )
        )
        if len(_CALLS_TASKS) > 50_000:
            _CALLS_TASKS.clear()
        _CALLS_TASKS[id(func.node)] = (func.node, known)
    return known


def subflow(
    interp: Interpreter,
    flow: FlowRef,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> Value:

    definition = flow.flow
    name = definition.name
    signature(interp, name, definition.func, "call", node, frame, args, kwargs)
    kwargs.pop("return_state", None)
    site = interp.site(name, f"flow:{name}", "subflow", node, frame)
    runs = interp.add_runs(site, 1)
    for value in (*args, *kwargs.values()):
        interp.link(value, runs)
        interp.resolve(value, "passed", node, frame, site.key)
    if definition.func in interp.stack or len(interp.stack) >= MAX_DEPTH:
        why = (
            f"recursive call of flow {name!r} is not followed"
            if definition.func in interp.stack
            else f"calls nested more than {MAX_DEPTH} deep are not followed"
        )
        interp.brk(node, frame, why)
        return returned_by(UNKNOWN, runs[0])
    params = parameters_of(definition.func)
    env = bind_params(
        params, [resolved_arg(a) for a in args], {k: resolved_arg(v) for k, v in kwargs.items()}, {}
    )
    inner = NewFrame(definition.func, env, name, site.key)
    value = interp.call_function(inner, site.key)
    return returned_by(value, runs[0])


def resolved_arg(value: Value) -> Value:
    """What a subflow parameter receives for an argument: values, with no lineage.

    Futures arrive as their results, but a subflow runs in its own flow run, which records no
    edge from the parent's task runs (the subflow's own record carries those edges): so what
    crosses in keeps its shape (a list's length still sizes a ``.map``) but not its origin.
    """
    if isinstance(value, (Future, Result)):
        return UNKNOWN
    if isinstance(value, Seq):
        return Seq(tuple(resolved_arg(v) for v in value.items), value.kind)
    if isinstance(value, Opaque):
        return replace(value, members=tuple(resolved_arg(v) for v in value.members))
    if isinstance(value, Union):
        return Union(tuple(resolved_arg(v) for v in value.options))
    if isinstance(value, DictVal):
        return DictVal(tuple((resolved_arg(k), resolved_arg(v)) for k, v in value.items))
    if isinstance(value, Annotated):
        return Annotated(value.kind, resolved_arg(value.inner))
    return value


def helper(
    interp: Interpreter,
    ref: FuncRef,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> Value:
    """Follow a call of a plain function of the project (its arguments already evaluated)."""

    func = ref.func
    if func in interp.stack or len(interp.stack) >= MAX_DEPTH:
        why = (
            f"recursive call of {func.name}() is not followed"
            if func in interp.stack
            else f"calls nested more than {MAX_DEPTH} deep are not followed"
        )
        interp.brk(node, frame, why)
        return UNKNOWN
    for value in (*args, *kwargs.values()):
        interp.resolve(value, "passed", node, frame)
    env = bind_params(parameters_of(func), args, dict(kwargs), {})
    inner = NewFrame(func, env, frame.flow, frame.parent, ref.closure)
    return interp.call_function(inner, None)
