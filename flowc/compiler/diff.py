"""What a code change does to a flow's graph: call sites, edges, fan-outs, options, breaks.

Node ids hold line numbers (``square@14``), so two versions of a file cannot be compared by id:
inserting a comment above a call would "remove" it and "add" another. Call sites are matched
instead by flow and task, scoring each candidate pair by how alike they are (the call's own
text from its column on, so a renamed variable on the left of ``=`` does not count; its kind,
its upstream tasks, its count and options, its rank among the task's calls). Identical calls
pair first, then the most alike; a pair too unlike is an add and a remove instead. Edges and
graph breaks are then compared through that matching.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowc.compiler.render.view import count_text, site_view
from flowc.plan import Edge, FlowPlan, GraphBreak, Node, Plan

__all__ = ["FlowDiff", "NodeChange", "PlanDiff", "diff_plans", "edge_text"]

#: A pair of call sites of one task scoring below this is a remove and an add, not a change.
MATCH_THRESHOLD = 1.6
#: How far apart in rank two calls of one task may be and still be compared for likeness.
WINDOW = 60
#: A variable's name in a call's text (not a task, function, attribute or keyword name).
_VARIABLE = re.compile(r"(?<![.\w])[A-Za-z_]\w*(?![\w.(=])")


@dataclass(frozen=True)
class NodeChange:
    """One call site present on both sides, with what changed about it (maybe only its line)."""

    old: str
    new: str
    what: list[str]


@dataclass
class FlowDiff:
    """The changes to one flow, in node ids of its own side (old ids for removed things)."""

    name: str
    old: FlowPlan | None
    new: FlowPlan | None
    matched: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    moved: list[NodeChange] = field(default_factory=list)
    edges_added: list[Edge] = field(default_factory=list)
    edges_removed: list[Edge] = field(default_factory=list)
    breaks_added: list[GraphBreak] = field(default_factory=list)
    breaks_removed: list[GraphBreak] = field(default_factory=list)

    @property
    def changes_graph(self) -> bool:
        return bool(
            self.added
            or self.removed
            or self.changed
            or self.edges_added
            or self.edges_removed
            or self.breaks_added
            or self.breaks_removed
        )


@dataclass
class PlanDiff:
    """Every flow's changes; flows only on one side are wholly added or removed."""

    flows: list[FlowDiff]
    old_label: str = "old"
    new_label: str = "new"
    #: the old side's text, for the source line of a call site it alone has.
    old_source: str = ""

    @property
    def changes_graph(self) -> bool:
        return any(flow.changes_graph for flow in self.flows)

    def _name(self, flow: FlowDiff, node_id: str) -> str:
        return node_id if len(self.flows) == 1 else f"{flow.name}/{node_id}"

    def to_dict(self) -> dict[str, list[str]]:
        """``{"added", "removed", "changed"}``: node ids, ``a -> b (kind)`` edges, breaks."""
        out: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
        for flow in self.flows:
            name = lambda node_id, f=flow: self._name(f, node_id)  # noqa: E731
            out["added"] += [name(n) for n in flow.added]
            out["added"] += [edge_text(e, name) for e in flow.edges_added]
            out["added"] += [break_text(b, name) for b in flow.breaks_added]
            out["removed"] += [name(n) for n in flow.removed]
            out["removed"] += [edge_text(e, name) for e in flow.edges_removed]
            out["removed"] += [break_text(b, name) for b in flow.breaks_removed]
            out["changed"] += [name(c.new) for c in flow.changed]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def edge_text(edge: Edge, name: Any = str) -> str:
    return f"{name(edge.source)} -> {name(edge.target)} ({edge.kind})"


def break_text(brk: GraphBreak, name: Any = str) -> str:
    return name(f"break@{brk.line}:{brk.col}") + f": {brk.reason}"


# --------------------------------------------------------------------------- matching


def _call_text(node: Node, lines: Sequence[str]) -> str:
    """The call as written, from its column on (``square.map(data)``), spaces squeezed."""
    if "::" in node.id or not 0 < node.line <= len(lines):
        return ""
    text = lines[node.line - 1][max(0, node.col - 1) :]
    return "".join(text.split())


def _upstream_tasks(flow: FlowPlan) -> dict[str, tuple[str, ...]]:
    tasks = {node.id: node.task for node in flow.nodes}
    ups: dict[str, list[str]] = defaultdict(list)
    for edge in flow.edges:
        ups[edge.target].append(f"{tasks.get(edge.source, '?')}:{edge.kind}")
    return {node_id: tuple(sorted(found)) for node_id, found in ups.items()}


@dataclass(frozen=True)
class _Site:
    node: Node
    text: str
    ups: tuple[str, ...]
    position: float


def _sites(flow: FlowPlan, lines: Sequence[str]) -> dict[tuple[str, str], list[_Site]]:
    ups = _upstream_tasks(flow)
    groups: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in sorted(flow.nodes, key=lambda n: (n.line, n.col)):
        groups[(node.flow, node.task)].append(node)
    return {
        key: [
            _Site(n, _call_text(n, lines), ups.get(n.id, ()), i / max(1, len(nodes) - 1))
            for i, n in enumerate(nodes)
        ]
        for key, nodes in groups.items()
    }


def _likeness(old: _Site, new: _Site) -> float:
    score = 0.0
    if old.text and new.text:
        score += 2.0 * difflib.SequenceMatcher(None, old.text, new.text).ratio()
    else:
        score += 1.0
    score += 1.0 if old.node.kind == new.node.kind else 0.0
    score += 1.0 if old.ups == new.ups else 0.5 * _overlap(old.ups, new.ups)
    score += 0.25 if old.node.count == new.node.count else 0.0
    score += 0.25 if old.node.options == new.node.options else 0.0
    score += 0.5 * (1.0 - abs(old.position - new.position))
    return score


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a and not b:
        return 1.0
    return len(set(a) & set(b)) / len(set(a) | set(b))


def _align(old: list[_Site], new: list[_Site]) -> list[tuple[int, int]]:
    """Pairs of call sites, most alike first, each above the threshold.

    Identical calls (same text, same upstream tasks) pair first, in order: what moved lines
    give; then calls identical but for their variables' names. The rest pair greedily by
    likeness, so two calls of one task that swapped places keep their identities instead of
    each "changing" into the other.
    """
    pairs: list[tuple[int, int]] = []
    free_old, free_new = set(range(len(old))), set(range(len(new)))

    def pair_equal(key: Callable[[_Site], object]) -> None:
        """Pair, in order, the calls still free whose ``key`` is equal."""
        waiting: dict[object, list[int]] = defaultdict(list)
        for j in sorted(free_new):
            if new[j].text:
                waiting[key(new[j])].append(j)
        for i in sorted(free_old):
            candidates = waiting.get(key(old[i])) if old[i].text else None
            if candidates:
                j = candidates.pop(0)
                pairs.append((i, j))
                free_old.discard(i)
                free_new.discard(j)

    pair_equal(lambda site: (site.text, site.ups))
    pair_equal(lambda site: (_VARIABLE.sub("_", site.text), site.ups))  # variables renamed
    # a call keeps roughly its rank among its task's calls: only nearby ranks are compared, so a
    # task called from 2,000 places costs 2,000 x 2 WINDOW comparisons, not 4 million
    scale = len(new) / max(1, len(old))
    scored = sorted(
        (
            (_likeness(old[i], new[j]), -abs(i * scale - j), i, j)
            for i in free_old
            for j in range(max(0, int(i * scale) - WINDOW), int(i * scale) + WINDOW + 1)
            if j in free_new
        ),
        reverse=True,
    )
    for score, _, i, j in scored:
        if score < MATCH_THRESHOLD:
            break
        if i in free_old and j in free_new:
            pairs.append((i, j))
            free_old.discard(i)
            free_new.discard(j)
    return sorted(pairs)


def _what_changed(old: Node, new: Node) -> list[str]:
    what = []
    if old.kind != new.kind:
        what.append(f"kind {old.kind} -> {new.kind}")
    if old.count != new.count:
        before, after = count_text(old) or str(old.count), count_text(new) or str(new.count)
        what.append(f"runs {before} -> {after}")
    if (old.dynamic is None) != (new.dynamic is None) or (
        old.dynamic and new.dynamic and old.dynamic != new.dynamic
    ):
        what.append(f"dynamic {old.dynamic or 'no'} -> {new.dynamic or 'no'}")
    if old.conditional != new.conditional:
        what.append("now conditional" if new.conditional else "no longer conditional")
    if old.options != new.options:
        was, now = ", ".join(old.options) or "none", ", ".join(new.options) or "none"
        what.append(f"options {was} -> {now}")
    return what


def _match_breaks(
    old: list[GraphBreak], new: list[GraphBreak]
) -> tuple[list[GraphBreak], list[GraphBreak]]:
    """Breaks only on one side, matched by their reason in order (lines may have moved)."""
    matcher = difflib.SequenceMatcher(None, [b.reason for b in old], [b.reason for b in new])
    kept_old: set[int] = set()
    kept_new: set[int] = set()
    for block in matcher.get_matching_blocks():
        kept_old.update(range(block.a, block.a + block.size))
        kept_new.update(range(block.b, block.b + block.size))
    removed = [b for i, b in enumerate(old) if i not in kept_old]
    added = [b for i, b in enumerate(new) if i not in kept_new]
    return added, removed


def _diff_flow(
    name: str, old: FlowPlan, new: FlowPlan, old_lines: Sequence[str], new_lines: Sequence[str]
) -> FlowDiff:
    old, new = site_view(old), site_view(new)
    result = FlowDiff(name, old, new)
    old_sites, new_sites = _sites(old, old_lines), _sites(new, new_lines)
    for key in sorted(set(old_sites) | set(new_sites)):
        before, after = old_sites.get(key, []), new_sites.get(key, [])
        for i, j in _align(before, after):
            result.matched[before[i].node.id] = after[j].node.id
    reverse = {new_id: old_id for old_id, new_id in result.matched.items()}
    old_nodes = {node.id: node for node in old.nodes}
    result.removed = [n.id for n in old.nodes if n.id not in result.matched]
    result.added = [n.id for n in new.nodes if n.id not in reverse]
    for node in new.nodes:
        if node.id not in reverse:
            continue
        was = old_nodes[reverse[node.id]]
        what = _what_changed(was, node)
        if what:
            result.changed.append(NodeChange(was.id, node.id, what))
        elif was.line != node.line or was.id != node.id:
            result.moved.append(NodeChange(was.id, node.id, []))
    old_edges = {
        (result.matched.get(e.source), result.matched.get(e.target), e.kind): e for e in old.edges
    }
    new_edges = {(e.source, e.target, e.kind): e for e in new.edges}
    result.edges_removed = [e for key, e in old_edges.items() if key not in new_edges]
    result.edges_added = [e for key, e in new_edges.items() if key not in old_edges]
    result.breaks_added, result.breaks_removed = _match_breaks(old.breaks, new.breaks)
    return result


def diff_plans(
    old: Plan,
    new: Plan,
    old_source: str = "",
    new_source: str = "",
    *,
    old_label: str = "old",
    new_label: str = "new",
) -> PlanDiff:
    """The graph changes from ``old`` to ``new`` (sources give each call's text for matching)."""
    old_lines, new_lines = old_source.splitlines(), new_source.splitlines()
    old_flows = {flow.name: flow for flow in old.flows}
    new_flows = {flow.name: flow for flow in new.flows}
    empty = FlowPlan(name="", qualname="", file="")
    flows = []
    for name in [*old_flows, *(n for n in new_flows if n not in old_flows)]:
        before = old_flows.get(name) or empty.model_copy(update={"name": name})
        after = new_flows.get(name) or empty.model_copy(update={"name": name})
        flow = _diff_flow(name, before, after, old_lines, new_lines)
        flow.old, flow.new = old_flows.get(name), new_flows.get(name)
        flows.append(flow)
    return PlanDiff(flows, old_label, new_label, old_source)


# --------------------------------------------------------------------------- text


def _stat(count: int, word: str, verb: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'} {verb}"


def to_text(diff: PlanDiff) -> str:
    """A review summary like ``git diff --stat``: one line per change, then the totals."""
    lines = [f"--- {diff.old_label}", f"+++ {diff.new_label}"]
    totals: dict[str, int] = defaultdict(int)
    for flow in diff.flows:
        if flow.old is None:
            lines.append(f"flow {flow.name}: new flow")
        elif flow.new is None:
            lines.append(f"flow {flow.name}: flow removed")
        elif not flow.changes_graph:
            moved = f" ({len(flow.moved)} call sites moved)" if flow.moved else ""
            lines.append(f"flow {flow.name}: graph unchanged{moved}")
            continue
        else:
            lines.append(f"flow {flow.name}:")
        new_nodes = {n.id: n for n in (flow.new.nodes if flow.new else [])}
        old_nodes = {n.id: n for n in (flow.old.nodes if flow.old else [])}
        for node_id in flow.added:
            lines.append(f"  + {node_id}  {_describe(new_nodes.get(node_id))}")
        for node_id in flow.removed:
            lines.append(f"  - {node_id}  {_describe(old_nodes.get(node_id))}")
        for change in flow.changed:
            was = f" (was {change.old})" if change.old != change.new else ""
            lines.append(f"  ~ {change.new}{was}  {'; '.join(change.what)}")
        lines += [f"  + edge {edge_text(e)}" for e in flow.edges_added]
        lines += [f"  - edge {edge_text(e)}" for e in flow.edges_removed]
        lines += [f"  + graph break line {b.line}:{b.col}: {b.reason}" for b in flow.breaks_added]
        lines += [f"  - graph break line {b.line}:{b.col}: {b.reason}" for b in flow.breaks_removed]
        totals["added"] += len(flow.added)
        totals["removed"] += len(flow.removed)
        totals["changed"] += len(flow.changed)
        totals["edges+"] += len(flow.edges_added)
        totals["edges-"] += len(flow.edges_removed)
        totals["breaks+"] += len(flow.breaks_added)
        totals["breaks-"] += len(flow.breaks_removed)
    if diff.changes_graph:
        parts = [
            _stat(totals["added"], "call site", "added"),
            f"{totals['removed']} removed",
            f"{totals['changed']} changed",
            _stat(totals["edges+"], "edge", "added"),
            f"{totals['edges-']} removed",
        ]
        if totals["breaks+"] or totals["breaks-"]:
            parts += [
                _stat(totals["breaks+"], "graph break", "added"),
                f"{totals['breaks-']} removed",
            ]
        lines.append(" " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def _describe(node: Node | None) -> str:
    if node is None:
        return ""
    kind = {"map": "task.map", "submit": "task.submit", "call": "direct call"}.get(
        node.kind, "subflow call"
    )
    count = count_text(node)
    return f"{kind}{' ' + count if count else ''} (line {node.line})"
