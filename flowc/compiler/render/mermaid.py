"""Mermaid: a plan as a ``flowchart LR`` for Markdown (GitHub, docs sites, notebooks).

Ids are sanitised to ``[A-Za-z0-9_]`` (and kept unique); labels are quoted with Mermaid's
entity codes for ``# " < > &``. Shapes follow the DOT renderer: ``[...]`` a submit,
``[[...]]`` a map or fan-out, ``(...)`` a direct call, ``{{...}}`` a subflow call, ``>...]`` a
graph break; ``-->`` a future, ``-.->`` a ``wait_for``, ``==>`` a value. Mermaid renders
slowly past a few hundred nodes and refuses long texts, so the drawing is capped
(:data:`MAX_NODES`, :data:`MAX_EDGES`): every expanded site is folded first, then whatever is
still over the cap is left out, with a ``%%`` note and a note node saying so. With a run laid
over (``flowc graph --run``) each node also gets a ``run_<state>`` class, and a small
``run states`` subgraph shows what the classes look like.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flowc.compiler.render.legend import symbols_of
from flowc.compiler.render.view import (
    collapse_all,
    collapse_runs,
    dynamic_note,
    is_fanout,
    node_label,
    subflow_parents,
)
from flowc.plan import FlowPlan, Node

if TYPE_CHECKING:
    from flowc.compiler.render.html import PageMarks
    from flowc.compiler.render.runs import RunOverlay

__all__ = ["MAX_EDGES", "MAX_NODES", "escape_label", "to_mermaid"]

MAX_NODES = 500
MAX_EDGES = 500

ARROWS = {"future": "-->", "wait_for": "-.->", "value": "==>"}
SHAPES = {
    "submit": ('["', '"]'),
    "map": ('[["', '"]]'),
    "call": ('("', '")'),
    "subflow": ('{{"', '"}}'),
}
CLASSES = [
    "classDef dynamic stroke-dasharray: 5 5",
    "classDef conditional stroke:#d97706,color:#d97706",
    "classDef graphbreak fill:#fee2e2,stroke:#dc2626,color:#dc2626",
    "classDef note fill:#fff7d6,stroke:#d4a017",
]
#: A diff's marks (``flowc diff --format mermaid``): after the others, so they win.
DIFF_CLASSES = [
    "classDef added fill:#dcfce7,stroke:#16a34a,stroke-width:3px",
    "classDef removed fill:#fee2e2,stroke:#dc2626,stroke-width:3px,stroke-dasharray: 6 3",
    "classDef changed fill:#fef3c7,stroke:#d97706,stroke-width:3px",
]
DIFF_LINKS = {
    "added": "stroke:#16a34a,stroke-width:3px",
    "removed": "stroke:#dc2626,stroke-width:3px,stroke-dasharray: 6 3",
}


def escape_label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    text = text.replace("#", "#35;").replace("&", "#amp;")
    text = text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return " ".join(text.split())


class _Ids:
    """Unique Mermaid ids from arbitrary strings."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.used: set[str] = set()

    def __call__(self, key: str, prefix: str = "n_") -> str:
        if key not in self.ids:
            base = prefix + re.sub(r"[^A-Za-z0-9_]", "_", key)
            name, i = base, 1
            while name in self.used:
                i += 1
                name = f"{base}_{i}"
            self.used.add(name)
            self.ids[key] = name
        return self.ids[key]


def _fit(flows: list[FlowPlan]) -> tuple[list[FlowPlan], list[str]]:
    """Fold and cut ``flows`` to the caps; the notes say what was done."""
    notes: list[str] = []

    def sizes() -> tuple[int, int]:
        return sum(len(f.nodes) + len(f.breaks) for f in flows), sum(len(f.edges) for f in flows)

    n_nodes, n_edges = sizes()
    if n_nodes > MAX_NODES or n_edges > MAX_EDGES:
        folded = [collapse_runs(f, 0) for f in flows]
        if any(sites for _, sites in folded):
            flows = [f for f, _ in folded]
            notes.append("every expanded call site drawn collapsed (too many runs for Mermaid)")
            n_nodes, n_edges = sizes()
    if n_nodes > MAX_NODES or n_edges > MAX_EDGES:
        kept_nodes, kept_edges, cut = 0, 0, []
        for flow in flows:
            nodes = flow.nodes[: max(0, MAX_NODES - kept_nodes)]
            kept_nodes += len(nodes)
            ids = {n.id for n in nodes}
            edges = [e for e in flow.edges if e.source in ids and e.target in ids]
            edges = edges[: max(0, MAX_EDGES - kept_edges)]
            kept_edges += len(edges)
            breaks = flow.breaks[: max(0, MAX_NODES - kept_nodes)]
            kept_nodes += len(breaks)
            cut.append(flow.model_copy(update={"nodes": nodes, "edges": edges, "breaks": breaks}))
        flows = cut
        notes.append(
            f"drawing cut to {kept_nodes} of {n_nodes} nodes and {kept_edges} of {n_edges} "
            f"edges (Mermaid limit {MAX_NODES}/{MAX_EDGES}); use -o out.svg for the whole graph"
        )
    return flows, notes


def _node_line(mid: str, node: Node, counts: str | None = None) -> str:
    left, right = SHAPES["map" if is_fanout(node) else node.kind]
    label = node_label(node, " · ") + (f" · {counts}" if counts else "")
    if node.dynamic and node.site is None:
        label += f" · {dynamic_note(node)}"
    return f"{mid}{left}{escape_label(label)}{right}"


def _run_classes() -> list[str]:
    """A ``classDef run_<state>`` per run state, after the others so its colours win."""
    from flowc.compiler.render.runs import NOT_RUN, STYLES

    dashed = ",stroke-dasharray: 5 5"
    return [
        f"classDef run_{state} fill:{style.fill},stroke:{style.stroke}"
        + (dashed if state == NOT_RUN else "")
        for state, style in STYLES.items()
    ]


def _run_legend(lines: list[str], states: Sequence[str]) -> None:
    """The colours of the states drawn, as sample nodes: Mermaid has no legend of its own."""
    from flowc.compiler.render.runs import STYLES

    lines.append('  subgraph run_legend ["run states"]')
    lines += [
        f'    run_legend_{state}["{escape_label(STYLES[state].legend)}"]'  # type: ignore[index]
        for state in states
    ]
    lines.append("  end")
    lines += [f"  class run_legend_{state} run_{state}" for state in states]


def _write_flow(
    lines: list[str],
    flow: FlowPlan,
    ids: _Ids,
    scope: str,
    indent: str,
    runs: RunOverlay | None = None,
    links: list[tuple[str, str, str]] | None = None,
) -> None:
    """One flow's lines; ``links`` collects each edge drawn, in order, for ``linkStyle``."""
    parents = subflow_parents(flow)
    children: dict[str, list[str]] = {}
    for child, parent in sorted(parents.items()):
        children.setdefault(parent, []).append(child)
    by_flow: dict[str, list[Node]] = {}
    for node in flow.nodes:
        by_flow.setdefault(node.flow if node.flow in parents else flow.name, []).append(node)
    dynamic, conditional = [], []
    states: dict[str, list[str]] = {}

    def members(name: str, pad: str) -> None:
        for node in by_flow.get(name, []):
            mid = ids(scope + node.id)
            look = runs.look(node) if runs is not None else None
            lines.append(pad + _node_line(mid, node, look.counts if look else None))
            if look is not None:
                states.setdefault(look.state, []).append(mid)
            if node.dynamic:
                dynamic.append(mid)
            if node.conditional:
                conditional.append(mid)
        for child in children.get(name, []):
            sid = ids(scope + "subflow:" + child, "sg_")
            lines.append(f'{pad}subgraph {sid} ["{escape_label("subflow " + child)}"]')
            members(child, pad + "  ")
            lines.append(pad + "end")

    members(flow.name, indent)
    breaks = []
    for brk in flow.breaks:
        bid = ids(f"{scope}break@{brk.line}:{brk.col}", "break_")
        text = escape_label(f"graph break · line {brk.line}: {brk.reason}")
        lines.append(f'{indent}{bid}>"{text}"]')
        breaks.append(bid)
    for edge in flow.edges:
        source, target = ids(scope + edge.source), ids(scope + edge.target)
        lines.append(f"{indent}{source} {ARROWS[edge.kind]} {target}")
        if links is not None:
            links.append((scope + edge.source, scope + edge.target, edge.kind))
    for cls, members_ in (("dynamic", dynamic), ("conditional", conditional)):
        if members_:
            lines.append(f"{indent}class {','.join(members_)} {cls}")
    if breaks:
        lines.append(f"{indent}class {','.join(breaks)} graphbreak")
    for state, mids in states.items():
        lines.append(f"{indent}class {','.join(mids)} run_{state}")


def _diff_lines(marks: PageMarks, ids: _Ids, links: list[tuple[str, str, str]]) -> list[str]:
    lines = list(DIFF_CLASSES)
    for how in ("added", "removed", "changed"):
        members = [ids(node_id) for node_id, mark in marks.nodes.items() if mark == how]
        if members:
            lines.append(f"class {','.join(members)} {how}")
    for i, (source, target, kind) in enumerate(links):
        plain = (source.rpartition("/")[2], target.rpartition("/")[2], kind)
        how = marks.edges.get((source, target, kind)) or marks.edges.get(plain) or ""
        if how in DIFF_LINKS:
            lines.append(f"linkStyle {i} {DIFF_LINKS[how]}")
    return lines


def to_mermaid(
    flows: Sequence[FlowPlan],
    *,
    max_runs: int | None = 20,
    runs: RunOverlay | None = None,
    marks: PageMarks | None = None,
) -> str:
    """Mermaid source of ``flows``: one flow bare, several each in a ``subgraph``.

    ``runs`` colours the nodes of the flow it was built for by their runs' final states;
    ``marks`` (a diff) styles the nodes and edges it names as added, removed or changed.
    """
    drawn, notes = collapse_all(flows, max_runs)
    drawn, cut_notes = _fit(drawn)
    notes = (runs.notes() if runs is not None else []) + notes + cut_notes

    def runs_for(flow: FlowPlan) -> RunOverlay | None:
        return runs if runs is not None and runs.flow == flow.name else None

    lines = ["flowchart LR"]
    lines += [f"  %% {note}" for note in notes]
    ids = _Ids()
    links: list[tuple[str, str, str]] = []
    if len(drawn) == 1:
        _write_flow(lines, drawn[0], ids, "", "  ", runs_for(drawn[0]), links)
    else:
        for flow in drawn:
            fid = ids("flow:" + flow.name, "flow_")
            lines.append(f'  subgraph {fid} ["{escape_label("flow " + flow.name)}"]')
            _write_flow(lines, flow, ids, flow.name + "/", "    ", runs_for(flow), links)
            lines.append("  end")
    if notes:
        lines.append(f'  flowc_note["{escape_label("; ".join(notes))}"]')
        lines.append("  class flowc_note note")
    if runs is not None:
        _run_legend(lines, symbols_of(drawn, runs).states)
    lines += ["  " + line for line in CLASSES]
    if runs is not None:
        lines += ["  " + line for line in _run_classes()]
    if marks is not None:
        lines += ["  " + line for line in _diff_lines(marks, ids, links)]
    return "\n".join(lines) + "\n"
