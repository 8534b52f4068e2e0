"""A call in a flow body, dispatched by what is called: a task, a flow, a helper, an API.

``t.submit``/``t.map``/``t(...)`` go to :mod:`flowc.compiler.tasks`; a flow called from a flow
and a helper function of the project to :mod:`flowc.compiler.bodies`; ``unmapped``, ``wait``,
``as_completed`` and the decorators of prefect's API are handled here, as are the methods of
futures and of the containers the walk tracks (``.result()``, ``.append``, ``.items()``);
builtins and code not followed go to :mod:`flowc.compiler.builtin_calls`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from flowc.compiler.bodies import helper, resolved, subflow
from flowc.compiler.builtin_calls import builtin, note, unknown_call
from flowc.compiler.discovery import api_name, with_options
from flowc.compiler.tasks import task_call
from flowc.compiler.values import (
    UNKNOWN,
    Annotated,
    Canon,
    Const,
    DictVal,
    FlowRef,
    FuncRef,
    Future,
    ModuleRef,
    Opaque,
    Result,
    Seq,
    TaskFactory,
    TaskRef,
    Union,
    Value,
    elements,
    futures_in,
    member_of,
    weight,
)

if TYPE_CHECKING:
    from flowc.compiler.interpret import Frame, Interpreter

__all__ = ["arguments", "call"]


def arguments(
    interp: Interpreter, node: cst.Call, frame: Frame
) -> tuple[list[Value], dict[str, Value]]:
    args: list[Value] = []
    kwargs: dict[str, Value] = {}
    for arg in node.args:
        value = interp.ev(arg.value, frame)
        if arg.star == "*":
            known = elements(value)
            args.extend(known if known is not None else [Opaque((interp.element(value),))])
        elif arg.star == "**":
            if isinstance(value, DictVal):
                for key, item in value.items:
                    name = key.value if isinstance(key, Const) else f"**{len(kwargs)}"
                    kwargs[str(name)] = item
            else:
                kwargs[f"**{len(kwargs)}"] = value
        elif arg.keyword is not None:
            kwargs[arg.keyword.value] = value
        else:
            args.append(value)
    return args, kwargs


def call(interp: Interpreter, node: cst.Call, frame: Frame) -> Value:
    func = node.func
    if isinstance(func, cst.Attribute):
        base = interp.ev(func.value, frame)
        method = func.attr.value
        if (
            isinstance(base, Const)
            and isinstance(base.value, list)
            and method in ("append", "extend", "insert")
        ):
            base = Seq(tuple(Const(v) for v in base.value))
        if isinstance(base, TaskRef) and method in ("submit", "map"):
            args, kwargs = arguments(interp, node, frame)
            return task_call(interp, base, method, node, frame, args, kwargs)
        if isinstance(base, (TaskRef, FlowRef)) and method == "with_options":
            names = {a.keyword.value: interp.ev(a.value, frame) for a in node.args if a.keyword}
            name = names.get("name")
            given: dict[str, object] = dict.fromkeys(names, ...)
            given["name"] = name.value if isinstance(name, Const) else None
            return with_options(base, given)
        if isinstance(base, (TaskRef, FlowRef)) and method == "fn":
            target = base.task.func if isinstance(base, TaskRef) else base.flow.func
            if target is None:
                return UNKNOWN
            args, kwargs = arguments(interp, node, frame)
            return helper(interp, FuncRef(target), node, frame, args, kwargs)
        if isinstance(base, (Future, Seq, Opaque, Union)) and method in (
            "result",
            "wait",
            "add_done_callback",
        ):
            arguments(interp, node, frame)
            if (
                method == "result"
                and isinstance(base, Future)
                and isinstance(func.value, cst.Call)
                and isinstance(func.value.func, cst.Attribute)
                and func.value.func.attr.value == "submit"
                and interp.track.in_loop()
            ):
                note(
                    interp,
                    "submit-result-in-loop",
                    node,
                    frame,
                    f"{interp.by_key[base.run[0]].task}.submit(...).result() in a loop runs one "
                    "task at a time: submit them all, then resolve the futures",
                )
            if not any(kind == "future" for _, kind in futures_in(base)):
                return UNKNOWN if method == "result" else Const(None)
            interp.resolve(base, method if method != "add_done_callback" else "wait", node, frame)
            return resolved(base) if method == "result" else Const(None)
        if isinstance(base, (Seq, Opaque)) and method in ("append", "extend", "insert", "add"):
            args, _ = arguments(interp, node, frame)
            if isinstance(func.value, cst.Name) and args:
                new = args[-1]
                if method == "extend":
                    known = elements(new)
                    grown: Value = (
                        Seq(base.items + tuple(known))
                        if isinstance(base, Seq) and known is not None
                        else Opaque(
                            (*interp.members(base), *interp.members(new), interp.element(new))
                        )
                    )
                elif isinstance(base, Seq) and method == "append":
                    grown = Seq((*base.items, new), base.kind)
                    object.__setattr__(grown, "_weight", weight(base) + weight(new))
                else:
                    grown = Opaque(tuple(dict.fromkeys((*interp.members(base), new)))[:64])
                frame.env[func.value.value] = interp.bounded(grown, node, frame)
            return Const(None)
        if isinstance(base, Result) and method in _MEMBER_METHODS:
            args, kwargs = arguments(interp, node, frame)
            unknown_call(interp, node, frame, [*args, *kwargs.values()])
            member = member_of(base)
            if method in ("items", "copy"):
                return Opaque((Seq((member, member), "tuple") if method == "items" else member,))
            return Opaque((member,)) if method in ("values", "keys") else member
        if isinstance(base, DictVal) and method in ("items", "values", "keys"):
            if method == "keys":
                return Seq(tuple(k for k, _ in base.items))
            if method == "values":
                return Seq(tuple(v for _, v in base.items))
            return Seq(tuple(Seq((k, v), "tuple") for k, v in base.items))
        if isinstance(base, (ModuleRef, Canon)):
            callee = (
                interp.e_Attribute(func, frame)
                if isinstance(base, ModuleRef)
                else Canon(f"{base.name}.{method}")
            )
            return apply(interp, callee, node, frame)
        args, kwargs = arguments(interp, node, frame)
        if method == "gather":
            return Seq(tuple(args))
        if isinstance(base, Const) and isinstance(base.value, str) and method == "format":
            return unknown_call(interp, node, frame, [*args, *kwargs.values()], "str.format")
        return unknown_call(interp, node, frame, [base, *args, *kwargs.values()])
    return apply(interp, interp.ev(func, frame), node, frame)


#: Methods of a result that give one of its members, or a view or copy holding them.
_MEMBER_METHODS = frozenset(["get", "pop", "setdefault", "items", "values", "keys", "copy"])


def apply(interp: Interpreter, callee: Value, node: cst.Call, frame: Frame) -> Value:
    if isinstance(callee, TaskRef):
        args, kwargs = arguments(interp, node, frame)
        return task_call(interp, callee, "call", node, frame, args, kwargs)
    if isinstance(callee, FlowRef):
        args, kwargs = arguments(interp, node, frame)
        return subflow(interp, callee, node, frame, args, kwargs)
    if isinstance(callee, FuncRef):
        args, kwargs = arguments(interp, node, frame)
        return helper(interp, callee, node, frame, args, kwargs)
    if isinstance(callee, TaskFactory):
        args, _ = arguments(interp, node, frame)
        return interp.project.apply(frame.func.module, callee, args[0]) if args else UNKNOWN
    name = api_name(callee)
    args, kwargs = arguments(interp, node, frame)
    if name in ("unmapped", "allow_failure", "quote", "opaque") and args:
        return Annotated(name, args[0])
    if name in ("task", "flow"):
        if args:
            return interp.project.apply(frame.func.module, callee, args[0])
        options = {k: v.value for k, v in kwargs.items() if isinstance(v, Const)}
        return TaskFactory(name, tuple(options.items()))
    if name in ("wait", "as_completed") and args:
        if name == "as_completed" and node is interp.track.for_iter:
            interp.track.deferred.append((node, args[0]))
        interp.resolve(args[0], "wait()" if name == "wait" else "as_completed", node, frame)
        if name == "as_completed":
            return Opaque(tuple(interp.members(args[0])) or (interp.element(args[0]),))
        return UNKNOWN
    if isinstance(callee, Canon) and callee.name.startswith("builtins."):
        return builtin(interp, callee.name[9:], node, frame, args, kwargs)
    return unknown_call(interp, node, frame, [*args, *kwargs.values()])
