"""Calls in a flow body: task submits, maps and direct calls, subflows, helpers, prefect's API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from flowc.compiler.discovery import FuncDef, api_name, parameters_of, with_options
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
    RunRef,
    Seq,
    TaskFactory,
    TaskRef,
    Union,
    Value,
    elements,
    futures_in,
    length,
)

if TYPE_CHECKING:
    from flowc.compiler.interpret import Frame, Interpreter, Site

__all__ = ["call"]

_RESERVED = ("wait_for", "return_state")


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
            return with_options(base, {"name": name.value if isinstance(name, Const) else None})
        if isinstance(base, (TaskRef, FlowRef)) and method == "fn":
            target = base.task.func if isinstance(base, TaskRef) else base.flow.func
            return helper(interp, FuncRef(target), node, frame) if target else UNKNOWN
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
                else:
                    grown = Opaque(tuple(dict.fromkeys((*interp.members(base), new)))[:64])
                frame.env[func.value.value] = grown
            return Const(None)
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


def resolved(value: Value) -> Value:
    if isinstance(value, Future):
        return Result(frozenset([value.run]))
    if isinstance(value, Seq):
        return Seq(tuple(resolved(v) for v in value.items), value.kind)
    if isinstance(value, Opaque):
        return Opaque(tuple(resolved(v) for v in value.members))
    if isinstance(value, Union):
        return Union(tuple(resolved(v) for v in value.options))
    return value


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
    return _result_of(values)


def _result_of(values: list[Value]) -> Value:
    runs: set[RunRef] = set()
    for value in values:
        runs.update(run for run, kind in futures_in(value) if kind == "value")
    return Result(frozenset(runs)) if runs else UNKNOWN


def apply(interp: Interpreter, callee: Value, node: cst.Call, frame: Frame) -> Value:
    if isinstance(callee, TaskRef):
        args, kwargs = arguments(interp, node, frame)
        return task_call(interp, callee, "call", node, frame, args, kwargs)
    if isinstance(callee, FlowRef):
        args, kwargs = arguments(interp, node, frame)
        return subflow(interp, callee, node, frame, args, kwargs)
    if isinstance(callee, FuncRef):
        return helper(interp, callee, node, frame)
    if isinstance(callee, TaskFactory):
        args, _ = arguments(interp, node, frame)
        return interp.project.apply(frame.func.module, callee, args[0]) if args else UNKNOWN
    name = api_name(callee)
    args, kwargs = arguments(interp, node, frame)
    if name in ("unmapped", "allow_failure", "quote") and args:
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


def builtin(
    interp: Interpreter,
    name: str,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> Value:
    from flowc.compiler.interpret import _PURE, _small

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
    if name == "zip" and args and not kwargs:
        columns = [elements(a) for a in args]
        if all(c is not None for c in columns) and not all(isinstance(a, Const) for a in args):
            return Seq(tuple(Seq(row, "tuple") for row in zip(*columns, strict=False)))  # type: ignore
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


# ---------------------------------------------------------------------- task calls


def _link(interp: Interpreter, value: Value, runs: list[RunRef], kind: str | None = None) -> None:
    for source, found in futures_in(value):
        for run in runs:
            interp.edge(source, run, kind or found)


def task_call(
    interp: Interpreter,
    task: TaskRef,
    kind: str,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> Value:
    if task.task.func is not None:
        signature(interp, task.task.name, task.task.func, kind, node, frame, args, kwargs)
    wait_for = kwargs.pop("wait_for", None)
    return_state = kwargs.pop("return_state", None)
    name = task.task.name
    site = interp.site(name, name, "submit" if kind == "submit" else kind, node, frame)
    line, col = interp.pos(node, frame)
    if kind == "map":
        runs = map_runs(interp, site, node, frame, args, kwargs)
    else:
        runs = interp.add_runs(site, 1)
        for value in (*args, *kwargs.values()):
            _link(interp, value, runs)
    if wait_for is not None:
        _link(interp, wait_for, runs, "wait_for")
        interp.resolve(wait_for, "passed", node, frame, site.key)
    for value in (*args, *kwargs.values()):
        interp.resolve(value, "passed", node, frame, site.key)
    if kind != "call":
        interp.created.append(
            (
                site.key,
                kind,
                frame.func.qualname,
                frame.func.module.path,
                line,
                col,
                interp.conditional,
            )
        )
    follow_task_body(interp, task, site, frame)
    if kind == "call":
        return Result(frozenset(runs))
    futures: list[Value] = [Future(run) for run in runs]
    if isinstance(return_state, Const) and return_state.value:
        interp.created.pop()
    else:
        info = (name, frame.func.qualname, frame.func.module.path, line, col)
        interp.track.create(runs, site.key, info)
    if kind == "submit":
        return futures[0]
    if len(runs) == 1 and runs[0][1] is None:
        return Opaque((futures[0],))
    return Seq(tuple(futures))


def map_runs(
    interp: Interpreter,
    site: Site,
    node: cst.Call,
    frame: Frame,
    args: list[Value],
    kwargs: dict[str, Value],
) -> list[RunRef]:
    mapped: list[tuple[Value, list[Value] | None]] = []
    static: list[Value] = []
    unknown: list[str] = []
    for value in (*args, *kwargs.values()):
        inner = value.inner if isinstance(value, Annotated) else value
        if (
            isinstance(value, Annotated)
            and value.kind != "allow_failure"
            or isinstance(inner, Const)
            and not isinstance(inner.value, (list, tuple, range, set, frozenset, dict))
        ):
            static.append(value)
        elif length(inner) is not None:
            mapped.append((value, elements(inner)))
        else:
            mapped.append((value, None))
            unknown.append(interp.project_code(frame, value))
    for value in (*args, *kwargs.values()):
        if isinstance(value, Const) and isinstance(value.value, str) and not mapped:
            note(
                interp,
                "map-arguments",
                node,
                frame,
                f".map() of {site.task!r} over the string {value.value[:20]!r}, which .map() "
                "does not iterate: pass a list",
            )
            return interp.add_runs(site, None, "maps over a string")
        if isinstance(value, DictVal) or (
            isinstance(value, Const) and isinstance(value.value, dict)
        ):
            note(
                interp,
                "map-arguments",
                node,
                frame,
                f".map() of {site.task!r} over a dict maps over its keys only: "
                "pass a list (e.g. list(d.items()))",
            )
    lengths = sorted(
        {
            length(v.inner if isinstance(v, Annotated) else v) or 0
            for v, items in mapped
            if items is not None
        }
    )
    reason = None
    if not mapped:
        reason = ".map() with no iterable argument (raises MappingMissingIterable at run time)"
        interp.diagnose(node, frame, "W101", "warning", reason)
        note(
            interp,
            "map-arguments",
            node,
            frame,
            f".map() of {site.task!r} has no iterable "
            "argument (raises MappingMissingIterable): pass a list to map over",
        )
    elif len(lengths) > 1:
        reason = f".map() over iterables of different lengths {lengths} (fails at run time)"
        interp.diagnose(node, frame, "E101", "error", reason)
        note(
            interp,
            "map-arguments",
            node,
            frame,
            f".map() of {site.task!r} over iterables "
            f"of different lengths {lengths}: make them the same length or wrap the constant "
            "ones in unmapped()",
        )
    elif unknown:
        reason = "maps over an iterable whose length is known only at run time"
    n = lengths[0] if lengths and reason is None else None
    runs = interp.add_runs(site, n, reason)
    for value in static:
        _link(interp, value, runs)
    for value, items in mapped:
        if items is not None and n is not None and len(runs) == n and runs[0][1] is not None:
            for run, item in zip(runs, items, strict=False):
                _link(interp, item, [run])
        else:
            inner = value.inner if isinstance(value, Annotated) else value
            for source, kind in futures_in(inner):
                for run in runs:
                    interp.edge(source, run, "value" if isinstance(inner, Future) else kind)
    return runs


def follow_task_body(interp: Interpreter, task: TaskRef, site: Site, frame: Frame) -> None:
    """Nested task calls in a task's body become nodes under the calling site."""
    func = task.task.func
    if func is None or not _calls_tasks(func) or func in interp.stack:
        return
    from flowc.compiler.interpret import Frame as NewFrame

    env: dict[str, Value] = {p.name: UNKNOWN for p in parameters_of(func)}
    inner = NewFrame(func, env, frame.flow, site.key)
    if len(interp.stack) < 8:
        interp.call_function(inner, site.key)


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
            or any(
                isinstance(v, (TaskRef, FlowRef)) and f"{k}(" in code for k, v in symbols.items()
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
    from flowc.compiler.interpret import Frame as NewFrame
    from flowc.compiler.interpret import bind_params

    definition = flow.flow
    name = definition.name
    signature(interp, name, definition.func, "call", node, frame, args, kwargs)
    kwargs.pop("return_state", None)
    site = interp.site(name, f"flow:{name}", "subflow", node, frame)
    runs = interp.add_runs(site, 1)
    for value in (*args, *kwargs.values()):
        _link(interp, value, runs)
        interp.resolve(value, "passed", node, frame, site.key)
    if definition.func in interp.stack or len(interp.stack) >= 8:
        interp.brk(node, frame, f"recursive call of flow {name!r} is not followed")
        return Result(frozenset(runs))
    params = parameters_of(definition.func)
    env = bind_params(
        params, [resolved_arg(a) for a in args], {k: resolved_arg(v) for k, v in kwargs.items()}, {}
    )
    inner = NewFrame(definition.func, env, name, site.key)
    value = interp.call_function(inner, site.key)
    if any(True for _ in futures_in(value)):
        return value
    return Result(frozenset(runs))


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
        return Opaque(tuple(resolved_arg(v) for v in value.members))
    if isinstance(value, Union):
        return Union(tuple(resolved_arg(v) for v in value.options))
    if isinstance(value, DictVal):
        return DictVal(tuple((resolved_arg(k), resolved_arg(v)) for k, v in value.items))
    if isinstance(value, Annotated):
        return Annotated(value.kind, resolved_arg(value.inner))
    return value


def helper(interp: Interpreter, ref: FuncRef, node: cst.Call, frame: Frame) -> Value:
    from flowc.compiler.interpret import Frame as NewFrame
    from flowc.compiler.interpret import bind_params

    args, kwargs = arguments(interp, node, frame)
    func = ref.func
    if func in interp.stack or len(interp.stack) >= 8:
        interp.brk(node, frame, f"recursive call of {func.name}() is not followed")
        return UNKNOWN
    for value in (*args, *kwargs.values()):
        interp.resolve(value, "passed", node, frame)
    env = bind_params(parameters_of(func), args, dict(kwargs), {})
    inner = NewFrame(func, env, frame.flow, frame.parent, ref.closure)
    return interp.call_function(inner, None)


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
        if key in _RESERVED:
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
