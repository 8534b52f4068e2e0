"""The facts of the compiler's walk, kept for the linter: futures made, resolved, and exits.

Lint rules (``FC001`` "unresolved terminal future" and friends) read these instead of walking
the tree again. Every fact names the node id of the call site it concerns, so findings and
graphs agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Analysis",
    "Exit",
    "FlowAnalysis",
    "FutureCreated",
    "FutureResolved",
    "Note",
    "Tracker",
    "Unresolved",
]

Resolution = Literal[
    "result", "wait", "wait()", "as_completed", "returned", "passed", "value", "return_state"
]


@dataclass(frozen=True)
class FutureCreated:
    """A ``.submit``/``.map`` made futures at this call site (``conditional``: maybe)."""

    node: str
    kind: str
    function: str
    path: str
    line: int
    col: int
    conditional: bool


@dataclass(frozen=True)
class FutureResolved:
    """A future of ``node`` is resolved (or used) here, and how.

    ``how``: ``result``/``wait`` (methods), ``wait()``/``as_completed`` (functions),
    ``returned`` (part of a return value), ``passed`` (an argument of a task, subflow or
    helper; ``target`` names it), ``value`` (used as a plain value: a test, arithmetic, an
    f-string, an unknown function such as ``print``), ``return_state``.
    """

    node: str
    how: Resolution
    function: str
    path: str
    line: int
    col: int
    target: str | None = None


@dataclass(frozen=True)
class Exit:
    """A path out of a function: ``return``, ``raise``, or the end of its body."""

    how: Literal["return", "raise", "end"]
    function: str
    path: str
    line: int
    col: int
    conditional: bool


@dataclass
class FlowAnalysis:
    flow: str
    created: list[FutureCreated] = field(default_factory=list)
    resolved: list[FutureResolved] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)

    def unresolved(self) -> list[FutureCreated]:
        """Call sites none of whose futures is ever resolved, returned or passed on."""
        done = {fact.node for fact in self.resolved}
        return [fact for fact in self.created if fact.node not in done]


@dataclass
class Analysis:
    flows: dict[str, FlowAnalysis] = field(default_factory=dict)


# ---------------------------------------------------------------------- path-sensitive facts

RunKey = tuple[int, "int | None"]


@dataclass(frozen=True)
class Unresolved:
    """A call site with a future still pending when its function exits on some path.

    ``lost``: overwritten by a later iteration of a loop before being resolved; ``partial``:
    resolved on some other path; ``names``: local names holding the pending futures at every
    exit where they are pending (empty when some exit has none: no safe fix).
    """

    node: str
    function: str
    task: str
    path: str
    line: int
    col: int
    exit_line: int
    lost: bool
    partial: bool
    names: tuple[str, ...]
    exits: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Note:
    """A fact for one of the other rules: ``kind`` (``value-use``, ``map-arguments``,
    ``signature``, ``submit-result-in-loop``), where, and a message naming the thing at fault."""

    kind: str
    path: str
    line: int
    col: int
    message: str
    function: str = ""


@dataclass
class _Scope:
    frame: object
    function: str
    path: str
    pending: dict[RunKey, None] = field(default_factory=dict)
    lost: set[RunKey] = field(default_factory=set)


@dataclass
class _Loop:
    made: int
    names: frozenset[str]
    members: frozenset[RunKey]
    deferred: bool
    carried: dict[str, frozenset[RunKey]] = field(default_factory=dict)
    breaks: list[tuple[dict[RunKey, None], set[RunKey]]] = field(default_factory=list)
    continues: list[tuple[dict[RunKey, None], set[RunKey]]] = field(default_factory=list)


def _holders(env: Mapping[str, object]) -> dict[RunKey, list[str]]:
    """Names that hold each pending run: ``f`` for a future, ``*fs`` for a list of them."""
    from flowc.compiler.values import Future, Opaque, Seq, Union

    holders: dict[RunKey, list[str]] = {}
    for name, value in env.items():
        if isinstance(value, (Future, Union)):
            shown = name
        elif isinstance(value, (Seq, Opaque)):
            shown = "*" + name
        else:
            continue
        for run in _runs(value):
            holders.setdefault(run, []).append(shown)
    return holders


def _runs(value: object) -> list[RunKey]:
    from flowc.compiler.values import futures_in

    return [run for run, kind in futures_in(value) if kind != "value"]  # type: ignore[arg-type]


class Tracker:
    """Follows, path by path, which futures are still pending in the flow or task that made them.

    The interpreter calls it as it walks: ``create`` when a ``.submit``/``.map`` makes runs,
    ``edge`` for each upstream, ``resolve`` when a run is resolved (which resolves its upstreams
    too), ``save``/``load``/``merge`` around the arms of a branch, ``loop_*``/``brk``/``cont``
    around loops, and ``exit`` at each ``return`` and at the end of a scope's body. A scope is
    a flow, a subflow or a task body; helpers share their caller's scope.
    """

    def __init__(self) -> None:
        self.scopes: list[_Scope] = []
        self.loops: list[_Loop] = []
        self.upstream: dict[RunKey, set[RunKey]] = {}
        self.made: list[RunKey] = []
        self.sites: dict[int, tuple[str, str, str, int, int]] = {}
        self.ever: set[RunKey] = set()
        self.found: dict[int, dict[str, object]] = {}
        self.notes: list[Note] = []
        self.comprehensions = 0
        self.for_iter: object = None
        self.deferred: list[tuple[object, object]] = []

    def in_loop(self) -> bool:
        return bool(self.loops) or self.comprehensions > 0

    # -- scopes
    def enter(self, frame: object, function: str, path: str) -> None:
        self.scopes.append(_Scope(frame, function, path))

    def leave(self, frame: object) -> None:
        if self.scopes and self.scopes[-1].frame is frame:
            self.scopes.pop()

    def is_scope(self, frame: object) -> bool:
        return bool(self.scopes) and self.scopes[-1].frame is frame

    # -- events
    def create(self, runs: list[RunKey], key: int, info: tuple[str, str, str, int, int]) -> None:
        if not self.scopes:
            return
        self.sites[key] = info
        scope = self.scopes[-1]
        for run in runs:
            scope.pending[run] = None
            self.made.append(run)

    def edge(self, source: RunKey, target: RunKey) -> None:
        self.upstream.setdefault(target, set()).add(source)

    def closure(self, runs: list[RunKey]) -> set[RunKey]:
        seen: set[RunKey] = set()
        todo = list(runs)
        while todo:
            run = todo.pop()
            for up in self.upstream.get(run, ()):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        return seen

    def resolve(self, value: object) -> None:
        runs = _runs(value)
        if not runs:
            return
        ups = self.closure(runs)
        for scope in self.scopes:
            for run in runs:
                scope.pending.pop(run, None)
                self.ever.add(run)
            for run in ups:
                scope.pending.pop(run, None)
                scope.lost.discard(run)
                self.ever.add(run)

    def note(self, kind: str, path: str, line: int, col: int, message: str, fn: str = "") -> None:
        self.notes.append(Note(kind, path, line, col, message, fn))

    # -- branches
    def save(self) -> tuple[dict[RunKey, None], set[RunKey]]:
        if not self.scopes:
            return {}, set()
        scope = self.scopes[-1]
        return dict(scope.pending), set(scope.lost)

    def load(self, state: tuple[dict[RunKey, None], set[RunKey]]) -> None:
        if self.scopes:
            self.scopes[-1].pending, self.scopes[-1].lost = dict(state[0]), set(state[1])

    @staticmethod
    def merge(
        states: list[tuple[dict[RunKey, None], set[RunKey]]],
    ) -> tuple[dict[RunKey, None], set[RunKey]]:
        pending: dict[RunKey, None] = {}
        lost: set[RunKey] = set()
        for p, lo in states:
            pending.update(p)
            lost |= lo
        return pending, lost

    # -- loops
    def loop_enter(self, env: Mapping[str, object], members: list[RunKey], deferred: bool) -> None:
        pending = self.scopes[-1].pending if self.scopes else {}
        live = frozenset(m for m in members if m in pending)
        carried = {name: frozenset(_runs(value)) for name, value in env.items()}
        self.loops.append(_Loop(len(self.made), frozenset(env), live, deferred, carried))

    def brk(self) -> None:
        if self.loops and self.scopes:
            pending, lost = self.save()
            pending.update(dict.fromkeys(self.loops[-1].members))
            self.loops[-1].breaks.append((pending, lost))

    def cont(self) -> None:
        if self.loops and self.scopes:
            self.loops[-1].continues.append(self.save())

    def iteration_end(self, fell: bool) -> None:
        """Where the next iteration starts: what fell through the body, or left by continue."""
        if not self.loops or not self.scopes:
            return
        loop = self.loops[-1]
        states = loop.continues + ([self.save()] if fell else [])
        loop.continues = []
        self.load(self.merge(states) if states else self.save())

    def loop_leave(self, env: Mapping[str, object], once: bool) -> None:
        from flowc.compiler.values import Annotated, DictVal, Opaque, Seq

        loop = self.loops.pop()
        if not self.scopes:
            return
        scope = self.scopes[-1]
        if once:  # the body stands for every iteration: what only a plain name holds is lost
            fresh = set(self.made[loop.made :]) & set(scope.pending)
            held: set[RunKey] = set()
            for name, value in env.items():
                if name in loop.names and isinstance(value, (Seq, Opaque, DictVal, Annotated)):
                    held.update(_runs(value))
                elif name in loop.carried:  # a chain: the next iteration's run depends on it
                    for run in _runs(value):
                        if self.upstream.get(run, set()) & loop.carried[name]:
                            self.edge(run, run)
                            held.add(run)
            named = {run for value in env.values() for run in _runs(value)}
            for run in (fresh & named) - held:  # only a plain name holds it: the next
                scope.lost.add(run)  # iteration rebinds that name, and this run is lost
        if loop.deferred and not loop.breaks:
            self.resolve_runs(list(loop.members))
        if loop.breaks:
            self.load(self.merge([self.save(), *loop.breaks]))

    def resolve_runs(self, runs: list[RunKey]) -> None:
        from flowc.compiler.values import Future, Seq

        self.resolve(Seq(tuple(Future(r) for r in runs)))

    # -- exits
    def exit(self, frame: object, line: int, env: Mapping[str, object]) -> None:
        if not self.is_scope(frame):
            return
        scope = self.scopes[-1]
        left = set(scope.pending) | scope.lost
        if not left:
            return
        covered: set[RunKey] = set()
        for run in left:
            covered |= self.closure([run]) - {run}
        terminal = [
            r
            for r in dict.fromkeys([*scope.pending, *sorted(scope.lost, key=str)])
            if r not in covered
        ] or list(left)
        holders = _holders(env)
        for run in terminal:
            key = run[0]
            if key not in self.sites:
                continue
            entry = self.found.setdefault(
                key, {"lost": False, "partial": False, "names": [], "fixable": True, "exits": []}
            )
            entry["lost"] = bool(entry["lost"]) or run in scope.lost
            entry["partial"] = bool(entry["partial"]) or run in self.ever
            names = holders.get(run, [])
            if not names or run in scope.lost:
                entry["fixable"] = False
            elif names[0] not in entry["names"]:  # type: ignore[operator]
                entry["names"].append(names[0])  # type: ignore[attr-defined]
            shown = names[0] if names else ""
            entry["exits"].append((scope.function, line, shown))  # type: ignore[attr-defined]
