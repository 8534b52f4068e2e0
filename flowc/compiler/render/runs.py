"""A run laid over the drawing: ``flowc graph --run REPORT.json`` colours nodes by final state.

A ``flowc.run/1`` report (written by ``flowc run --report``) is plain JSON, so reading it here
keeps ``graph`` what it always was: the user's file is parsed, never imported or run.

Each task-run record is put on a plan node. Reports from a runtime that records the plan node
a run was created as (``node``: ``<site id>#<i>``) map exactly: to the expanded run of that id,
or to the call-site node of the part before ``#``. Older reports have no ``node``; their runs
are put on nodes by flow and task name (the i-th run of a task to its i-th node in plan order),
and the drawing says so, since two call sites of one task cannot be told apart that way.

A node's colour is the worst final state among its runs (:data:`WORST_FIRST`); a node with no
run recorded is drawn white and dashed. Renderers read the result through
:meth:`RunOverlay.look`, so DOT, Mermaid and JSON agree on what each node shows.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flowc.compiler.targets import CommandError, Compiled
from flowc.plan import FlowPlan, Node, Plan

__all__ = [
    "GRAPH_RUN_SCHEMA",
    "NOT_RUN",
    "REPORT_SCHEMA",
    "STYLES",
    "WORST_FIRST",
    "Look",
    "NodeRuns",
    "RunOverlay",
    "RunRecord",
    "RunReport",
    "load_report",
    "flow_for",
    "overlay_for",
    "report_from",
    "state_class",
]

REPORT_SCHEMA = "flowc.run/1"
GRAPH_RUN_SCHEMA = "flowc.graph-run/1"

StateClass = Literal["failed", "cancelled", "notready", "unfinished", "completed", "notrun"]
#: Severity order: a node takes the class of its worst run. ``notrun`` is the class of no run.
WORST_FIRST: tuple[StateClass, ...] = ("failed", "cancelled", "notready", "unfinished", "completed")
NOT_RUN: StateClass = "notrun"


@dataclass(frozen=True)
class StateStyle:
    """How a state class is drawn: fill and outline, its legend text, and its count symbol."""

    fill: str
    stroke: str
    legend: str
    symbol: str


# The renderer's palette is Tailwind-like (red-600 #dc2626 for breaks, amber-600 #d97706 for
# conditional outlines); the states use the same family, light fills with a darker outline.
STYLES: dict[StateClass, StateStyle] = {
    "completed": StateStyle("#bbf7d0", "#16a34a", "Completed / Cached", "✓"),
    "failed": StateStyle("#fecaca", "#dc2626", "Failed / Crashed / TimedOut", "✗"),
    "cancelled": StateStyle("#fed7aa", "#ea580c", "Cancelled", "cancelled"),
    "notready": StateStyle("#e5e7eb", "#6b7280", "NotReady (an upstream failed)", "not ready"),
    "unfinished": StateStyle("#fef9c3", "#ca8a04", "unfinished (Running, Pending…)", "unfinished"),
    "notrun": StateStyle("#ffffff", "#9ca3af", "not run (no run recorded)", "not run"),
}

_BY_NAME: dict[str, StateClass] = {
    "Completed": "completed",
    "Cached": "completed",
    "Failed": "failed",
    "TimedOut": "failed",
    "Crashed": "failed",
    "Cancelled": "cancelled",
    "Cancelling": "cancelled",
    "NotReady": "notready",
}
_BY_TYPE: dict[str, StateClass] = {
    "COMPLETED": "completed",
    "FAILED": "failed",
    "CRASHED": "failed",
    "CANCELLED": "cancelled",
    "CANCELLING": "cancelled",
}


def state_class(state_type: str, state_name: str) -> StateClass:
    """The class of a final state: by its name first (``NotReady`` is a PENDING type), else type."""
    return _BY_NAME.get(state_name) or _BY_TYPE.get(state_type.upper(), "unfinished")


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class RunRecord:
    """The part of one ``task_runs[]`` entry the drawing needs."""

    task: str
    flow: str
    node: str | None
    state_type: str
    state_name: str
    message: str | None
    #: what the HTML view shows of the run: its name, times (ISO 8601), attempts and worker.
    name: str | None = None
    start: str | None = None
    end: str | None = None
    run_count: int | None = None
    worker: str | None = None

    @property
    def state(self) -> StateClass:
        return state_class(self.state_type, self.state_name)


@dataclass(frozen=True)
class RunReport:
    """A validated ``flowc.run/1`` report: the top-level flow run and its task-run records."""

    flow: str
    flow_run: str
    state_name: str
    records: list[RunRecord]
    #: the rest of the report, kept for the HTML view (result, message, times, artifacts).
    state_type: str = "?"
    message: str | None = None
    result: str | None = None
    start: str | None = None
    end: str | None = None
    artifacts: Any = None


def _bad(path: Path, problem: str) -> CommandError:
    return CommandError(f"--run {path}: {problem}")


def _text(raw: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = raw.get(key)
    if not isinstance(value, str):
        raise _bad(path, f"not a {REPORT_SCHEMA} report: {where}{key!r} missing or not a string")
    return value


def _record(raw: object, i: int, path: Path) -> RunRecord:
    where = f"task_runs[{i}]."
    if not isinstance(raw, dict):
        raise _bad(path, f"not a {REPORT_SCHEMA} report: task_runs[{i}] is not an object")
    state = raw.get("state")
    if not isinstance(state, dict):
        raise _bad(path, f"not a {REPORT_SCHEMA} report: {where}'state' missing or not an object")
    node = raw.get("node")
    if node is not None and not isinstance(node, str):
        raise _bad(path, f"not a {REPORT_SCHEMA} report: {where}'node' is not a string")
    message = state.get("message")
    count = raw.get("run_count")
    worker = raw.get("worker")
    return RunRecord(
        task=_text(raw, "task", where, path),
        flow=_text(raw, "flow", where, path),
        node=node or None,
        state_type=_text(state, "type", where + "state.", path),
        state_name=_text(state, "name", where + "state.", path),
        message=message if isinstance(message, str) else None,
        name=_optional_text(raw, "name"),
        start=_optional_text(raw, "start"),
        end=_optional_text(raw, "end"),
        run_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        worker=None if worker is None else str(worker),
    )


def _optional_text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _parse(data: bytes, path: Path) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno})"
        raise _bad(path, problem) from None
    except ValueError as exc:  # bytes that are no JSON encoding at all
        raise _bad(path, f"not valid JSON ({exc})") from None


#: The largest run report ``--run`` reads (some 200,000 task runs).
MAX_REPORT_BYTES = 200_000_000


def load_report(path: Path) -> RunReport:
    """Read and check a run report; every problem is a one-line :class:`CommandError`."""
    from flowc.reading import SourceReadError, read_limited

    try:
        path.stat()
        data = read_limited(path, MAX_REPORT_BYTES, what="run report")  # a FIFO: refused
    except SourceReadError as exc:
        raise _bad(path, f"cannot read the report: {exc.reason}") from None
    except OSError as exc:
        raise _bad(path, f"cannot read the report: {exc.strerror or exc}") from None
    try:
        raw = _parse(data, path)
    except RecursionError:
        raise _bad(path, "not valid JSON (nested too deeply)") from None
    return report_from(raw, path)


def report_from(raw: Any, path: Path) -> RunReport:
    """A parsed ``flowc.run/1`` document checked; ``path`` names it in errors."""
    if not isinstance(raw, dict):
        raise _bad(path, f"not a {REPORT_SCHEMA} report (a JSON object was expected)")
    if raw.get("schema") != REPORT_SCHEMA:
        raise _bad(path, f"not a {REPORT_SCHEMA} report (schema {raw.get('schema')!r})")
    runs = raw.get("task_runs")
    if not isinstance(runs, list):
        raise _bad(path, f"not a {REPORT_SCHEMA} report: 'task_runs' missing or not a list")
    state = raw.get("state")
    state = state if isinstance(state, dict) else {}
    name, kind, message = state.get("name"), state.get("type"), state.get("message")
    return RunReport(
        flow=_text(raw, "flow", "", path),
        flow_run=str(raw.get("flow_run") or "?"),
        state_name=name if isinstance(name, str) else "?",
        records=[_record(item, i, path) for i, item in enumerate(runs)],
        state_type=kind if isinstance(kind, str) else "?",
        message=message if isinstance(message, str) else None,
        result=_optional_text(raw, "result"),
        start=_optional_text(raw, "start"),
        end=_optional_text(raw, "end"),
        artifacts=raw.get("artifacts"),
    )


# --------------------------------------------------------------------------- records -> nodes


def _place_by_id(node_id: str, ids: set[str], sites: set[str]) -> str | None:
    """The plan node of a report ``node``: the exact (expanded) id, else its call site's node.

    Only the last ``#`` counts: the site id before it may hold ``/`` and ``::`` but no ``#``.
    """
    if node_id in ids:
        return node_id
    site = node_id.rpartition("#")[0] or node_id
    return site if site in sites else None


def _slots(candidates: Sequence[Node]) -> deque[tuple[str, int | None]]:
    """Nodes in plan order with how many runs each takes (``None``: all that are left)."""
    if len(candidates) == 1 and candidates[0].site is None:
        return deque([(candidates[0].id, None)])  # the task's only call site takes every run
    return deque((n.id, 1 if n.site is not None else n.count) for n in candidates)


def _place_by_name(records: Sequence[RunRecord], flow: FlowPlan) -> tuple[list[str | None], int]:
    """Plan node ids for runs without a ``node``: the i-th run of a task to its i-th node."""
    candidates: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in flow.nodes:
        candidates[(node.flow, node.task)].append(node)
    queues = {key: _slots(nodes) for key, nodes in candidates.items()}
    placed: list[str | None] = []
    for record in records:
        queue = queues.get((record.flow, record.task), deque())
        while queue and queue[0][1] == 0:
            queue.popleft()
        if not queue:
            placed.append(None)
            continue
        node_id, left = queue[0]
        if left is not None:
            queue[0] = (node_id, left - 1)
        placed.append(node_id)
    return placed, sum(1 for p in placed if p is not None)


# --------------------------------------------------------------------------- per node


@dataclass
class NodeRuns:
    """The runs recorded for one drawn node: counts by state name, and the worst message."""

    names: Counter[str] = field(default_factory=Counter)
    classes: Counter[StateClass] = field(default_factory=Counter)
    messages: dict[StateClass, str] = field(default_factory=dict)

    def add(self, record: RunRecord) -> None:
        self.names[record.state_name] += 1
        self.classes[record.state] += 1
        if record.message and record.state not in self.messages:
            self.messages[record.state] = record.message

    def merge(self, other: NodeRuns) -> None:
        self.names.update(other.names)
        self.classes.update(other.classes)
        for state, message in other.messages.items():
            self.messages.setdefault(state, message)

    @property
    def total(self) -> int:
        return sum(self.classes.values())

    @property
    def state(self) -> StateClass:
        """The worst class among the runs; ``notrun`` when none was recorded."""
        return next((s for s in WORST_FIRST if self.classes[s]), NOT_RUN)

    def summary(self) -> str:
        """``998 ✓ · 2 ✗``: each class present, worst last so it reads as the exception."""
        present = [s for s in reversed(WORST_FIRST) if self.classes[s]]
        return " · ".join(f"{self.classes[s]} {STYLES[s].symbol}" for s in present)

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "runs": self.total, "counts": dict(sorted(self.names.items()))}


@dataclass(frozen=True)
class Look:
    """What a renderer changes on one node: colours, dashes, a count line, a tooltip line."""

    state: StateClass
    fill: str
    stroke: str
    dashed: bool
    counts: str | None
    tooltip: str


def _tooltip(runs: NodeRuns) -> str:
    if not runs.total:
        return "run: no run recorded"
    names = ", ".join(f"{n} {name}" for name, n in sorted(runs.names.items()))
    message = runs.messages.get(runs.state)
    return f"run: {names}" + (f"\n{message}" if message else "")


def _shows_counts(node: Node, runs: NodeRuns) -> bool:
    """Counts help on a node standing for several runs (or a fan-out), not on a single run."""
    if runs.total > 1 or len(+runs.classes) > 1:
        return True
    return runs.total == 1 and node.site is None and (node.count != 1 or node.kind == "map")


def _fold(flow: FlowPlan, runs: dict[str, NodeRuns]) -> dict[str, NodeRuns]:
    """Per call site of expanded runs, their runs summed (what a folded node shows)."""
    folded: dict[str, NodeRuns] = defaultdict(NodeRuns)
    for node in flow.nodes:
        if node.site is not None and node.id in runs:
            folded[node.site].merge(runs[node.id])
    return dict(folded)


@dataclass
class RunOverlay:
    """A report's runs placed on the nodes of one flow's plan, ready for every renderer."""

    plan: Plan
    report: RunReport
    #: plan node id -> its runs (nodes with no run recorded are absent).
    runs: dict[str, NodeRuns]
    #: call-site id -> the runs of all its expanded nodes, for a site drawn folded.
    folded: dict[str, NodeRuns]
    unmatched: int
    by_name: int
    by_node: int
    #: per record of the report, in its order: the plan node it was put on, or None.
    placed: list[str | None] = field(default_factory=list)

    @property
    def flow(self) -> str:
        return self.report.flow

    @classmethod
    def build(cls, plan: Plan, report: RunReport) -> RunOverlay:
        """Place ``report``'s records on ``plan``'s flow named like the report's."""
        flow = plan.flow(report.flow)
        ids = {node.id for node in flow.nodes}
        sites = {node.id for node in flow.nodes if node.site is None}
        with_id = [r for r in report.records if r.node is not None]
        without = [r for r in report.records if r.node is None]
        placed_ids = [_place_by_id(r.node or "", ids, sites) for r in with_id]
        placed_names, by_name = _place_by_name(without, flow)
        runs: dict[str, NodeRuns] = defaultdict(NodeRuns)
        where: dict[int, str | None] = {}
        for record, node_id in zip(with_id + without, placed_ids + placed_names, strict=True):
            where[id(record)] = node_id
            if node_id is not None:
                runs[node_id].add(record)
        by_node = sum(1 for p in placed_ids if p is not None)
        unmatched = len(report.records) - by_node - by_name
        placed = [where[id(record)] for record in report.records]
        folded = _fold(flow, runs)
        return cls(plan, report, dict(runs), folded, unmatched, by_name, by_node, placed)

    def runs_of(self, node: Node) -> NodeRuns:
        """The runs of a drawn node; a site folded by ``--max-runs`` sums its expanded runs."""
        return self.runs.get(node.id) or self.folded.get(node.id) or NodeRuns()

    def look(self, node: Node) -> Look:
        runs = self.runs_of(node)
        state = runs.state
        style = STYLES[state]
        counts = runs.summary() if _shows_counts(node, runs) else None
        return Look(state, style.fill, style.stroke, state == NOT_RUN, counts, _tooltip(runs))

    def mapped_by(self) -> str:
        """``node``, ``name``, ``node and name`` or ``none``: how records found their nodes."""
        ways = [w for w, n in (("node", self.by_node), ("name", self.by_name)) if n]
        return " and ".join(ways) or "none"

    def notes(self) -> list[str]:
        """Lines for the drawing itself: which run is shown, and how runs were placed."""
        report = self.report
        count = len(report.records)
        runs = f"{count} task run" if count == 1 else f"{count:,} task runs"
        notes = [f"run {report.flow_run}: {report.state_name}, {runs}"]
        if self.by_name:
            notes.append(
                f"{self.by_name} task run(s) mapped to nodes by task name "
                "(no node ids in the report)"
            )
        return notes

    def stderr_notes(self) -> list[str]:
        """One-line notes for the terminal: runs the plan has no node for."""
        if not self.unmatched:
            return []
        return [
            f"note: {self.unmatched} of {len(self.report.records)} task run(s) in the report "
            "match no node of the plan (a different version of the file, or other --param?)"
        ]

    def to_json(self) -> dict[str, Any]:
        """The ``run`` part of ``--format json``: per plan node, its state and state counts."""
        flow = self.plan.flows[0]
        return {
            "flow": self.report.flow,
            "flow_run": self.report.flow_run,
            "state": self.report.state_name,
            "task_runs": len(self.report.records),
            "mapped_by": self.mapped_by(),
            "unmatched": self.unmatched,
            "nodes": {node.id: self.runs_of(node).to_json() for node in flow.nodes},
        }

    def document(self) -> str:
        """``--format json`` with ``--run``: the unchanged plan and the run, side by side."""
        plan = self.plan.model_dump(mode="json", by_alias=True)
        wrapper = {"schema": GRAPH_RUN_SCHEMA, "plan": plan, "run": self.to_json()}
        return json.dumps(wrapper, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- the command


def _names(flows: Iterable[FlowPlan]) -> str:
    return ", ".join(flow.name for flow in flows) or "none"


def flow_for(report: RunReport, compiled: Compiled, path: Path) -> FlowPlan:
    """The compiled flow the report ran; a report of another flow is a usage error."""
    for flow in compiled.flows:
        if flow.name == report.flow:
            return flow
    if compiled.flow_name is not None:
        raise _bad(
            path,
            f"a report of flow {report.flow!r}, but {compiled.path}:{compiled.flow_name} "
            f"is flow {compiled.flows[0].name!r}",
        )
    raise _bad(
        path,
        f"a report of flow {report.flow!r}, which {compiled.path} does not define "
        f"(its flows: {_names(compiled.flows)})",
    )


def overlay_for(path: Path, compiled: Compiled) -> RunOverlay:
    """``flowc graph --run PATH``: the report read, its flow chosen, its runs placed."""
    report = load_report(path)
    flow = flow_for(report, compiled, path)
    plan = compiled.plan.model_copy(update={"flows": [flow]})
    return RunOverlay.build(plan, report)
