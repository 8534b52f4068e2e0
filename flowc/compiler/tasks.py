"""A task's call sites: the runs of a call, ``.submit`` or ``.map``, and their edges.

A ``.map`` has one run per element of its mapped iterables (``unmapped``, strings and scalars
are static); run ``i`` depends on element ``i``. Each site knows whether its results can be
linked by identity at all (``None``, a bool or a small int cannot): if not, it draws no
``value`` edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from flowc.compiler.bodies import follow_task_body
from flowc.compiler.builtin_calls import note
from flowc.compiler.discovery import FuncDef
from flowc.compiler.signatures import signature
from flowc.compiler.values import (
    UNKNOWN,
    Annotated,
    Const,
    DictVal,
    Future,
    Opaque,
    Result,
    RunRef,
    Seq,
    Sized,
    TaskRef,
    Value,
    elements,
    futures_in,
    length,
)

if TYPE_CHECKING:
    from flowc.compiler.interpret import Frame, Interpreter, Site

__all__ = ["UNIFORM_MIN", "task_call"]

#: A ``.map`` of more runs than this is walked once, its runs kept as one uniform ref
#: (:class:`~flowc.compiler.values.Sized`): the analysis then costs the same for a map of a
#: million items as for one of a thousand. Smaller maps are followed run by run.
UNIFORM_MIN = 1000


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
    site.untracked = task.task.func is not None and _untracked(task.task.func)
    site.options = task.task.options
    line, col = interp.pos(node, frame)
    bodies: list[tuple[list[Value], dict[str, Value]]] = [(args, kwargs)]
    if kind == "map":
        runs, bodies = map_runs(interp, site, node, frame, args, kwargs)
    else:
        runs = interp.add_runs(site, 1)
        for value in (*args, *kwargs.values()):
            interp.link(value, runs)
    if wait_for is not None:
        interp.link(wait_for, runs, "wait_for")
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
    with interp.context(mult=site.runs if site.uniform else 1):
        for body_args, body_kwargs in bodies:
            follow_task_body(interp, task, site, frame, body_args, body_kwargs)
    if kind == "call":
        if isinstance(return_state, Const) and return_state.value:
            return Future(runs[0])  # the run's State: an upstream like its future
        return Result(frozenset(runs))
    futures: list[Value] = [Future(run) for run in runs]
    if isinstance(return_state, Const) and return_state.value:
        interp.created.pop()
    else:
        info = (name, frame.func.qualname, frame.func.module.path, line, col)
        interp.track.create(runs, site.key, info)
    if kind == "submit":
        return futures[0]
    if site.uniform:
        return Sized((futures[0],), n=site.runs)
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
) -> tuple[list[RunRef], list[tuple[list[Value], dict[str, Value]]]]:
    """The runs of a ``.map``, and the arguments each run's body receives."""
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
        elif (size := length(inner)) is not None:
            # a large range or constant list is never listed: its map is uniform
            large_constant = isinstance(inner, Const) and size > UNIFORM_MIN
            mapped.append((value, None if large_constant else elements(inner)))
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
            return interp.add_runs(site, None, "maps over a string"), [(args, kwargs)]
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
    known = [length(v.inner if isinstance(v, Annotated) else v) for v, _ in mapped]
    lengths = sorted({n for n in known if n is not None})
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
    if (
        n is not None
        and interp.mult == 1
        and interp.dynamic is None
        and (n > UNIFORM_MIN or any(items is None for _, items in mapped))
    ):
        return _uniform_map(interp, site, n, args, kwargs, mapped, static)
    runs = interp.add_runs(site, n, reason)
    bodies = _map_bodies(args, kwargs, mapped, n, runs)
    for value in static:
        interp.link(value, runs)
    for value, items in mapped:
        if (
            items is not None
            and n is not None
            and len(runs) == n
            and runs
            and runs[0][1] is not None
        ):
            for run, item in zip(runs, items, strict=False):
                interp.link(item, [run])
        else:
            # A future mapped over is resolved first and stays every child's upstream: a
            # future edge to each mapped run, as the runtime and Prefect record it.
            inner = value.inner if isinstance(value, Annotated) else value
            targets = list(dict.fromkeys(runs))  # runs counted by arithmetic repeat one ref
            for source, kind in futures_in(inner):
                for run in targets:
                    interp.edge(source, run, kind)
    return runs, bodies


def _uniform_map(
    interp: Interpreter,
    site: Site,
    n: int,
    args: list[Value],
    kwargs: dict[str, Value],
    mapped: list[tuple[Value, list[Value] | None]],
    static: list[Value],
) -> tuple[list[RunRef], list[tuple[list[Value], dict[str, Value]]]]:
    """A large ``.map``: one ref for its ``n`` runs, one body walked for all of them.

    Run ``i`` takes element ``i`` of each mapped iterable: from a uniform map's futures that
    is run ``i`` of that map (an *aligned* edge); from a collection whose futures are not
    told apart, every one of them. Static arguments go to every run.
    """
    runs = interp.add_uniform_runs(site, n)
    for value in static:
        interp.link(value, runs)
    member: dict[int, Value] = {}
    for value, items in mapped:
        inner = value.inner if isinstance(value, Annotated) else value
        member[id(value)] = interp.element(inner) if isinstance(inner, Sized) else UNKNOWN
        if isinstance(inner, Const):
            continue  # a range or a list of constants: no upstream in it
        if items is not None and site.uniform:  # listed already: element i -> run i
            for i, item in enumerate(items):
                for source, kind in futures_in(item):
                    interp.edge(source, (site.key, i), kind)
            continue
        aligned = isinstance(inner, Sized) and site.uniform
        for source, kind in futures_in(inner):
            interp.edge(source, runs[0], kind)
            if aligned and source[1] is None and interp.by_key[source[0]].uniform:
                interp.aligned.add((source[0], site.key))

    def pick(value: Value) -> Value:
        if id(value) in member:
            return member[id(value)]
        return value.inner if isinstance(value, Annotated) else value

    return runs, [([pick(a) for a in args], {k: pick(v) for k, v in kwargs.items()})]


def _map_bodies(
    args: list[Value],
    kwargs: dict[str, Value],
    mapped: list[tuple[Value, list[Value] | None]],
    n: int | None,
    runs: list[RunRef],
) -> list[tuple[list[Value], dict[str, Value]]]:
    """Each mapped run's arguments: the mapped iterables' elements, the static ones as given."""
    if n is None or len(runs) != n or not runs or runs[0][1] is None:
        unknown = {id(value) for value, _ in mapped}
        return [
            (
                [UNKNOWN if id(a) in unknown else a for a in args],
                {k: UNKNOWN if id(v) in unknown else v for k, v in kwargs.items()},
            )
        ]
    columns = {id(value): items for value, items in mapped}
    bodies = []
    for i in range(n):

        def pick(value: Value, i: int = i) -> Value:
            items = columns.get(id(value))
            if id(value) in columns:
                return items[i] if items is not None else UNKNOWN
            return value.inner if isinstance(value, Annotated) else value

        bodies.append(([pick(a) for a in args], {k: pick(v) for k, v in kwargs.items()}))
    return bodies


#: id(node) -> (node, answer), as for ``_CALLS_TASKS`` in :mod:`flowc.compiler.bodies`
_UNTRACKED: dict[int, tuple[cst.CSTNode, bool]] = {}


class _Returns(cst.CSTVisitor):
    """The ``return`` values of a function body (not of nested functions), and any ``yield``."""

    def __init__(self) -> None:
        self.values: list[cst.BaseExpression | None] = []
        self.generator = False

    def visit_Return(self, node: cst.Return) -> None:
        self.values.append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.generator = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _unlinked_literal(node: cst.BaseExpression | None) -> bool:
    if node is None:
        return True
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer) and int(node.expression.value, 0) <= 5
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0) <= 256
        except ValueError:
            return False
    return False


def _untracked(func: FuncDef) -> bool:
    """Whether a task's result is never linked by identity: ``None``, a bool or a small int.

    Known from a ``-> None``/``-> bool`` annotation, or from a body whose every ``return``
    gives such a literal (or that has none).
    """
    cached = _UNTRACKED.get(id(func.node))
    if cached is not None and cached[0] is func.node:
        return cached[1]
    returns = func.node.returns
    annotation = func.module.code(returns.annotation) if returns is not None else ""
    if annotation in ("None", "bool"):
        answer = True
    else:
        visitor = _Returns()
        func.node.body.visit(visitor)
        answer = not visitor.generator and all(_unlinked_literal(v) for v in visitor.values)
    if len(_UNTRACKED) > 50_000:
        _UNTRACKED.clear()
    _UNTRACKED[id(func.node)] = (func.node, answer)
    return answer
