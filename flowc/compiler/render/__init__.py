"""Renderers: a Plan (or one flow of it) as DOT, SVG, PNG, Mermaid, JSON or an HTML page.

:func:`render` is the one entry point; the ``flowc graph`` command and notebooks (through
:class:`PlanView`) call it. Only SVG, PNG and HTML need Graphviz's ``dot`` program; without it they
raise :class:`DotNotFound` and every other format still works. Nothing here runs user code.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from flowc.compiler.render.dot import DOT_MISSING, DotNotFound, pipe, to_dot
from flowc.compiler.render.mermaid import to_mermaid
from flowc.exceptions import FlowcError
from flowc.plan import FlowPlan, Plan

if TYPE_CHECKING:
    from flowc.compiler.render.runs import RunOverlay

__all__ = [
    "BINARY_FORMATS",
    "DOT_MISSING",
    "FORMATS",
    "SUFFIXES",
    "DotNotFound",
    "Format",
    "PlanView",
    "UnknownFormat",
    "format_for",
    "render",
]

Format = Literal["svg", "png", "dot", "mermaid", "json", "html"]
FORMATS: tuple[str, ...] = get_args(Format)
BINARY_FORMATS = frozenset({"png"})
SUFFIXES = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


class UnknownFormat(FlowcError, ValueError):
    """A format name or an output suffix no renderer handles."""


def format_for(path: Path | None, fmt: str | None, default: str = "dot") -> str:
    """The format asked for: ``fmt`` when given, else ``path``'s suffix, else ``default``."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UnknownFormat(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    if path is None:
        return default
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        known = " ".join(sorted(SUFFIXES))
        raise UnknownFormat(
            f"{path}: cannot tell the format from the suffix {path.suffix or '(none)'!r} "
            f"(known: {known}); pass --format {'|'.join(FORMATS)}"
        ) from None


def _flows(target: Plan | FlowPlan) -> tuple[Plan, list[FlowPlan]]:
    if isinstance(target, FlowPlan):
        return Plan(schema="flowc.plan/1", source_sha256=None, flows=[target]), [target]
    return target, list(target.flows)


def render(
    target: Plan | FlowPlan,
    fmt: str,
    *,
    max_runs: int | None = 20,
    legend: bool = True,
    rankdir: str | None = None,
    runs: RunOverlay | None = None,
) -> str | bytes:
    """``target`` drawn as ``fmt``: text for dot, mermaid, json, svg and html; bytes for png.

    Several flows are drawn side by side, each in its own cluster (DOT) or subgraph (Mermaid).
    An expanded call site of more than ``max_runs`` runs is drawn as one node with its count.
    ``runs`` (:func:`flowc.compiler.render.runs.overlay_for`) colours nodes by final state;
    as JSON it wraps the unchanged plan next to a ``run`` object instead.
    """
    plan, flows = _flows(target)
    if fmt == "json":
        return plan.to_json() + "\n" if runs is None else runs.document()
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if not flows:
        raise ValueError("the plan has no flow to draw")
    if fmt == "mermaid":
        return to_mermaid(flows, max_runs=max_runs, runs=runs)
    if fmt == "html":
        from flowc.compiler.render.html import to_html

        return to_html(runs.plan.flows if runs is not None else flows, runs=runs)
    source = to_dot(flows, max_runs=max_runs, legend=legend, rankdir=rankdir, runs=runs)
    if fmt == "dot":
        return source
    data = pipe(source, fmt)
    return data.decode("utf-8") if fmt == "svg" else data


class PlanView:
    """A plan that draws itself in Jupyter (``_repr_svg_``), falling back to Mermaid text."""

    def __init__(self, target: Plan | FlowPlan, *, max_runs: int | None = 20) -> None:
        self.target = target
        self.max_runs = max_runs

    def _repr_svg_(self) -> str | None:
        try:
            svg = render(self.target, "svg", max_runs=self.max_runs, legend=False)
        except (DotNotFound, ValueError):
            return None
        assert isinstance(svg, str)
        return svg

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        bundle: dict[str, str] = {}
        _, flows = _flows(self.target)
        if not flows:
            return {"text/plain": "empty plan (no flow)"}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        mermaid = render(self.target, "mermaid", max_runs=self.max_runs)
        assert isinstance(mermaid, str)
        bundle["text/markdown"] = f"```mermaid\n{mermaid}```\n"
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        _, flows = _flows(self.target)
        names = ", ".join(f.name for f in flows) or "no flow"
        return f"PlanView({names})"
