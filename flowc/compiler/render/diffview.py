"""A diff drawn: the new graph with removed call sites and edges put back, each change marked.

One picture answers a reviewer: green is added, red dashed removed, amber changed. Removed
nodes get the id ``removed:<old id>`` so they never collide with a new node on the same line.
Mermaid (to paste in a pull request) and the HTML view both draw this merged flow.
"""

from __future__ import annotations

from flowc.compiler.diff import FlowDiff, PlanDiff, break_text, edge_text
from flowc.compiler.render.html import PageMarks, to_html
from flowc.compiler.render.mermaid import to_mermaid
from flowc.plan import Edge, FlowPlan

__all__ = ["REMOVED", "diff_html", "diff_mermaid", "merged"]

REMOVED = "removed:"


def _merged_flow(flow: FlowDiff, marks: PageMarks, prefix: str, old_lines: list[str]) -> FlowPlan:
    old_nodes = {n.id: n for n in flow.old.nodes} if flow.old else {}
    base = flow.new or (flow.old if flow.old else FlowPlan(name=flow.name, qualname="", file=""))
    nodes = list(flow.new.nodes) if flow.new else []
    for node_id in flow.added:
        marks.nodes[prefix + node_id] = "added"
        marks.summary.append(f"+ {prefix}{node_id} added")
    for change in flow.changed:
        marks.nodes[prefix + change.new] = "changed"
        marks.summary.append(f"~ {prefix}{change.new} {'; '.join(change.what)}")
    for node_id in flow.removed:
        ghost_id = REMOVED + node_id
        nodes.append(old_nodes[node_id].model_copy(update={"id": ghost_id}))
        marks.nodes[prefix + ghost_id] = "removed"
        line = old_nodes[node_id].line
        if 0 < line <= len(old_lines):
            marks.source_lines[prefix + ghost_id] = old_lines[line - 1].strip()
        marks.summary.append(f"- {prefix}{ghost_id} removed (was line {old_nodes[node_id].line})")

    def old_end(node_id: str) -> str:
        return flow.matched.get(node_id, REMOVED + node_id)

    edges = list(flow.new.edges) if flow.new else []
    for edge in flow.edges_added:
        marks.edges[(edge.source, edge.target, edge.kind)] = "added"
        marks.summary.append(f"+ edge {edge_text(edge)}")
    for edge in flow.edges_removed:
        ghost = Edge(source=old_end(edge.source), target=old_end(edge.target), kind=edge.kind)
        edges.append(ghost)
        marks.edges[(ghost.source, ghost.target, ghost.kind)] = "removed"
        marks.summary.append(f"- edge {edge_text(edge)}")
    breaks = list(flow.new.breaks) if flow.new else []
    for brk in flow.breaks_added:
        marks.breaks[(brk.line, brk.col)] = "added"
        marks.summary.append(f"+ graph {break_text(brk)}")
    for brk in flow.breaks_removed:
        marks.summary.append(f"- graph {break_text(brk)} (old line)")
    return base.model_copy(
        update={"name": flow.name, "nodes": nodes, "edges": edges, "breaks": breaks}
    )


def merged(diff: PlanDiff) -> tuple[list[FlowPlan], PageMarks]:
    """Each flow as new + removed, and the marks saying what changed."""
    marks = PageMarks(title=f"{diff.old_label} → {diff.new_label}")
    several = len(diff.flows) > 1
    old_lines = diff.old_source.splitlines()
    flows = [
        _merged_flow(flow, marks, f"{flow.name}/" if several else "", old_lines)
        for flow in diff.flows
    ]
    return flows, marks


def diff_html(diff: PlanDiff, sources: dict[str, str] | None = None) -> str:
    """The interactive view of the merged graph, changes highlighted and listed."""
    flows, marks = merged(diff)
    return to_html(flows, sources=sources, marks=marks)


def diff_mermaid(diff: PlanDiff) -> str:
    """Mermaid of the merged graph with ``added``/``removed``/``changed`` classes and links."""
    flows, marks = merged(diff)
    return to_mermaid(flows, max_runs=None, marks=marks)
