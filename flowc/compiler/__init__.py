"""flowc's compiler: a Python file's source -> the static task graph of each flow in it.

The source is parsed with libcst and never imported or executed. See ``docs/compiler.md``::

    result = compile_file("flow.py", expand=True, parameters={"n": 3})
    result.flow("etl").nodes, result.graph("etl"), result.analysis
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flowc.compiler.analysis import Analysis, FlowAnalysis, FutureCreated, FutureResolved
from flowc.compiler.diagnostics import CompileError, Diagnostic
from flowc.plan import FlowPlan, Plan

if TYPE_CHECKING:
    import networkx as nx

T = TypeVar("T")

__all__ = [
    "Analysis",
    "CompileError",
    "CompileResult",
    "Diagnostic",
    "compile_file",
    "compile_source",
]


class CompileResult:
    """The plan of a file, the diagnostics found on the way, and the walk's facts."""

    def __init__(
        self,
        plan: Plan,
        diagnostics: list[Diagnostic],
        path: str,
        analysis: Analysis,
        deps: list[str] | None = None,
    ) -> None:
        self.plan = plan
        self.diagnostics = diagnostics
        self.path = path
        self.analysis = analysis
        #: the other files of the project the compile read (imported modules): a result
        #: cached for the file holds only while they are unchanged.
        self.deps = deps or []

    def flow(self, name: str | None = None) -> FlowPlan:
        return self.plan.flow(name)

    def graph(self, flow: str | None = None) -> nx.MultiDiGraph:
        return self.flow(flow).graph()

    def _repr_svg_(self) -> str | None:
        """Jupyter draws a compiled file as its graph."""
        from flowc.compiler.render import PlanView

        return PlanView(self.plan)._repr_svg_()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, Any]:
        from flowc.compiler.render import PlanView

        return dict(PlanView(self.plan)._repr_mimebundle_(include, exclude))

    def __repr__(self) -> str:
        return f"<CompileResult {self.path}: {', '.join(f.name for f in self.plan.flows)}>"


def _unique(items: list[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _error(path: str, message: str, code: str = "E003") -> CompileError:
    """An error about the file as a whole (line 0): ``path: message``."""
    return CompileError(
        [Diagnostic(path=path, line=0, col=0, code=code, severity="error", message=message)]
    )


def compile_file(
    path: str | os.PathLike[str],
    *,
    flow: str | None = None,
    expand: bool = False,
    parameters: dict[str, object] | None = None,
    unlisted: bool = False,
) -> CompileResult:
    """Compile the file at ``path`` (sibling modules it imports are found next to it).

    ``unlisted``: with ``expand``, leave the runs of large maps unlisted in the plan, to be
    listed as :meth:`flowc.plan.Plan.write_json` writes them (the command line's JSON).
    """
    from flowc.reading import SourceReadError, read_limited

    shown = os.fspath(path)
    file = Path(shown)
    try:
        data = read_limited(file)
    except SourceReadError as exc:
        raise _error(shown, exc.reason) from None
    return _compile(data, None, shown, str(file), flow, expand, parameters, unlisted)


def compile_source(
    source: str,
    path: str = "<string>",
    *,
    flow: str | None = None,
    expand: bool = False,
    parameters: dict[str, object] | None = None,
) -> CompileResult:
    """Compile ``source`` (``path`` names it in diagnostics and locates sibling modules)."""
    real = path if not path.startswith("<") and Path(path).is_file() else None
    return _compile(
        source.encode("utf-8", "surrogatepass"), source, path, real, flow, expand, parameters
    )


def _compile(
    data: bytes,
    source: str | None,
    path: str,
    real: str | None,
    only: str | None,
    expand: bool,
    parameters: dict[str, object] | None,
    unlisted: bool = False,
) -> CompileResult:
    from flowc.compiler.discovery import Project, decode
    from flowc.compiler.expand import build_plan, site_ids
    from flowc.compiler.interpret import Interpreter

    if source is None:
        source = decode(data, path)
    project = Project()
    main = project.load_main(source, path, real)
    flows = list(main.flows)
    if only is not None:
        chosen = [f for f in flows if only in (f.name, f.qualname)]
        if not chosen:
            names = ", ".join(f"{f.name} ({f.qualname})" for f in flows) or "none"
            raise _error(path, f"no flow named {only!r} (flows in the file: {names})", "E004")
        flows = chosen
    plan = Plan(schema="flowc.plan/1", source_sha256=hashlib.sha256(data).hexdigest())
    analysis = Analysis()
    diagnostics: list[Diagnostic] = []
    for definition in flows:
        line, _ = main.position(definition.func.node, definition.func.top)
        flow_plan = FlowPlan(
            name=definition.name,
            qualname=definition.qualname,
            file=path,
            line=line,
            parameters=project.parameters(definition),
        )
        interp = Interpreter(project, definition, dict(parameters or {}))
        try:
            interp.run()
        except Exception as exc:  # _Abort or a bug: keep what was found, say where it stopped
            interp.breaks.append((path, line, 1, f"analysis stopped: {type(exc).__name__}"))
        plan.flows.append(build_plan(interp, flow_plan, expand))
        if not unlisted:
            flow_plan.materialize()
        ids = site_ids(interp.by_key)
        kinds = {s.key: s.kind for s in interp.by_key}
        facts = FlowAnalysis(definition.name)
        facts.created = _unique(
            [
                FutureCreated(ids[k], kinds[k], fn, p, ln, c, cond)
                for k, _kind, fn, p, ln, c, cond in interp.created
            ]
        )
        facts.resolved = _unique(
            [
                FutureResolved(
                    ids[k],
                    how,  # type: ignore[arg-type]
                    fn,
                    p,
                    ln,
                    c,  # type: ignore[arg-type]
                    ids[t] if t is not None else None,
                )
                for k, how, fn, p, ln, c, t in interp.resolved
            ]
        )
        facts.exits = _unique(interp.exits)
        analysis.flows[definition.name] = facts
        diagnostics.extend(
            Diagnostic(
                path=p,
                line=ln,
                col=c,
                code=code,
                severity=sev,  # type: ignore[arg-type]
                message=msg,
            )
            for p, ln, c, code, sev, msg in dict.fromkeys(interp.diagnostics)
        )
    diagnostics[:0] = project.diagnostics
    if not main.flows:
        diagnostics.append(
            Diagnostic(
                path=path,
                line=1,
                col=1,
                code="I001",
                severity="info",
                message="no flow found in the file",
            )
        )
    deps = sorted(k for k, v in project.cache.items() if v is not None and v is not main)
    return CompileResult(plan, diagnostics, path, analysis, deps)
