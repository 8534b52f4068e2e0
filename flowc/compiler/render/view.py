"""What a renderer draws: a flow plan folded back to call sites where runs are too many.

Every renderer and :mod:`flowc.compiler.explain` read a :class:`~flowc.plan.FlowPlan` through
these helpers, so that "one node per call site, with its count" means the same thing in DOT,
Mermaid and the metrics. Passes are plan-in, plan-out: the input is never mutated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flowc.plan import Edge, FlowPlan, Node

__all__ = [
    "collapse_all",
    "collapse_runs",
    "count_text",
    "dynamic_note",
    "is_fanout",
    "node_label",
    "site_of",
    "site_view",
    "subflow_parents",
    "subflow_title",
]


def site_of(node: Node) -> str:
    """The id of the call site a node belongs to (its own id when it is not an expanded run)."""
    return node.site if node.site is not None else node.id


def collapse_all(
    flows: Sequence[FlowPlan], max_runs: int | None
) -> tuple[list[FlowPlan], list[str]]:
    """Every flow with its large sites folded, and a note per flow that had some folded."""
    drawn: list[FlowPlan] = []
    notes: list[str] = []
    for flow in flows:
        collapsed, folded = collapse_runs(flow, max_runs)
        drawn.append(collapsed)
        if folded:
            notes.append(
                f"{flow.name}: {len(folded)} call site(s) with more than {max_runs} runs "
                "drawn collapsed (--max-runs)"
            )
    return drawn, notes


def collapse_runs(flow: FlowPlan, max_runs: int | None) -> tuple[FlowPlan, list[str]]:
    """``flow`` with each call site of more than ``max_runs`` expanded runs folded to one node.

    The folded node takes the site's id and the number of its runs as its count; edges between
    runs become edges between the nodes that now hold them, one per kind. Returns the new plan
    and the ids of the sites folded. ``max_runs=None`` folds nothing; ``0`` folds every site.
    """
    if not flow.expanded or max_runs is None:
        return flow, []
    runs: dict[str, list[Node]] = defaultdict(list)
    for node in flow.nodes:
        if node.site is not None:
            runs[node.site].append(node)
    folded = sorted(site for site, members in runs.items() if len(members) > max_runs)
    if not folded:
        return flow, []
    into: dict[str, str] = {}
    nodes: list[Node] = []
    placed: set[str] = set()
    for node in flow.nodes:
        site = node.site
        if site is None or site not in folded:
            nodes.append(node)
            continue
        into[node.id] = site
        if site in placed:
            continue
        placed.add(site)
        members = runs[site]
        nodes.append(
            node.model_copy(
                update={
                    "id": site,
                    "count": len(members),
                    "dynamic": next((m.dynamic for m in members if m.dynamic), None),
                    "conditional": any(m.conditional for m in members),
                    "site": None,
                    "index": None,
                }
            )
        )
    edges: list[Edge] = []
    seen: set[tuple[str, str, str]] = set()
    for edge in flow.edges:
        source, target = into.get(edge.source, edge.source), into.get(edge.target, edge.target)
        key = (source, target, edge.kind)
        if source == target or key in seen:
            continue
        seen.add(key)
        edges.append(Edge(source=source, target=target, kind=edge.kind))
    still_expanded = any(node.site is not None for node in nodes)
    collapsed = flow.model_copy(update={"nodes": nodes, "edges": edges, "expanded": still_expanded})
    return collapsed, folded


def site_view(flow: FlowPlan) -> FlowPlan:
    """One node per call site, whatever the plan's expansion (the view of :func:`explain`)."""
    return collapse_runs(flow, 0)[0]


def count_text(node: Node) -> str:
    """``×10`` for a fan-out of known size, ``×?`` for a dynamic one, else nothing."""
    if node.site is not None:  # one expanded run
        return ""
    if node.count is None:
        return "×?" if node.dynamic or node.kind == "map" else ""
    return f"×{node.count}" if node.count != 1 or node.kind == "map" else ""


def is_fanout(node: Node) -> bool:
    """A call site that makes several runs: a ``.map``, or a ``.submit`` in a loop (``×10``).

    Drawn stacked like a map: ten submits made by a ``for`` loop are a fan-out to the reader,
    whatever the call's spelling. An expanded run is never one.
    """
    if node.site is not None or node.kind in ("call", "subflow"):
        return False
    if node.kind == "map":
        return True
    return node.count is None if node.dynamic else (node.count or 0) > 1


def dynamic_note(node: Node, width: int = 48) -> str:
    """``dynamic: loop over a task result`` cut to ``width``: the reason, readable in a picture."""
    if not node.dynamic:
        return ""
    text = " ".join(f"dynamic: {node.dynamic}".split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def subflow_title(task: str) -> str:
    """``flow:inner-flow`` -> ``inner-flow``."""
    return task.split(":", 1)[1] if task.startswith("flow:") else task


def node_label(node: Node, separator: str = "  ·  ") -> str:
    """``say_hello  ·  line 12``, ``square ×10  ·  line 14``, ``square #3  ·  line 14``."""
    name = node.task
    if node.kind == "subflow":
        name = f"subflow {subflow_title(node.task)}"
    parts = [name]
    if node.index is not None:
        parts.append(f"#{node.index}")
    count = count_text(node)
    if count:
        parts.append(count)
    if node.conditional:
        parts.append("(if)")
    return f"{' '.join(parts)}{separator}line {node.line}"


def subflow_parents(flow: FlowPlan) -> dict[str, str]:
    """For each subflow drawn inside ``flow``: the flow that calls it (``flow.name`` at the top).

    Nodes whose ``flow`` differs from the plan's own belong to a subflow; a subflow node
    (``task="flow:<name>"``) living in flow P makes ``<name>`` a child of P. A subflow whose
    caller is not in the plan hangs from the top flow.
    """
    inner = {node.flow for node in flow.nodes if node.flow != flow.name}
    parents: dict[str, str] = {}
    for node in flow.nodes:
        if node.kind == "subflow":
            child = subflow_title(node.task)
            if child in inner and child != node.flow:
                parents.setdefault(child, node.flow)
    for name in inner:
        parents.setdefault(name, flow.name)
    # a cycle of subflows (recursion) would nest forever: hang its members from the top
    for name in list(parents):
        seen = {name}
        parent = parents[name]
        while parent != flow.name:
            if parent in seen or parent not in parents:
                parents[name] = flow.name
                break
            seen.add(parent)
            parent = parents[parent]
    return parents
