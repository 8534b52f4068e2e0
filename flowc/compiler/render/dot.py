"""Graphviz: a plan as DOT text, and as SVG or PNG through the ``dot`` program.

The DOT is written here, not built with ``graphviz.Digraph``: node ids hold ``@ # / :`` (and
task names may hold anything), and the package's edge syntax reads ``a:b`` as a port, so every
id and label goes through :func:`quote`. The ``graphviz`` package then only runs ``dot``.

What the drawing means (the legend repeats it): a box is a ``.submit``, a stacked box a
``.map`` or fan-out (``×10``, ``×?`` when only the run knows), an ellipse a direct call, a
double octagon a subflow call; dashed outlines are dynamic (the reason is the tooltip), orange
ones conditional; a future edge is solid, ``wait_for`` dotted, a value passed on dashed grey;
a red octagon is a graph break. Subflows' own nodes sit in a cluster per subflow, and with
several flows each flow is a cluster of its own. With a run laid over (``flowc graph --run``,
:mod:`flowc.compiler.render.runs`) the fill and outline are the node's final state instead of
its kind, and the legend lists the state colours.
"""

from __future__ import annotations

import math
import shutil
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flowc.compiler.render.legend import Symbols, symbols_of
from flowc.compiler.render.view import (
    collapse_all,
    dynamic_note,
    is_fanout,
    node_label,
    subflow_parents,
    subflow_title,
)
from flowc.exceptions import FlowcError
from flowc.plan import FlowPlan, Node

if TYPE_CHECKING:
    from flowc.compiler.render.runs import RunOverlay

__all__ = ["DOT_MISSING", "DotNotFound", "pipe", "quote", "to_dot"]

DOT_MISSING = (
    "SVG, PNG and HTML need Graphviz's 'dot' program: install it (e.g. 'apt-get install graphviz' "
    "or 'brew install graphviz'), or use -o out.dot / out.mmd / out.json"
)

SHAPES = {"submit": "box", "map": "box3d", "call": "ellipse", "subflow": "doubleoctagon"}
EDGE_STYLES = {"future": "solid", "wait_for": "dotted", "value": "dashed"}
EDGE_COLORS = {"future": "#333333", "wait_for": "#333333", "value": "#888888"}
CONDITIONAL = "#d97706"
BREAK = "#dc2626"


class DotNotFound(FlowcError, RuntimeError):
    """SVG or PNG was asked for and Graphviz's ``dot`` program is not installed."""

    def __init__(self) -> None:
        super().__init__(DOT_MISSING)


def quote(text: str) -> str:
    """A DOT double-quoted string: safe for any id or label."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def _attrs(**attrs: str | None) -> str:
    return " ".join(f"{key}={quote(value)}" for key, value in attrs.items() if value is not None)


#: Expanded runs of one call site are laid out in rows of about the square root of their
#: number (10 runs: rows of 4), never fewer than this many.
WRAP = 3


def _shape(node: Node) -> str:
    return SHAPES["map"] if is_fanout(node) else SHAPES[node.kind]


def _node_stmt(
    name: str, node: Node, runs: RunOverlay | None = None, svg_id: str | None = None
) -> str:
    styles = ["rounded"] if node.kind == "call" else []
    if node.dynamic:
        styles.append("dashed")
    if node.kind in ("submit", "map", "call"):
        styles.append("filled")
    tooltip = f"{node.id} ({node.kind})"
    if node.dynamic:
        tooltip += f"\ndynamic: {node.dynamic}"
    if node.conditional:
        tooltip += "\nconditional: runs only if a branch allows"
    fill = {"submit": "#eef4ff", "map": "#e8f5e9", "call": "#f5f5f5"}.get(node.kind)
    if is_fanout(node):
        fill = "#e8f5e9"
    label, color = node_label(node), CONDITIONAL if node.conditional else None
    if node.dynamic and node.site is None:  # the reason on the picture, not only in a tooltip
        label += "\n" + dynamic_note(node)
    if runs is not None:  # the run's state replaces the kind's fill; the shape still tells kind
        look = runs.look(node)
        styles = [s for s in styles if s != "filled"] + ["filled"]
        if look.dashed and "dashed" not in styles:
            styles.append("dashed")
        fill, color, tooltip = look.fill, look.stroke, f"{tooltip}\n{look.tooltip}"
        label += f"\n{look.counts}" if look.counts else ""
    attrs = _attrs(
        id=svg_id,
        label=label,
        shape=_shape(node),
        style=",".join(styles) or None,
        fillcolor=fill,
        color=color,
        fontcolor=CONDITIONAL if node.conditional else None,
        tooltip=tooltip,
    )
    return f"{quote(name)} [{attrs}]"


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def add(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)

    def open(self, header: str) -> None:
        self.add(header + " {")
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.add("}")


def _cluster_id(prefix: str, name: str) -> str:
    return f"cluster_{prefix}{name}"


def _wrap_runs(out: _Writer, flow: FlowPlan, prefix: str) -> None:
    """Invisible edges that fold a long row of one site's expanded runs into a block.

    Runs of a site only ever depend on earlier ones, so run i -> run i+width keeps the graph
    acyclic; without it ``--expand`` draws every run side by side in one very wide row.
    """
    by_site: dict[str, list[str]] = {}
    for node in flow.nodes:
        if node.site is not None:
            by_site.setdefault(node.site, []).append(node.id)
    for members in by_site.values():
        width = max(WRAP, math.ceil(math.sqrt(len(members))))
        for first, second in zip(members, members[width:], strict=False):
            out.add(f"{quote(prefix + first)} -> {quote(prefix + second)} [style=invis]")


def _write_flow(
    out: _Writer,
    flow: FlowPlan,
    prefix: str,
    runs: RunOverlay | None = None,
    svg_ids: bool = False,
) -> None:
    """Nodes, subflow clusters, breaks and edges of one flow; DOT names are ``prefix + id``.

    ``svg_ids`` names each SVG element after its node (``node:<name>``), break (``break:``)
    and edge (``edge:<prefix><index>``) so a page's script can find them.
    """
    parents = subflow_parents(flow)
    children: dict[str, list[str]] = {}
    for child, parent in sorted(parents.items()):
        children.setdefault(parent, []).append(child)
    by_flow: dict[str, list[Node]] = {}
    for node in flow.nodes:
        by_flow.setdefault(node.flow if node.flow in parents else flow.name, []).append(node)

    def write_members(name: str) -> None:
        for node in by_flow.get(name, []):
            svg_id = f"node:{prefix}{node.id}" if svg_ids else None
            out.add(_node_stmt(prefix + node.id, node, runs, svg_id))
        for child in children.get(name, []):
            out.open(f"subgraph {quote(_cluster_id(prefix, child))}")
            attrs = _attrs(label=f"subflow {child}", style="rounded,dashed", color="#7c3aed")
            out.add(f"graph [{attrs}]")
            write_members(child)
            out.close()

    write_members(flow.name)
    for node in flow.nodes:  # a subflow call points at the cluster of its body
        child = subflow_title(node.task)
        if node.kind == "subflow" and by_flow.get(child) and parents.get(child) == node.flow:
            attrs = _attrs(
                lhead=_cluster_id(prefix, child),
                style="dotted",
                color="#7c3aed",
                arrowhead="empty",
                tooltip=f"{node.id} runs subflow {child}",
            )
            first = prefix + by_flow[child][0].id
            out.add(f"{quote(prefix + node.id)} -> {quote(first)} [{attrs}]")
    for brk in flow.breaks:
        label = "\n".join(textwrap.wrap(f"graph break · line {brk.line}: {brk.reason}", 44))
        attrs = _attrs(
            id=f"break:{prefix}{brk.line}:{brk.col}" if svg_ids else None,
            label=label,
            shape="octagon",
            style="filled",
            color=BREAK,
            fillcolor="#fee2e2",
            fontcolor=BREAK,
            tooltip=f"graph break at line {brk.line}, col {brk.col}: {brk.reason}",
        )
        out.add(f"{quote(f'{prefix}break@{brk.line}:{brk.col}')} [{attrs}]")
    conditional = {node.id for node in flow.nodes if node.conditional}
    for i, edge in enumerate(flow.edges):
        attrs = _attrs(
            id=f"edge:{prefix}{i}" if svg_ids else None,
            style=EDGE_STYLES[edge.kind],
            color=CONDITIONAL if edge.target in conditional else EDGE_COLORS[edge.kind],
            tooltip=f"{edge.source} -> {edge.target} ({edge.kind})",
        )
        out.add(f"{quote(prefix + edge.source)} -> {quote(prefix + edge.target)} [{attrs}]")
    _wrap_runs(out, flow, prefix)


def _state_legend(out: _Writer, states: Sequence[str]) -> None:
    """One sample per run state class drawn, chained in a column so the legend stays compact."""
    from flowc.compiler.render.runs import STYLES

    names = []
    for state, style in STYLES.items():
        if state not in states:
            continue
        name = quote(f"legend:state:{state}")
        dashed = ",dashed" if state == "notrun" else ""
        attrs = _attrs(
            shape="box",
            style=f"filled{dashed}",
            fillcolor=style.fill,
            color=style.stroke,
            label=style.legend,
        )
        out.add(f"{name} [{attrs}]")
        names.append(name)
    for first, second in zip(names[::2], names[1::2], strict=False):
        out.add(f"{first} -> {second} [style=invis]")


def _legend(out: _Writer, symbols: Symbols, runs: bool = False) -> None:
    """The symbols the drawing uses, and no other: a small flow gets a small legend."""
    out.open("subgraph cluster_legend")
    out.add(f"graph [{_attrs(label='legend', style='rounded', color='#bbbbbb', fontsize='10')}]")
    out.add('node [fontsize="8" height="0.25" margin="0.05,0.02"]')
    # with a run, fills are states (listed below), so kinds are told by shape alone
    kinds = [
        ("submit", 'shape=box style=filled fillcolor="#eef4ff"', "task.submit"),
        ("map", 'shape=box3d style=filled fillcolor="#e8f5e9"', "task.map ×N / fan-out"),
        ("call", 'shape=ellipse style="rounded,filled" fillcolor="#f5f5f5"', "direct call"),
    ]
    if runs:
        kinds = [(key, attrs.split(" style=")[0], label) for key, attrs, label in kinds]
    samples = [
        *kinds,
        ("subflow", "shape=doubleoctagon", "subflow call"),
        ("dynamic", "shape=box style=dashed", "dynamic (×?, reason under the name)"),
        ("conditional", f"shape=box color={quote(CONDITIONAL)}", "conditional (if)"),
        (
            "break",
            f'shape=octagon style=filled fillcolor="#fee2e2" color={quote(BREAK)}',
            "graph break",
        ),
    ]
    samples = [sample for sample in samples if sample[0] in symbols.shapes]
    for key, attrs, label in samples:
        out.add(f"{quote('legend:' + key)} [{attrs} label={quote(label)}]")
    for (first, *_), (second, *_) in zip(samples[::2], samples[1::2], strict=False):  # two columns
        out.add(f"{quote('legend:' + first)} -> {quote('legend:' + second)} [style=invis]")
    for kind in symbols.edges:
        text = kind
        a, b = quote(f"legend:{kind}:a"), quote(f"legend:{kind}:b")
        out.add(f'{a} [shape=point width="0.05"] {b} [shape=point width="0.05"]')
        style = _attrs(style=EDGE_STYLES[kind], color=EDGE_COLORS[kind], label=text)
        out.add(f"{a} -> {b} [{style}]")
    if runs:
        _state_legend(out, symbols.states)
    out.close()


def _rankdir(flows: Sequence[FlowPlan]) -> str:
    """Left to right for chains (deeper than wide), top down for wide graphs."""
    import networkx as nx

    depth, width = 0, 0
    for flow in flows:
        graph = nx.DiGraph()
        graph.add_nodes_from(node.id for node in flow.nodes)
        graph.add_edges_from((e.source, e.target) for e in flow.edges)
        if not nx.is_directed_acyclic_graph(graph):
            continue
        generations = list(nx.topological_generations(graph))
        depth = max(depth, len(generations))
        width = max([width, *(len(g) for g in generations)])
    return "LR" if depth >= width else "TB"


def to_dot(
    flows: Sequence[FlowPlan],
    *,
    max_runs: int | None = 20,
    legend: bool = True,
    rankdir: str | None = None,
    title: str | None = None,
    runs: RunOverlay | None = None,
    svg_ids: bool = False,
    graph_attrs: dict[str, str] | None = None,
) -> str:
    """DOT source of ``flows``: one flow drawn bare, several each in its own cluster.

    ``runs`` colours the nodes of the flow it was built for by their runs' final states.
    ``svg_ids`` gives SVG elements ids a script can find (:func:`_write_flow`);
    ``graph_attrs`` are added to the graph's attributes (the HTML view bounds layout effort).
    """
    drawn, folded_notes = collapse_all(flows, max_runs)
    if title is None:
        title = drawn[0].name if len(drawn) == 1 else ", ".join(f.name for f in drawn)
    run_notes = runs.notes() if runs is not None else []
    label = "\n".join([title, *run_notes, *folded_notes])

    def runs_for(flow: FlowPlan) -> RunOverlay | None:
        return runs if runs is not None and runs.flow == flow.name else None

    out = _Writer()
    out.add(
        f"graph [{_attrs(rankdir=rankdir or _rankdir(drawn), label=label, labelloc='t')} "
        'fontname="Helvetica" compound=true newrank=true]'
    )
    if graph_attrs:
        out.add(f"graph [{_attrs(**graph_attrs)}]")
    out.add('node [fontname="Helvetica" fontsize="11"]')
    out.add('edge [fontname="Helvetica" fontsize="9"]')
    if len(drawn) == 1:
        _write_flow(out, drawn[0], "", runs_for(drawn[0]), svg_ids)
    else:
        for flow in drawn:
            out.open(f"subgraph {quote(_cluster_id('flow:', flow.name))}")
            out.add(f"graph [{_attrs(label=f'flow {flow.name}', style='rounded')}]")
            _write_flow(out, flow, f"{flow.name}/", runs_for(flow), svg_ids)
            out.close()
    if legend:
        _legend(out, symbols_of(drawn, runs), runs is not None)
    return "digraph flowc {\n" + "\n".join(out.lines) + "\n}\n"


def pipe(dot_source: str, fmt: str) -> bytes:
    """Run ``dot -T<fmt>`` on the source; :class:`DotNotFound` when Graphviz is missing."""
    import graphviz

    if shutil.which("dot") is None:
        raise DotNotFound()
    try:
        return graphviz.Source(dot_source).pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise DotNotFound() from exc
