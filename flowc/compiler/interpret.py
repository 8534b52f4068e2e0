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

from flowc.compiler.analysis import Exit
from flowc.compiler.discovery import literal
from flowc.compiler.expressions import Expressions
from flowc.compiler.state import (
    Frame,
    Site,
    _Abort,
    _Break,
    _Continue,
    _join,
    _Return,
    bind_params,
)
from flowc.compiler.statements import Statements
from flowc.compiler.values import UNKNOWN, Const, Param, Value

__all__ = ["Frame", "Interpreter", "Site", "bind_params"]


class Interpreter(Statements, Expressions):
    """Walks one flow (and what it calls) and records sites, runs, edges, breaks and facts.

    Its state and shared helpers are :class:`flowc.compiler.state.State`; statements and
    expressions are walked by the two mixins; calls by :mod:`flowc.compiler.calls`.
    """

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
        try:
            self.call_function(frame, None)
        except _Abort:  # the budget is spent: what was found stays, with no count claimed
            for site in self.by_key:
                site.exact = False
                site.dynamic = site.dynamic or "the analysis stopped before its count was known"

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
