"""Abstract interpretation of a flow body: the call sites it makes, their counts and edges.

Design note. The walk is single-pass over statements, with an environment mapping each local
name to an abstract value (:mod:`flowc.compiler.values`). Loops whose iterable is known before
the run (literals, ``range`` of constants and parameters with values, ``.map`` results of known
length) are *unrolled*: the body is walked once per element with the loop variable bound, so
each call site gets one run per iteration and each edge links the exact runs (run ``i`` of a
``.map`` over another map's futures depends on run ``i``). The plan collapses runs back onto
their call sites; ``expand=True`` keeps them (:mod:`flowc.compiler.expand`). A loop over an
unknown iterable is walked once with a ``dynamic`` reason, so its sites get no count. A budget
bounds unrolling; past it, known loops are walked once and counts multiplied. Branches on
unknown tests walk both arms and mark their sites ``conditional``; the environments are joined.
Anything not followed becomes a graph break; no Python construct raises out of the walk.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from flowc.compiler.analysis import Exit, Tracker
from flowc.compiler.discovery import FlowDef, FuncDef, Project, literal
from flowc.compiler.values import (
    UNKNOWN,
    Canon,
    Const,
    DictVal,
    FlowRef,
    FuncRef,
    Future,
    ModuleRef,
    Opaque,
    Param,
    Result,
    RunRef,
    Seq,
    TaskRef,
    Union,
    Value,
    elements,
    futures_in,
    length,
)

__all__ = ["Frame", "Interpreter", "Site", "bind_params"]

MAX_DEPTH = 8
UNROLL_BUDGET = 50_000
HARD_BUDGET = 500_000


@dataclass(eq=False)
class Site:
    key: int
    parent: int | None
    label: str
    task: str
    name: str  # what the id is built from: the task name, or the subflow's name
    kind: str
    flow: str
    line: int
    col: int
    path: str
    runs: int = 0
    exact: bool = True
    dynamic: str | None = None
    conditional: bool = False


@dataclass(eq=False)
class Frame:
    func: FuncDef
    env: dict[str, Value]
    flow: str
    parent: int | None
    closure: dict[str, Value] | None = None
    returns: list[Value] = field(default_factory=list)


class _Return(Exception):
    pass


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Abort(Exception):
    pass


_BINOPS: dict[type, Any] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
    cst.BitAnd: operator.and_,
    cst.BitOr: operator.or_,
    cst.BitXor: operator.xor,
    cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift,
}
_CMPOPS: dict[type, Any] = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
    cst.In: lambda a, b: a in b,
    cst.NotIn: lambda a, b: a not in b,
    cst.Is: operator.is_,
    cst.IsNot: operator.is_not,
}
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
_NAMES = {"True": Const(True), "False": Const(False), "None": Const(None)}


def _small(value: Any) -> bool:
    if isinstance(value, (int, float, bool, type(None))):
        return not isinstance(value, int) or value.bit_length() < 4096
    if isinstance(value, (str, bytes, list, tuple, range, set, frozenset, dict)):
        return len(value) <= 100_000
    return False


def _join(a: Value, b: Value) -> Value:
    if a == b:
        return a
    options: list[Value] = []
    for v in (a, b):
        for o in v.options if isinstance(v, Union) else (v,):
            if o not in options:
                options.append(o)
    return Union(tuple(options[:16]))


def _derive(*values: Value) -> Value:
    """The value of an operation on ``values``: a Result if any comes from a task."""
    runs: set[RunRef] = set()
    for value in values:
        for run, kind in futures_in(value):
            if kind == "value":
                runs.add(run)
    return Result(frozenset(runs)) if runs else UNKNOWN


class Interpreter:
    """Walks one flow (and what it calls) and records sites, runs, edges, breaks and facts."""

    def __init__(self, project: Project, flow: FlowDef, parameters: dict[str, object]) -> None:
        self.project = project
        self.root = flow
        self.parameters = parameters
        self.sites: dict[tuple[Any, ...], Site] = {}
        self.by_key: list[Site] = []
        self.edges: dict[tuple[RunRef, RunRef, str], None] = {}
        self.breaks: list[tuple[str, int, int, str]] = []
        self.created: list[tuple[int, str, str, str, int, int, bool]] = []
        self.resolved: list[tuple[int, str, str, str, int, int, int | None]] = []
        self.exits: list[Exit] = []
        self.diagnostics: list[tuple[str, int, int, str, str, str]] = []
        self.dynamic: str | None = None
        self.conditional = False
        self.mult = 1
        self.steps = 0
        self.stack: list[FuncDef] = []
        self.track = Tracker()
        self.current: cst.CSTNode | None = None

    # ------------------------------------------------------------------ entry
    def run(self) -> None:
        func = self.root.func
        env: dict[str, Value] = {}
        for param in self.project.parameters(self.root):
            if param.name in self.parameters:
                env[param.name] = Const(self.parameters[param.name])
            elif param.kind in ("var_positional", "var_keyword"):
                env[param.name] = UNKNOWN
            else:
                env[param.name] = literal(param.default) or (
                    Param(param.name) if param.default is None else UNKNOWN
                )
        frame = Frame(func, env, self.root.name, None)
        self.call_function(frame, None)

    def call_function(self, frame: Frame, site: int | None) -> Value:
        func = frame.func
        if site is not None or not self.stack:
            self.track.enter(frame, func.qualname, func.module.path)
        self.stack.append(func)
        try:
            body = func.node.body
            try:
                self.block(body, frame)
                line, col = self.pos(func.node, frame)
                self.exits.append(
                    Exit("end", func.qualname, func.module.path, line, col, self.conditional)
                )
                self.track.exit(frame, 0, frame.env)
            except _Return:
                pass
            except (_Break, _Continue):
                pass
        finally:
            self.stack.pop()
            self.track.leave(frame)
        if not frame.returns:
            return Const(None)
        value = frame.returns[0]
        for other in frame.returns[1:]:
            value = _join(value, other)
        return value

    # ------------------------------------------------------------------ records
    def diagnose(
        self, node: cst.CSTNode, frame: Frame, code: str, severity: str, message: str
    ) -> None:
        line, col = self.pos(node, frame)
        self.diagnostics.append((frame.func.module.path, line, col, code, severity, message))

    def project_code(self, frame: Frame, value: Value) -> str:
        return type(value).__name__

    def pos(self, node: cst.CSTNode, frame: Frame) -> tuple[int, int]:
        return frame.func.module.position(node, frame.func.top)

    def brk(self, node: cst.CSTNode, frame: Frame, reason: str) -> None:
        line, col = self.pos(node, frame)
        entry = (frame.func.module.path, line, col, reason)
        if entry not in self.breaks:
            self.breaks.append(entry)

    def resolve(
        self, value: Value, how: str, node: cst.CSTNode, frame: Frame, target: int | None = None
    ) -> None:
        line, col = self.pos(node, frame)
        for run, kind in futures_in(value):
            if kind == "future":
                self.resolved.append(
                    (run[0], how, frame.func.qualname, frame.func.module.path, line, col, target)
                )
        if (
            how in ("result", "wait", "wait()")
            or (how == "as_completed" and node is not self.track.for_iter)
            or (  # a direct call or a subflow blocks until its arguments are done
                how == "passed"
                and target is not None
                and self.by_key[target].kind in ("call", "subflow")
            )
        ):
            self.track.resolve(value)

    def use(self, value: Value, what: str, node: cst.CSTNode, frame: Frame) -> None:
        """A future used where its value was meant (``what``: ``in a condition``, ...)."""
        options = value.options if isinstance(value, Union) else (value,)
        if not all(isinstance(item, Future) for item in options):
            return
        for item in options:
            if isinstance(item, Future):
                site = self.by_key[item.run[0]]
                if not isinstance(node, (cst.Call, cst.BaseStatement, cst.BaseSmallStatement)):
                    node = self.current or node
                line, col = self.pos(node, frame)
                self.track.note(
                    "value-use",
                    frame.func.module.path,
                    line,
                    col,
                    f"future of {site.task!r} used {what}: call .result() to get its value",
                    frame.func.qualname,
                )
                return

    def site(self, name: str, task: str, kind: str, node: cst.CSTNode, frame: Frame) -> Site:
        line, col = self.pos(node, frame)
        module = frame.func.module
        key = (frame.parent, module.path, line, col, task, kind)
        site = self.sites.get(key)
        if site is None:
            site = Site(
                len(self.by_key),
                frame.parent,
                module.label,
                task,
                name,
                kind,
                frame.flow,
                line,
                col,
                module.path,
            )
            self.sites[key] = site
            self.by_key.append(site)
        site.conditional = site.conditional or self.conditional
        return site

    def add_runs(self, site: Site, n: int | None, reason: str | None = None) -> list[RunRef]:
        reason = self.dynamic or reason
        if reason is not None or n is None:
            site.dynamic = site.dynamic or reason or "count known only at run time"
            site.exact = False
            return [(site.key, None)]
        if self.mult != 1:
            site.runs += n * self.mult
            site.exact = False
            return [(site.key, None)] * min(n, 1000)
        first = site.runs
        site.runs += n
        return [(site.key, i) for i in range(first, first + n)]

    def edge(self, source: RunRef, target: RunRef, kind: str) -> None:
        self.edges.setdefault((source, target, kind), None)
        self.track.edge(source, target)

    # ------------------------------------------------------------------ statements
    def block(self, suite: cst.BaseSuite | cst.CSTNode, frame: Frame) -> None:
        body = (
            suite.body if isinstance(suite, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()
        )
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.statement(small, frame)
            else:
                self.statement(stmt, frame)

    def statement(self, stmt: cst.CSTNode, frame: Frame) -> None:
        self.steps += 1
        if self.steps > HARD_BUDGET:
            raise _Abort
        outer, self.current = self.current, stmt
        try:
            handler = getattr(self, "s_" + type(stmt).__name__, None)
            if handler is None:
                self.brk(stmt, frame, f"{type(stmt).__name__} statement not followed")
            else:
                handler(stmt, frame)
        except (_Return, _Break, _Continue, _Abort):
            raise
        except RecursionError:
            self.brk(stmt, frame, "too deeply nested to analyse")
        except Exception as exc:  # never crash on odd but valid Python
            self.brk(stmt, frame, f"not understood ({type(exc).__name__}: {exc})")
        finally:
            self.current = outer

    def s_Expr(self, stmt: cst.Expr, frame: Frame) -> None:
        self.ev(stmt.value, frame)

    def s_Assign(self, stmt: cst.Assign, frame: Frame) -> None:
        value = self.ev(stmt.value, frame)
        for target in stmt.targets:
            self.bind(target.target, value, frame)

    def s_AnnAssign(self, stmt: cst.AnnAssign, frame: Frame) -> None:
        if stmt.value is not None:
            self.bind(stmt.target, self.ev(stmt.value, frame), frame)

    def s_AugAssign(self, stmt: cst.AugAssign, frame: Frame) -> None:
        left = self.ev(stmt.target, frame)
        right = self.ev(stmt.value, frame)
        op = type(stmt.operator).__name__.replace("Assign", "")
        self.bind(stmt.target, self.binop(op, left, right, stmt, frame), frame)

    def s_Return(self, stmt: cst.Return, frame: Frame) -> None:
        value = self.ev(stmt.value, frame) if stmt.value is not None else Const(None)
        self.resolve(value, "returned", stmt, frame)
        frame.returns.append(value)
        line, col = self.pos(stmt, frame)
        if self.track.is_scope(frame):
            self.track.resolve(value)
            self.track.exit(frame, line, frame.env)
        self.exits.append(
            Exit("return", frame.func.qualname, frame.func.module.path, line, col, self.conditional)
        )
        raise _Return

    def s_Raise(self, stmt: cst.Raise, frame: Frame) -> None:
        if stmt.exc is not None:
            self.ev(stmt.exc, frame)
        line, col = self.pos(stmt, frame)
        self.exits.append(
            Exit("raise", frame.func.qualname, frame.func.module.path, line, col, self.conditional)
        )
        raise _Return

    def s_Assert(self, stmt: cst.Assert, frame: Frame) -> None:
        test = self.ev(stmt.test, frame)
        self.resolve(test, "value", stmt, frame)
        self.use(test, "in an assert", stmt, frame)

    def s_Break(self, stmt: cst.Break, frame: Frame) -> None:
        self.track.brk()
        raise _Break

    def s_Continue(self, stmt: cst.Continue, frame: Frame) -> None:
        self.track.cont()
        raise _Continue

    def s_Pass(self, stmt: cst.CSTNode, frame: Frame) -> None:
        pass

    s_Global = s_Nonlocal = s_Pass

    def s_Del(self, stmt: cst.Del, frame: Frame) -> None:
        if isinstance(stmt.target, cst.Name):
            frame.env.pop(stmt.target.value, None)

    def s_Import(self, stmt: cst.CSTNode, frame: Frame) -> None:
        saved = dict(frame.func.module.symbols)
        self.project._statement(frame.func.module, stmt, frame.func.top, None, 0)
        module = frame.func.module
        for name, value in module.symbols.items():
            if saved.get(name) is not value:
                frame.env[name] = value
        module.symbols.clear()
        module.symbols.update(saved)

    s_ImportFrom = s_Import

    def s_FunctionDef(self, stmt: cst.FunctionDef, frame: Frame) -> None:
        name = stmt.name.value
        func = FuncDef(
            name, f"{frame.func.qualname}.{name}", stmt, frame.func.module, frame.func.top
        )
        value: Value = FuncRef(func, frame.env)
        for decorator in reversed(stmt.decorators):
            value = self.project.apply(func.module, self.ev(decorator.decorator, frame), value)
        frame.env[name] = value

    def s_ClassDef(self, stmt: cst.ClassDef, frame: Frame) -> None:
        frame.env[stmt.name.value] = UNKNOWN

    def s_If(self, stmt: cst.If, frame: Frame) -> None:
        test = self.ev(stmt.test, frame)
        self.resolve(test, "value", stmt, frame)
        self.use(test, "as a condition (a future is always true)", stmt, frame)
        truth = self.truth(test)
        orelse = stmt.orelse
        if truth is True:
            self.block(stmt.body, frame)
        elif truth is False:
            if isinstance(orelse, cst.If):
                self.s_If(orelse, frame)
            elif orelse is not None:
                self.block(orelse.body, frame)
        else:
            arms: list[Any] = [lambda: self.block(stmt.body, frame)]
            if isinstance(orelse, cst.If):
                arms.append(lambda: self.s_If(orelse, frame))
            elif orelse is not None:
                arms.append(lambda: self.block(orelse.body, frame))
            else:
                arms.append(lambda: None)
            self.branches(arms, frame)

    def branches(self, arms: list[Any], frame: Frame) -> None:
        """Walk each arm from the same environment, sites conditional; join what survives."""
        before = dict(frame.env)
        saved = self.conditional
        survivors: list[dict[str, Value]] = []
        left = False
        self.conditional = True
        start = self.track.save()
        states = []
        try:
            for arm in arms:
                frame.env = dict(before)
                self.track.load(start)
                try:
                    arm()
                    survivors.append(frame.env)
                    states.append(self.track.save())
                except (_Return, _Break, _Continue):
                    left = True
        finally:
            self.conditional = saved
        self.track.load(self.track.merge(states) if states else start)
        if not survivors:
            raise _Return
        env = survivors[0]
        for other in survivors[1:]:
            for name in set(env) | set(other):
                env[name] = _join(env.get(name, UNKNOWN), other.get(name, UNKNOWN))
        frame.env = env
        if left:  # the rest runs only on the paths that did not leave
            self.conditional = True

    def s_Match(self, stmt: cst.Match, frame: Frame) -> None:
        self.ev(stmt.subject, frame)
        self.branches(
            [lambda c=case: self.block(c.body, frame) for case in stmt.cases] + [lambda: None],
            frame,
        )

    def s_With(self, stmt: cst.With, frame: Frame) -> None:
        for item in stmt.items:
            value = self.ev(item.item, frame)
            if item.asname is not None:
                self.bind(item.asname.name, UNKNOWN if isinstance(value, Canon) else value, frame)
        self.block(stmt.body, frame)

    def s_Try(self, stmt: cst.Try, frame: Frame) -> None:
        try:
            self.block(stmt.body, frame)
            if stmt.orelse is not None:
                self.block(stmt.orelse.body, frame)
        finally:
            if stmt.handlers:
                arms = [lambda h=h: self.block(h.body, frame) for h in stmt.handlers]
                self.branches([*arms, lambda: None], frame)
            if stmt.finalbody is not None:
                self.block(stmt.finalbody.body, frame)

    s_TryStar = s_Try

    def s_While(self, stmt: cst.While, frame: Frame) -> None:
        self.brk(stmt, frame, "while loop: how many times its body runs is not followed")
        test = self.ev(stmt.test, frame)
        self.use(test, "as a loop condition (a future is always true)", stmt, frame)
        with self.context(dynamic="created inside a while loop"):
            self.loop_once(stmt.body, frame)

    def s_For(self, stmt: cst.For, frame: Frame) -> None:
        self.track.for_iter = stmt.iter
        try:
            iterable = self.ev(stmt.iter, frame)
        finally:
            self.track.for_iter = None
        deferred = (
            isinstance(stmt.iter, cst.Call)
            and isinstance(iterable, Opaque)
            and bool(self.track.deferred)
            and self.track.deferred[-1][0] is stmt.iter
        )
        members: list[RunRef] = []
        if deferred:  # an as_completed loop: its futures are consumed if it runs to the end
            consumed: Value = self.track.deferred.pop()[1]  # type: ignore[assignment]
            members = [r for r, k in futures_in(consumed) if k == "future"]
        if isinstance(iterable, Future):
            self.resolve(iterable, "value", stmt, frame)
            self.use(iterable, "as an iterable", stmt, frame)
        items = elements(iterable) if stmt.asynchronous is None else None
        n = length(iterable)
        broke = False
        if items is not None and self.steps + len(items) <= UNROLL_BUDGET:
            self.track.loop_enter(frame.env, [], False)
            try:
                for item in items:
                    self.bind(stmt.target, item, frame)
                    try:
                        self.block(stmt.body, frame)
                        self.track.iteration_end(True)
                    except _Continue:
                        self.track.iteration_end(False)
                        continue
                    except _Break:
                        broke = True
                        break
            finally:
                self.track.loop_leave(frame.env, False)
        elif n is not None:
            self.bind(stmt.target, UNKNOWN, frame)
            with self.context(mult=n):
                self.loop_once(stmt.body, frame)
        else:
            if not deferred:
                members = [r for r, k in futures_in(iterable) if k == "future" and r[1] is None]
            self.bind(stmt.target, self.element(iterable), frame)
            code = frame.func.module.code(stmt.iter)
            line, _ = self.pos(stmt, frame)
            with self.context(
                dynamic=f"in a loop over {code} (line {line}), "
                "whose length is known only at run time"
            ):
                self.loop_once(stmt.body, frame, members, deferred)
        if stmt.orelse is not None and not broke:
            self.block(stmt.orelse.body, frame)

    def loop_once(
        self,
        body: cst.BaseSuite,
        frame: Frame,
        members: list[RunRef] | None = None,
        deferred: bool = False,
    ) -> None:
        self.track.loop_enter(frame.env, members or [], deferred)
        fell = False
        try:
            self.block(body, frame)
            fell = True
        except (_Break, _Continue):
            pass
        finally:
            self.track.iteration_end(fell)
            self.track.loop_leave(frame.env, True)

    @contextmanager
    def context(self, dynamic: str | None = None, mult: int = 1) -> Iterator[None]:
        saved = (self.dynamic, self.mult)
        self.dynamic = self.dynamic or dynamic
        self.mult = self.mult * mult
        try:
            yield
        finally:
            self.dynamic, self.mult = saved

    def element(self, iterable: Value) -> Value:
        if isinstance(iterable, Opaque):
            return Union(iterable.members) if len(iterable.members) != 1 else iterable.members[0]
        if isinstance(iterable, Union):
            return Union(tuple(self.element(o) for o in iterable.options))
        return _derive(iterable)

    # ------------------------------------------------------------------ binding
    def bind(self, target: cst.BaseExpression, value: Value, frame: Frame) -> None:
        if isinstance(target, cst.Name):
            frame.env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            items = elements(value)
            names = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in names)
            if items is not None and len(items) == len(names) and not starred:
                for element, item in zip(names, items, strict=False):
                    self.bind(element.value, item, frame)
            else:
                inner = self.element(value) if not isinstance(value, Seq) else _derive(value)
                for element in names:
                    self.bind(element.value, inner, frame)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            base = frame.env.get(target.value.value)
            if base is not None:
                members = (*self.members(base), value)
                frame.env[target.value.value] = Opaque(tuple(dict.fromkeys(members))[:64])
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, Opaque((self.element(value),)), frame)

    def members(self, value: Value) -> tuple[Value, ...]:
        if isinstance(value, Seq):
            return value.items
        if isinstance(value, Opaque):
            return value.members
        if isinstance(value, DictVal):
            return tuple(v for _, v in value.items)
        return ()

    # ------------------------------------------------------------------ expressions
    def ev(self, node: cst.BaseExpression, frame: Frame) -> Value:
        handler = getattr(self, "e_" + type(node).__name__, None)
        return handler(node, frame) if handler is not None else UNKNOWN

    def e_Name(self, node: cst.Name, frame: Frame) -> Value:
        name = node.value
        if name in frame.env:
            return frame.env[name]
        if frame.closure is not None and name in frame.closure:
            return frame.closure[name]
        found = frame.func.module.symbols.get(name)
        if found is not None:
            return found
        if name in _NAMES:
            return _NAMES[name]
        return Canon(f"builtins.{name}")

    def e_Integer(self, node: cst.Integer, frame: Frame) -> Value:
        return Const(node.evaluated_value)

    e_Float = e_Imaginary = e_Integer

    def e_SimpleString(self, node: cst.SimpleString, frame: Frame) -> Value:
        return Const(node.evaluated_value)

    e_ConcatenatedString = e_SimpleString

    def e_FormattedString(self, node: cst.FormattedString, frame: Frame) -> Value:
        values = [
            self.ev(p.expression, frame)
            for p in node.parts
            if isinstance(p, cst.FormattedStringExpression)
        ]
        for value in values:
            self.resolve(value, "value", node, frame)
            self.use(value, "in an f-string", node, frame)
        return _derive(*values)

    def e_Tuple(self, node: cst.Tuple, frame: Frame) -> Value:
        return self.sequence(node.elements, "tuple", frame)

    def e_List(self, node: cst.List, frame: Frame) -> Value:
        return self.sequence(node.elements, "list", frame)

    def e_Set(self, node: cst.Set, frame: Frame) -> Value:
        return self.sequence(node.elements, "set", frame)

    def sequence(self, nodes: Any, kind: str, frame: Frame) -> Value:
        items: list[Value] = []
        extra: list[Value] = []
        for element in nodes:
            value = self.ev(element.value, frame)
            if isinstance(element, cst.StarredElement):
                known = elements(value)
                if known is None:
                    extra.append(self.element(value))
                    continue
                items.extend(known)
            else:
                items.append(value)
        if extra:
            return Opaque(tuple(items + extra))
        if all(isinstance(v, Const) for v in items) and kind != "set":
            consts = [v.value for v in items if isinstance(v, Const)]
            return Const(consts if kind == "list" else tuple(consts))
        return Seq(tuple(items), kind)

    def e_Dict(self, node: cst.Dict, frame: Frame) -> Value:
        items: list[tuple[Value, Value]] = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                items.append((self.ev(element.key, frame), self.ev(element.value, frame)))
            else:
                value = self.ev(element.value, frame)
                if isinstance(value, DictVal):
                    items.extend(value.items)
                else:
                    items.append((UNKNOWN, value))
        return DictVal(tuple(items))

    def e_Attribute(self, node: cst.Attribute, frame: Frame) -> Value:
        base = self.ev(node.value, frame)
        attr = node.attr.value
        if isinstance(base, ModuleRef):
            return base.module.symbols.get(attr, UNKNOWN)
        if isinstance(base, Canon):
            return Canon(f"{base.name}.{attr}")
        if isinstance(base, Const) and attr in ("real", "imag"):
            return Const(getattr(base.value, attr, None))
        return _derive(base)

    def e_Subscript(self, node: cst.Subscript, frame: Frame) -> Value:
        base = self.ev(node.value, frame)
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return Opaque(self.members(base)) if self.members(base) else _derive(base)
        index = self.ev(node.slice[0].slice.value, frame)
        if isinstance(index, Const):
            if isinstance(base, (Seq, Const)) and isinstance(index.value, int):
                items = elements(base)
                if items is not None and -len(items) <= index.value < len(items):
                    return items[index.value]
            if isinstance(base, DictVal):
                for key, value in reversed(base.items):
                    if key == index:
                        return value
            if isinstance(base, Const):
                try:
                    got = base.value[index.value]
                    return Const(got) if _small(got) else UNKNOWN
                except Exception:
                    return UNKNOWN
        if self.members(base):
            return Union(self.members(base)[:16])
        return _derive(base, index)

    def e_BinaryOperation(self, node: cst.BinaryOperation, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        right = self.ev(node.right, frame)
        return self.binop(type(node.operator).__name__, left, right, node, frame)

    def binop(self, op: str, left: Value, right: Value, node: cst.CSTNode, frame: Frame) -> Value:
        if isinstance(left, Const) and isinstance(right, Const):
            fn = _BINOPS.get(getattr(cst, op, type(None)))
            if fn is not None and _small(left.value) and _small(right.value):
                if op == "Power" and isinstance(right.value, int) and abs(right.value) > 64:
                    return UNKNOWN
                if op in ("Multiply", "LeftShift") and (
                    isinstance(right.value, int)
                    and abs(right.value) > 10_000
                    or isinstance(left.value, int)
                    and abs(left.value) > 10_000
                    and not isinstance(right.value, (int, float))
                ):
                    return UNKNOWN
                try:
                    result = fn(left.value, right.value)
                except Exception:
                    return UNKNOWN
                return Const(result) if _small(result) else UNKNOWN
        if (
            op == "Add"
            and isinstance(left, (Seq, Const, Opaque))
            and isinstance(right, (Seq, Const, Opaque))
        ):
            a, b = elements(left), elements(right)
            if a is not None and b is not None and not isinstance(left, Opaque):
                return Seq(tuple(a + b))
            return Opaque((*self.members(left), *self.members(right)))
        for value in (left, right):
            if isinstance(value, Future):
                self.resolve(value, "value", node, frame)
                self.use(value, "in arithmetic", node, frame)
        return _derive(left, right)

    def e_UnaryOperation(self, node: cst.UnaryOperation, frame: Frame) -> Value:
        value = self.ev(node.expression, frame)
        if isinstance(value, Const) and _small(value.value):
            fn: Any = {
                "Not": operator.not_,
                "Minus": operator.neg,
                "Plus": operator.pos,
                "BitInvert": operator.invert,
            }.get(type(node.operator).__name__)
            try:
                return Const(fn(value.value)) if fn else UNKNOWN
            except Exception:
                return UNKNOWN
        if isinstance(node.operator, cst.Not):
            truth = self.truth(value)
            if truth is not None:
                return Const(not truth)
        return _derive(value)

    def e_BooleanOperation(self, node: cst.BooleanOperation, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        truth = self.truth(left)
        is_and = isinstance(node.operator, cst.And)
        if truth is not None:
            if truth != is_and:
                return left
            return self.ev(node.right, frame)
        return _join(left, self.ev(node.right, frame))

    def e_Comparison(self, node: cst.Comparison, frame: Frame) -> Value:
        left = self.ev(node.left, frame)
        values = [left]
        result: bool | None = True
        for target in node.comparisons:
            right = self.ev(target.comparator, frame)
            values.append(right)
            fn = _CMPOPS.get(type(target.operator))
            if not isinstance(target.operator, (cst.Is, cst.IsNot, cst.In, cst.NotIn)):
                for value in (left, right):
                    self.use(value, "in a comparison", node, frame)
            if (
                result
                and isinstance(target.operator, (cst.Is, cst.IsNot))
                and isinstance(left, Future)
                and right == Const(None)
            ):  # a future is never None
                result = isinstance(target.operator, cst.IsNot)
            elif result and isinstance(left, Const) and isinstance(right, Const) and fn:
                try:
                    result = bool(fn(left.value, right.value))
                except Exception:
                    result = None
            else:
                result = None if result else result
            left = right
        if result is not None:
            return Const(result)
        return _derive(*values)

    def e_IfExp(self, node: cst.IfExp, frame: Frame) -> Value:
        truth = self.truth(self.ev(node.test, frame))
        if truth is True:
            return self.ev(node.body, frame)
        if truth is False:
            return self.ev(node.orelse, frame)
        saved = self.conditional
        self.conditional = True
        try:
            return _join(self.ev(node.body, frame), self.ev(node.orelse, frame))
        finally:
            self.conditional = saved

    def e_Await(self, node: cst.Await, frame: Frame) -> Value:
        return self.ev(node.expression, frame)

    def e_NamedExpr(self, node: cst.NamedExpr, frame: Frame) -> Value:
        value = self.ev(node.value, frame)
        self.bind(node.target, value, frame)
        return value

    def e_Lambda(self, node: cst.Lambda, frame: Frame) -> Value:
        return UNKNOWN

    def e_ListComp(self, node: cst.ListComp, frame: Frame) -> Value:
        return self.comprehension(node, node.for_in, lambda: self.ev(node.elt, frame), frame)

    e_SetComp = e_GeneratorExp = e_ListComp

    def e_DictComp(self, node: cst.DictComp, frame: Frame) -> Value:
        def item() -> Value:
            return Seq((self.ev(node.key, frame), self.ev(node.value, frame)), "tuple")

        got = self.comprehension(node, node.for_in, item, frame)
        if isinstance(got, Seq):
            return DictVal(
                tuple(
                    (p.items[0], p.items[1])
                    for p in got.items  # type: ignore
                    if isinstance(p, Seq)
                )
            )
        return got

    def comprehension(self, node: cst.CSTNode, comp: cst.CompFor, item: Any, frame: Frame) -> Value:
        outer = frame.env
        frame.env = dict(outer)
        out: list[Value] = []
        self.track.comprehensions += 1
        try:
            known = self.comp_for(comp, item, frame, out)
        finally:
            frame.env = outer
            self.track.comprehensions -= 1
        return Seq(tuple(out)) if known else Opaque(tuple(dict.fromkeys(out))[:64])

    def comp_for(self, comp: cst.CompFor, item: Any, frame: Frame, out: list[Value]) -> bool:
        iterable = self.ev(comp.iter, frame)
        items = elements(iterable)

        def body() -> bool:
            known = True
            for condition in comp.ifs:
                truth = self.truth(self.ev(condition.test, frame))
                if truth is False:
                    return True
                if truth is None:
                    known = False
            if comp.inner_for_in is not None:
                saved = self.conditional
                self.conditional = self.conditional or not known
                try:
                    return self.comp_for(comp.inner_for_in, item, frame, out) and known
                finally:
                    self.conditional = saved
            saved = self.conditional
            self.conditional = self.conditional or not known
            try:
                out.append(item())
            finally:
                self.conditional = saved
            return known

        if items is not None and self.steps + len(items) <= UNROLL_BUDGET:
            all_known = True
            for element in items:
                self.steps += 1
                self.bind(comp.target, element, frame)
                all_known = body() and all_known
            return all_known
        self.bind(comp.target, self.element(iterable), frame)
        code = frame.func.module.code(comp.iter)
        with self.context(
            dynamic=f"in a comprehension over {code}, whose length is known only at run time"
        ):
            body()
        return False

    def truth(self, value: Value) -> bool | None:
        if isinstance(value, Const):
            try:
                return bool(value.value)
            except Exception:
                return None
        if isinstance(value, (Seq, DictVal)):
            return bool(value.items)
        if isinstance(value, (Future, TaskRef, FlowRef, FuncRef, ModuleRef)):
            return True
        return None

    # ------------------------------------------------------------------ calls
    def e_Call(self, node: cst.Call, frame: Frame) -> Value:
        from flowc.compiler.calls import call

        return call(self, node, frame)


def bind_params(
    params: Any, args: list[Value], kwargs: dict[str, Value], env: dict[str, Value]
) -> dict[str, Value]:
    positional = list(args)
    for param in params:
        if param.kind == "var_positional":
            env[param.name] = Seq(tuple(positional))
            positional = []
        elif param.kind == "var_keyword":
            env[param.name] = DictVal(tuple((Const(k), v) for k, v in kwargs.items()))
        elif positional and param.kind != "keyword_only":
            env[param.name] = positional.pop(0)
        elif param.name in kwargs:
            env[param.name] = kwargs.pop(param.name)
        else:
            env[param.name] = literal(param.default) or UNKNOWN
    return env
