"""The interactive HTML view: one self-contained page of a flow's graph (and of a run, or a diff).

Graphviz lays the graph out (``dot -Tsvg``, the same layout as ``flowc graph -o out.svg``, so
the page and the static pictures agree); the SVG is inlined with the plan's facts as JSON and a
small script of our own (``assets/view.js``) that pans, zooms, searches, opens fan-outs and
shows details. Everything is inlined: the page makes no request, and works from ``file://``,
attached to a pull request or an e-mail. ``docs/html-view.md`` says why this design.

The page always draws one node per call site (a fan-out of 10,000 runs is one node with its
count, opened on demand): that is what keeps a large run readable and the page fast.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from flowc.compiler.render.dot import pipe, to_dot
from flowc.compiler.render.legend import symbols_of
from flowc.compiler.render.view import is_fanout, site_of, site_view
from flowc.plan import FlowPlan, GraphBreak, Node

if TYPE_CHECKING:
    from flowc.compiler.render.runs import RunOverlay

__all__ = ["LARGE", "PageMarks", "fast_layout", "page_data", "to_html"]

#: Past this many drawn nodes, Graphviz is asked to spend less effort on crossings.
LARGE = 400
_FAST_LAYOUT = {"nslimit": "3", "nslimit1": "3", "mclimit": "0.3", "searchsize": "10"}


def fast_layout() -> dict[str, str]:
    """Graphviz settings that bound crossing-minimisation effort on a large graph."""
    return dict(_FAST_LAYOUT)


#: Runs listed per fan-out in the page (the count is always exact; the list is capped).
MAX_LISTED_RUNS = 10_000


@dataclass
class PageMarks:
    """What a diff adds to the page: per drawn node id, ``added``/``removed``/``changed``."""

    nodes: dict[str, str] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], str] = field(default_factory=dict)
    breaks: dict[tuple[int, int], str] = field(default_factory=dict)
    #: lines for the page's "changes" panel.
    summary: list[str] = field(default_factory=list)
    title: str = ""
    #: per drawn node id: its source line when it is not the drawn file's (a removed call).
    source_lines: dict[str, str] = field(default_factory=dict)


@cache
def _asset(name: str) -> str:
    return (
        resources.files("flowc.compiler.render")
        .joinpath("assets")
        .joinpath(name)
        .read_text("utf-8")
    )


def _source_lines(
    flows: Sequence[FlowPlan], sources: dict[str, str] | None
) -> dict[str, list[str]]:
    """Each flow file's lines, to show a call site's source line; unreadable files show none."""
    lines: dict[str, list[str]] = {}
    for flow in flows:
        if flow.file in lines:
            continue
        text = (sources or {}).get(flow.file)
        if text is None:
            try:
                with open(flow.file, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                text = ""
        lines[flow.file] = text.splitlines()
    return lines


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def _block_end(lines: list[str], line: int) -> int:
    """The last line of the block a statement at ``line`` opens (itself when it opens none)."""
    if not 0 < line <= len(lines):
        return line
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip())
    end = line
    for number in range(line + 1, len(lines) + 1):
        text = lines[number - 1]
        if not text.strip():
            continue
        if len(text) - len(text.lstrip()) <= indent:
            break
        end = number
    return end


def _break_data(brk: GraphBreak, flow: FlowPlan, prefix: str, lines: list[str]) -> dict[str, Any]:
    """A break, and the call sites in the block it stops at (a ``while`` loop's body)."""
    end = _block_end(lines, brk.line)
    inside = [
        f"node:{prefix}{node.id}"
        for node in flow.nodes
        if brk.line <= node.line <= end and "::" not in node.id and node.flow == flow.name
    ]
    return {
        "line": brk.line,
        "col": brk.col,
        "reason": brk.reason,
        "source": _line(lines, brk.line),
        "dom": f"break:{prefix}{brk.line}:{brk.col}",
        "inside": inside,
    }


def _runs_listed(flow: FlowPlan, overlay: RunOverlay | None) -> dict[str, list[dict[str, Any]]]:
    """Per call site: its runs, from the report when there is one, else from the expanded plan."""
    listed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if overlay is not None and overlay.flow == flow.name:
        by_id = {node.id: node for node in flow.nodes}
        for record, placed in zip(overlay.report.records, overlay.placed, strict=True):
            if placed is None:
                continue
            node = by_id.get(placed)
            site = site_of(node) if node is not None else placed
            index = (record.node or "").rpartition("#")[2]
            entry = {
                "i": int(index) if index.isdigit() else len(listed[site]),
                "name": record.name,
                "state": record.state,
                "stateName": record.state_name,
                "start": record.start,
                "end": record.end,
                "tries": record.run_count,
                "message": record.message,
            }
            if len(listed[site]) < MAX_LISTED_RUNS:
                listed[site].append(entry)
        return listed
    for node in flow.nodes:
        if node.site is not None and len(listed[node.site]) < MAX_LISTED_RUNS:
            listed[node.site].append({"i": node.index, "id": node.id})
    return listed


def _node_data(
    node: Node,
    prefix: str,
    lines: list[str],
    runs: list[dict[str, Any]],
    overlay: RunOverlay | None,
    marks: PageMarks | None = None,
) -> dict[str, Any]:
    # a call site in another module of the project (``helpers::load@5``): its line is there
    module = node.id.rpartition("::")[0].rpartition("/")[2] or None
    source = "" if module else _line(lines, node.line)
    if marks is not None and prefix + node.id in marks.source_lines:
        source = marks.source_lines[prefix + node.id]
    data: dict[str, Any] = {
        "id": node.id,
        "dom": f"node:{prefix}{node.id}",
        "task": node.task,
        "kind": node.kind,
        "flow": node.flow,
        "line": node.line,
        "col": node.col,
        "source": source,
        "module": module,
        "count": node.count,
        "dynamic": node.dynamic,
        "conditional": node.conditional,
        "options": node.options,
        "fanout": is_fanout(node),
        "runs": runs,
    }
    if overlay is not None:
        look = overlay.look(node)
        data["state"] = look.state
        data["stateText"] = look.tooltip.removeprefix("run: ")
        data["stateCounts"] = look.counts
    return data


def page_data(
    flows: Sequence[FlowPlan],
    runs: RunOverlay | None = None,
    sources: dict[str, str] | None = None,
    marks: PageMarks | None = None,
) -> dict[str, Any]:
    """The facts the page's script reads: nodes, edges, breaks, legend, run and changes."""
    drawn = [site_view(flow) for flow in flows]
    prefixes = [""] if len(drawn) == 1 else [f"{flow.name}/" for flow in drawn]
    lines = _source_lines(flows, sources)
    out_flows = []
    for flow, shown, prefix in zip(flows, drawn, prefixes, strict=True):
        overlay = runs if runs is not None and runs.flow == flow.name else None
        listed = _runs_listed(flow, overlay)
        file_lines = lines.get(flow.file, [])
        out_flows.append(
            {
                "name": flow.name,
                "file": flow.file,
                "line": flow.line,
                "prefix": prefix,
                "nodes": [
                    _node_data(node, prefix, file_lines, listed.get(node.id, []), overlay, marks)
                    for node in shown.nodes
                ],
                "edges": [
                    {"s": e.source, "t": e.target, "k": e.kind, "dom": f"edge:{prefix}{i}"}
                    for i, e in enumerate(shown.edges)
                ],
                "breaks": [_break_data(b, shown, prefix, file_lines) for b in shown.breaks],
            }
        )
    symbols = symbols_of(drawn, runs)
    data: dict[str, Any] = {
        "schema": "flowc.html/1",
        "title": ", ".join(flow.name for flow in flows),
        "flows": out_flows,
        "legend": {
            "shapes": symbols.shapes,
            "edges": symbols.edges,
            "states": symbols.states,
            "subflowCluster": symbols.subflow_cluster,
        },
        "run": None,
        "diff": None,
    }
    if runs is not None:
        from flowc.compiler.render.htmlrun import run_data
        from flowc.compiler.render.runs import STYLES

        data["run"] = run_data(runs)
        # a node shows its worst run; its runs, opened, show every other state too
        states = set(symbols.states) | {record.state for record in runs.report.records}
        data["legend"]["states"] = [state for state in STYLES if state in states]
    if marks is not None:
        data["diff"] = _marks_data(marks, prefixes[0] if len(prefixes) == 1 else None)
        data["title"] = marks.title or data["title"]
    return data


def _marks_data(marks: PageMarks, prefix: str | None) -> dict[str, Any]:
    pre = prefix or ""
    return {
        "nodes": {f"node:{pre}{node_id}": how for node_id, how in marks.nodes.items()},
        "breaks": {f"break:{pre}{line}:{col}": how for (line, col), how in marks.breaks.items()},
        "edges": [{"s": s, "t": t, "k": k, "how": how} for (s, t, k), how in marks.edges.items()],
        "summary": marks.summary,
    }


_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)


def _svg(flows: Sequence[FlowPlan], runs: RunOverlay | None) -> str:
    drawn = [site_view(flow) for flow in flows]
    size = sum(len(flow.nodes) for flow in drawn)
    source = to_dot(
        drawn,
        max_runs=None,
        legend=False,
        runs=runs,
        svg_ids=True,
        graph_attrs=fast_layout() if size > LARGE else None,
    )
    svg = pipe(source, "svg").decode("utf-8")
    return _PROLOG.sub("", svg, count=1)


def _script_json(data: dict[str, Any]) -> str:
    """JSON safe inside ``<script>``: no ``</script>`` or ``<!--`` can close or open anything."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_html(
    flows: Sequence[FlowPlan],
    *,
    runs: RunOverlay | None = None,
    sources: dict[str, str] | None = None,
    marks: PageMarks | None = None,
) -> str:
    """The whole page: ``flows`` drawn by Graphviz, with ``runs`` and ``marks`` when given.

    Needs Graphviz's ``dot`` (:class:`~flowc.compiler.render.dot.DotNotFound` without it).
    """
    if not flows:
        raise ValueError("the plan has no flow to draw")
    data = page_data(flows, runs, sources, marks)
    parts = {
        "TITLE": _escape(f"{data['title']} · flowc"),
        "CSS": _asset("view.css"),
        "SVG": _svg(flows, runs),
        "DATA": _script_json(data),
        "JS": (_asset("view.js") + _asset("run.js")).replace("</script", "<\\/script"),
    }
    return re.sub(r"@@(\w+)@@", lambda m: parts[m.group(1)], _asset("page.html"))
