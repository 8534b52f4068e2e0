"""Statements of a flow body: assignments, branches, loops, ``return``/``raise``, imports.

Loops over iterables known before the run are unrolled (the body is walked once per element);
a loop over an unknown iterable is walked once with a ``dynamic`` reason; past the unrolling
budget known loops are walked once and their counts multiplied. Branches on unknown tests walk
every arm from the same environment, mark their sites ``conditional`` and join what survives.
A statement the walker does not understand becomes a graph break; none raises out of the walk.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from flowc.compiler.analysis import Exit
from flowc.compiler.discovery import FuncDef
from flowc.compiler.state import (
    UNROLL_BUDGET,
    Frame,
    State,
    _Abort,
    _Break,
    _Continue,
    _join,
    _Return,
)
from flowc.compiler.values import (
    UNKNOWN,
    Canon,
    Const,
    FuncRef,
    Future,
    Opaque,
    RunRef,
    Sized,
    Value,
    elements,
    futures_in,
    length,
)

__all__ = ["Statements"]


class Statements(State):
    """Walks statements (``s_<libcst class name>`` handlers), updating the frame's names."""

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
        self.spend(stmt, frame)
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
        if items is not None and self.mult == 1 and self.steps + len(items) <= UNROLL_BUDGET:
            broke = self.unroll(stmt, items, frame)
        elif n is not None:
            self.counted(stmt, n, frame, iterable if isinstance(iterable, Sized) else None)
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

    def unroll(self, stmt: cst.For, items: list[Value], frame: Frame) -> bool:
        """Walk the body once per element; True if a ``break`` left the loop.

        After each iteration the steps it took project the cost of the rest: when they would
        pass the unrolling budget, the remaining iterations are walked once and their runs
        counted by arithmetic (nested loops of 300 x 300 x 300 take a few thousand steps).
        """
        start = self.steps
        self.track.loop_enter(frame.env, [], False)
        try:
            for done, item in enumerate(items):
                left = len(items) - done
                spent = self.steps - start
                if done and self.steps + spent // done * left > UNROLL_BUDGET:
                    self.counted(stmt, left, frame)
                    return False
                self.bind(stmt.target, item, frame)
                self.steps += 1
                try:
                    self.block(stmt.body, frame)
                    self.track.iteration_end(True)
                except _Continue:
                    self.track.iteration_end(False)
                except _Break:
                    return True
        finally:
            self.track.loop_leave(frame.env, False)
        return False

    def counted(self, stmt: cst.For, n: int, frame: Frame, uniform: Sized | None = None) -> None:
        """Walk the body once for ``n`` iterations, counting its runs by arithmetic.

        One walk cannot say what ``n`` iterations leave in a name the body rebinds (a list
        appended to ``n`` times, a counter): each such name holds either its value before or
        the one walk's, so nothing downstream takes one iteration's value for all of them
        (a ``.map`` over that list is dynamic, never a made-up count).
        """
        before = dict(frame.env)
        members: list[RunRef] = []
        if uniform is not None:  # a uniform map's futures: each iteration takes one of them
            members = [r for r, k in futures_in(uniform) if k == "future" and r[1] is None]
        self.bind(stmt.target, self.element(uniform) if uniform is not None else UNKNOWN, frame)
        with self.context(mult=n):
            self.loop_once(stmt.body, frame, members)
        for name, value in list(frame.env.items()):
            if name not in before:
                frame.env[name] = _join(UNKNOWN, value)
            elif before[name] is not value and before[name] != value:
                frame.env[name] = _join(before[name], value)

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
