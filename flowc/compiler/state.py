"""The interpreter's state: call sites, frames, what the walk records, and how names bind.

:class:`State` holds what a walk of one flow accumulates (sites and their runs, edges, graph
breaks, the linter's facts) and the helpers the statement and expression walkers share:
recording a site or an edge, binding a target to a value, the truth of a value. The walkers
themselves are :mod:`flowc.compiler.statements` and :mod:`flowc.compiler.expressions`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from flowc.compiler.analysis import Exit, Tracker
from flowc.compiler.discovery import FlowDef, FuncDef, Project, literal
from flowc.compiler.values import (
    MAX_ELEMENTS,
    UNKNOWN,
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
    TaskRef,
    Union,
    Value,
    elements,
    flattened,
    futures_in,
    member_of,
    weight,
)

__all__ = ["Frame", "Site", "State", "bind_params"]

MAX_DEPTH = 8
#: Steps (statements, expressions, runs, edges) a loop may be unrolled within (a loop of 10,000
#: submits takes some 200,000); past it the rest of its iterations are walked once and counted
#: by arithmetic.
UNROLL_BUDGET = 250_000
#: Steps a whole walk may take: past it the walk stops with a graph break naming the line.
HARD_BUDGET = 1_000_000
#: Largest nested value (elements counted through every level) followed element by element.
MAX_VALUE_WEIGHT = 100_000


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
    #: its results are never linked by identity (None, a bool, a small int): no value edges
    untracked: bool = False
    #: task options under which each attempt is watched (retries, a timeout, a cache key)
    options: tuple[str, ...] = ()
    #: a large ``.map`` made once: its runs are alike and kept as one ref, ``(key, None)``
    #: (see :class:`flowc.compiler.values.Sized`); expanded to runs only on request.
    uniform: bool = False
    #: how often the walk reached it (loops around it multiply): more than once, its runs are
    #: submitted at different moments of the body, between other sites' runs
    visits: int = 0


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
    """The walk's budget is spent: the graph break saying where is already recorded."""


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


class State:
    """What a walk of one flow records, and the helpers its walkers share."""

    def __init__(self, project: Project, flow: FlowDef, parameters: dict[str, object]) -> None:
        self.project = project
        self.root = flow
        self.parameters = parameters
        self.sites: dict[tuple[Any, ...], Site] = {}
        self.by_key: list[Site] = []
        self.edges: dict[tuple[RunRef, RunRef, str], None] = {}
        #: (upstream site, uniform site): run ``i`` of the second depends on run ``i`` of the
        #: first only (a ``.map`` over a uniform map's futures), not on all of them.
        self.aligned: set[tuple[int, int]] = set()
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

    # ------------------------------------------------------------------ records
    def diagnose(
        self, node: cst.CSTNode, frame: Frame, code: str, severity: str, message: str
    ) -> None:
        line, col = self.pos(node, frame)
        self.diagnostics.append((frame.func.module.path, line, col, code, severity, message))

    def project_code(self, frame: Frame, value: Value) -> str:
        return type(value).__name__

    def spend(self, node: cst.CSTNode, frame: Frame, steps: int = 1) -> None:
        """Count work; past :data:`HARD_BUDGET` steps stop the walk with a graph break here."""
        self.steps += steps
        if self.steps > HARD_BUDGET:
            self.brk(
                node,
                frame,
                f"analysis stopped: more than {HARD_BUDGET:,} steps (loops or calls too large "
                "to follow); the counts of the call sites found so far are not known",
            )
            raise _Abort

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
        site.visits += self.mult
        if reason is not None or n is None:
            site.dynamic = site.dynamic or reason or "count known only at run time"
            site.exact = False
            return [(site.key, None)]
        if self.mult != 1 or n > MAX_ELEMENTS:  # counted by arithmetic, not run by run
            site.runs += n * self.mult
            site.exact = False
            # as many refs as runs, so a list of them still sizes a .map, up to 1,000; past
            # that one ref: the list's length is then not known (a downstream map is dynamic)
            return [(site.key, None)] * n if n <= 1000 else [(site.key, None)]
        first = site.runs
        site.runs += n
        self.steps += n  # each run is followed one by one from here on: it is work
        return [(site.key, i) for i in range(first, first + n)]

    def add_uniform_runs(self, site: Site, n: int) -> list[RunRef]:
        """The ``n`` alike runs of a large ``.map`` as one ref: the walk's cost is that of one.

        A site reached again (a loop walked more than once) cannot say which of its runs
        came from which visit: it is then only counted, like runs counted by arithmetic.
        """
        site.visits += self.mult
        site.uniform = site.runs == 0 and self.mult == 1
        site.exact = site.exact and site.uniform
        site.runs += n * self.mult
        self.steps += 1
        return [(site.key, None)]

    def link(self, value: Value, runs: list[RunRef], kind: str | None = None) -> None:
        """An edge from every upstream found in ``value`` to each of ``runs``."""
        targets = list(dict.fromkeys(runs))  # runs counted by arithmetic repeat one ref
        for source, found in futures_in(value):
            for run in targets:
                self.edge(source, run, kind or found)

    def edge(self, source: RunRef, target: RunRef, kind: str) -> None:
        self.steps += 1  # edges are work too: a map over a map's futures makes one per pair
        self.track.edge(source, target)
        if kind == "value":  # one edge per upstream run: a future's edge covers its value's
            if self.by_key[source[0]].untracked or (source, target, "future") in self.edges:
                return
        elif kind == "future":
            self.edges.pop((source, target, "value"), None)
        self.edges.setdefault((source, target, kind), None)

    # ------------------------------------------------------------------ walkers (overridden)
    def ev(self, node: cst.BaseExpression, frame: Frame) -> Value:
        """The value of an expression: :class:`flowc.compiler.expressions.Expressions`."""
        raise NotImplementedError

    def binop(self, op: str, left: Value, right: Value, node: cst.CSTNode, frame: Frame) -> Value:
        raise NotImplementedError

    def block(self, suite: cst.BaseSuite | cst.CSTNode, frame: Frame) -> None:
        """Walk a suite: :class:`flowc.compiler.statements.Statements`."""
        raise NotImplementedError

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
        if isinstance(iterable, (Result, Seq)):
            return member_of(iterable)
        return _derive(iterable)

    # ------------------------------------------------------------------ binding
    def bounded(self, value: Value, node: cst.CSTNode, frame: Frame) -> Value:
        """``value``, or past :data:`MAX_VALUE_WEIGHT` its futures in a collection of unknown
        length, with a graph break: a value that large is not followed element by element."""
        if weight(value) <= MAX_VALUE_WEIGHT:
            return value
        self.brk(
            self.current or node,
            frame,
            f"value too large to follow: more than {MAX_VALUE_WEIGHT:,} elements nested in it",
        )
        return flattened(value)

    def bind(self, target: cst.BaseExpression, value: Value, frame: Frame) -> None:
        value = self.bounded(value, target, frame)
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
