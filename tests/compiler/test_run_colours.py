"""Run states over a drawing (``flowc graph --run``), in process on hand-built plans and reports.

End-to-end runs of real flows live in ``tests/cli/test_graph_run.py``; here the pieces: state
classes, placing records on nodes (by node id and by task name), the DOT/Mermaid/JSON output,
and the report's validation.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from flowc.compiler.render import render
from flowc.compiler.render.runs import (
    GRAPH_RUN_SCHEMA,
    STYLES,
    NodeRuns,
    RunOverlay,
    RunRecord,
    RunReport,
    load_report,
    overlay_for,
    state_class,
)
from flowc.compiler.targets import CommandError, Compiled
from flowc.plan import Edge, FlowPlan, Node, Plan

DOT_NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[(?P<attrs>.*)\]$')
DOT_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
STATE = {
    "completed": ("COMPLETED", "Completed"),
    "cached": ("COMPLETED", "Cached"),
    "failed": ("FAILED", "Failed"),
    "notready": ("PENDING", "NotReady"),
    "cancelled": ("CANCELLED", "Cancelled"),
    "running": ("RUNNING", "Running"),
}


def site(task: str, line: int, kind: str = "submit", count: int | None = 1, **kw: Any) -> Node:
    return Node(
        id=f"{task}@{line}", task=task, kind=kind, flow="demo", line=line, col=5, count=count, **kw
    )  # type: ignore[arg-type]


def runs_of(task: str, line: int, n: int, kind: str = "map") -> list[Node]:
    return [
        Node(
            id=f"{task}@{line}#{i}",
            task=task,
            kind=kind,  # type: ignore[arg-type]
            flow="demo",
            line=line,
            col=5,
            count=1,
            site=f"{task}@{line}",
            index=i,
        )
        for i in range(n)
    ]


def flow_plan(nodes: list[Node], edges: list[Edge] | None = None, name: str = "demo") -> Plan:
    expanded = any(node.site is not None for node in nodes)
    flow = FlowPlan(
        name=name,
        qualname=name,
        file="demo.py",
        nodes=nodes,
        edges=edges or [],
        expanded=expanded,
    )
    return Plan(flows=[flow])


def record(task: str, state: str, node: str | None = None, flow: str = "demo") -> RunRecord:
    state_type, state_name = STATE[state]
    return RunRecord(task, flow, node, state_type, state_name, f"{state_name} message")


def overlay(plan: Plan, *records: RunRecord) -> RunOverlay:
    return RunOverlay.build(plan, RunReport("demo", "demo-abc123", "Completed", list(records)))


def dot_nodes(source: str) -> dict[str, dict[str, str]]:
    """DOT node id -> its attributes (edges and graph attributes skipped)."""
    nodes = {}
    for line in source.splitlines():
        match = DOT_NODE.match(line)
        if match and " -> " not in line:
            nodes[match["id"]] = dict(DOT_ATTR.findall(match["attrs"]))
    return nodes


def mermaid_classes(source: str) -> dict[str, set[str]]:
    """Mermaid id -> the classes given to it by ``class a,b name`` lines."""
    classes: dict[str, set[str]] = {}
    for line in source.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "class":
            for mid in parts[1].split(","):
                classes.setdefault(mid, set()).add(parts[2])
    return classes


# --------------------------------------------------------------------------- states


@pytest.mark.parametrize(
    ("state_type", "name", "expected"),
    [
        ("COMPLETED", "Completed", "completed"),
        ("COMPLETED", "Cached", "completed"),
        ("FAILED", "Failed", "failed"),
        ("FAILED", "TimedOut", "failed"),
        ("CRASHED", "Crashed", "failed"),
        ("CANCELLED", "Cancelled", "cancelled"),
        ("PENDING", "NotReady", "notready"),
        ("RUNNING", "Running", "unfinished"),
        ("PENDING", "Pending", "unfinished"),
        ("FAILED", "SomethingNew", "failed"),
    ],
)
def test_state_classes(state_type: str, name: str, expected: str) -> None:
    assert state_class(state_type, name) == expected


def test_a_node_takes_its_worst_state_and_counts_read_best_first() -> None:
    runs = NodeRuns()
    for state in ["completed"] * 998 + ["failed"] * 2:
        runs.add(record("fetch", state))
    assert runs.state == "failed"
    assert runs.summary() == "998 ✓ · 2 ✗"
    notready = NodeRuns()
    for state in ("completed", "notready", "cancelled"):
        notready.add(record("t", state))
    assert notready.state == "cancelled"
    assert NodeRuns().state == "notrun"


# --------------------------------------------------------------------------- placing runs


def test_node_ids_match_expanded_runs_exactly() -> None:
    plan = flow_plan([*runs_of("square", 7, 3), *runs_of("boom", 8, 1, "submit")])
    result = overlay(
        plan,
        record("square", "completed", "square@7#0"),
        record("square", "failed", "square@7#1"),
        record("square", "completed", "square@7#2"),
        record("boom", "notready", "boom@8#0"),
    )
    states = {node.id: result.look(node).state for node in plan.flows[0].nodes}
    assert states == {
        "square@7#0": "completed",
        "square@7#1": "failed",
        "square@7#2": "completed",
        "boom@8#0": "notready",
    }
    assert (result.by_node, result.by_name, result.unmatched) == (4, 0, 0)
    assert result.mapped_by() == "node"
    assert not any("task name" in note for note in result.notes())


def test_node_ids_match_collapsed_sites_by_their_site_part() -> None:
    plan = flow_plan([site("square", 7, "map", None), site("child@30/load", 5)])
    result = overlay(
        plan,
        *(record("square", "completed", f"square@7#{i}") for i in range(4)),
        record("square", "failed", "square@7#4"),
        record("load", "completed", "child@30/load@5#0"),
    )
    square = result.look(plan.flows[0].node("square@7"))
    assert (square.state, square.counts) == ("failed", "4 ✓ · 1 ✗")
    assert result.look(plan.flows[0].node("child@30/load@5")).state == "completed"


def test_records_of_unknown_nodes_are_counted_not_placed() -> None:
    plan = flow_plan([site("a", 3)])
    result = overlay(plan, record("a", "completed", "a@3#0"), record("b", "failed", "b@99#0"))
    assert result.unmatched == 1
    assert result.look(plan.flows[0].node("a@3")).state == "completed"
    (note,) = result.stderr_notes()
    assert note.startswith("note: 1 of 2 task run(s) in the report match no node of the plan")


def test_without_node_ids_the_ith_run_of_a_task_goes_to_its_ith_node() -> None:
    plan = flow_plan([*runs_of("greet", 3, 1, "submit"), *runs_of("greet", 4, 2, "submit")])
    result = overlay(
        plan,
        record("greet", "completed"),
        record("greet", "failed"),
        record("greet", "cancelled"),
        record("greet", "completed"),  # one more than the plan has: unmatched
    )
    states = [result.look(node).state for node in plan.flows[0].nodes]
    assert states == ["completed", "failed", "cancelled"]
    assert (result.by_name, result.unmatched) == (3, 1)
    assert result.mapped_by() == "name"
    assert "3 task run(s) mapped to nodes by task name (no node ids in the report)" in (
        result.notes()
    )


def test_without_node_ids_a_tasks_only_call_site_takes_all_its_runs() -> None:
    plan = flow_plan([site("square", 7, "map", count=2), site("other", 9)])
    result = overlay(plan, *(record("square", "completed") for _ in range(5)))
    square = result.look(plan.flows[0].node("square@7"))
    assert (square.state, square.counts) == ("completed", "5 ✓")
    assert result.look(plan.flows[0].node("other@9")).state == "notrun"


def test_without_node_ids_flow_and_task_must_both_match() -> None:
    plan = flow_plan([site("load", 3)])
    result = overlay(plan, record("load", "completed", flow="child"))
    assert result.unmatched == 1
    assert result.look(plan.flows[0].node("load@3")).state == "notrun"


# --------------------------------------------------------------------------- DOT


def test_dot_fills_each_node_by_state_and_dashes_nodes_not_run() -> None:
    plan = flow_plan(
        [site("ok", 3), site("bad", 4), site("later", 5), site("skipped", 6, conditional=True)],
        [Edge(source="bad@4", target="later@5", kind="future")],
    )
    result = overlay(
        plan,
        record("ok", "cached", "ok@3#0"),
        record("bad", "failed", "bad@4#0"),
        record("later", "notready", "later@5#0"),
    )
    source = render(plan, "dot", runs=result)
    assert isinstance(source, str)
    nodes = dot_nodes(source)
    assert nodes["ok@3"]["fillcolor"] == STYLES["completed"].fill
    assert nodes["bad@4"]["fillcolor"] == STYLES["failed"].fill
    assert nodes["bad@4"]["color"] == STYLES["failed"].stroke
    assert "Failed message" in nodes["bad@4"]["tooltip"]
    assert nodes["later@5"]["fillcolor"] == STYLES["notready"].fill
    assert nodes["skipped@6"]["fillcolor"] == STYLES["notrun"].fill
    assert "dashed" in nodes["skipped@6"]["style"]
    assert nodes["skipped@6"]["fontcolor"] == "#d97706"  # still conditional
    assert "run demo-abc123: Completed, 3 task runs" in source


def test_dot_folded_site_shows_counts_and_the_worst_colour() -> None:
    plan = flow_plan(runs_of("fetch", 5, 1000))
    records = [record("fetch", "completed", f"fetch@5#{i}") for i in range(998)]
    records += [record("fetch", "failed", f"fetch@5#{i}") for i in (998, 999)]
    source = render(plan, "dot", runs=overlay(plan, *records), max_runs=20)
    assert isinstance(source, str)
    fetch = dot_nodes(source)["fetch@5"]
    assert fetch["label"] == "fetch ×1000  ·  line 5\\n998 ✓ · 2 ✗"
    assert fetch["fillcolor"] == STYLES["failed"].fill


def test_dot_legend_lists_the_state_colours_drawn_only_with_a_run() -> None:
    plan = flow_plan([site("a", 3), site("b", 4)])
    plain = render(plan, "dot")
    coloured = render(plan, "dot", runs=overlay(plan, record("a", "failed", "a@3#0")))
    assert isinstance(plain, str) and isinstance(coloured, str)
    assert "legend:state" not in plain
    legend = {k: v for k, v in dot_nodes(coloured).items() if k.startswith("legend:state:")}
    assert {k.rsplit(":", 1)[1]: v["fillcolor"] for k, v in legend.items()} == {
        state: STYLES[state].fill for state in ("failed", "notrun")
    }
    # kinds are told by shape alone when fills mean states
    assert 'fillcolor="#eef4ff"' not in coloured and 'fillcolor="#eef4ff"' in plain


# --------------------------------------------------------------------------- Mermaid, JSON


def test_mermaid_gives_each_node_a_state_class() -> None:
    plan = flow_plan([site("ok", 3), site("bad", 4), site("skipped", 5)])
    result = overlay(plan, record("ok", "completed", "ok@3#0"), record("bad", "failed", "bad@4#0"))
    source = render(plan, "mermaid", runs=result)
    assert isinstance(source, str)
    classes = mermaid_classes(source)
    assert classes["n_ok_3"] == {"run_completed"}
    assert classes["n_bad_4"] == {"run_failed"}
    assert classes["n_skipped_5"] == {"run_notrun"}
    for state, style in STYLES.items():
        assert f"classDef run_{state} fill:{style.fill},stroke:{style.stroke}" in source
    # the legend shows the states drawn, no others
    legend = {line.split()[1] for line in source.splitlines() if "class run_legend_" in line}
    assert legend == {"run_legend_completed", "run_legend_failed", "run_legend_notrun"}


def test_mermaid_without_a_run_is_unchanged() -> None:
    plan = flow_plan([site("ok", 3)])
    source = render(plan, "mermaid")
    assert isinstance(source, str)
    assert "run_" not in source


def test_json_wraps_the_unchanged_plan_with_per_node_counts() -> None:
    plan = flow_plan([site("square", 7, "map", None), site("skipped", 9)])
    records = [record("square", "completed", f"square@7#{i}") for i in range(3)]
    text = render(plan, "json", runs=overlay(plan, *records, record("x", "failed", "x@1#0")))
    assert isinstance(text, str)
    document = json.loads(text)
    assert document["schema"] == GRAPH_RUN_SCHEMA
    assert Plan.model_validate(document["plan"]) == plan
    assert document["run"] == {
        "flow": "demo",
        "flow_run": "demo-abc123",
        "state": "Completed",
        "task_runs": 4,
        "mapped_by": "node",
        "unmatched": 1,
        "nodes": {
            "square@7": {"state": "completed", "runs": 3, "counts": {"Completed": 3}},
            "skipped@9": {"state": "notrun", "runs": 0, "counts": {}},
        },
    }
    assert render(plan, "json") == plan.to_json() + "\n"


# --------------------------------------------------------------------------- the report


def good_report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "schema": "flowc.run/1",
        "flow": "demo",
        "flow_run": "demo-abc123",
        "state": {"type": "FAILED", "name": "Failed", "message": "1/1 states failed."},
        "task_runs": [
            {
                "task": "a",
                "flow": "demo",
                "kind": "submit",
                "node": "a@3#0",
                "state": {"type": "FAILED", "name": "Failed", "message": "boom"},
            },
            {
                "task": "a",
                "flow": "demo",
                "kind": "submit",
                "node": None,
                "state": {"type": "COMPLETED", "name": "Completed", "message": None},
            },
        ],
    }
    report.update(changes)
    return report


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "report.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_load_report_reads_records_and_null_nodes(tmp_path: Path) -> None:
    report = load_report(write(tmp_path, good_report()))
    assert (report.flow, report.flow_run, report.state_name) == ("demo", "demo-abc123", "Failed")
    assert [r.node for r in report.records] == ["a@3#0", None]
    assert [r.state for r in report.records] == ["failed", "completed"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON (Expecting property name enclosed in double quotes: line 1"),
        ([1, 2], "not a flowc.run/1 report (a JSON object was expected)"),
        (good_report(schema="flowc.plan/1"), "not a flowc.run/1 report (schema 'flowc.plan/1')"),
        ({"flow": "demo"}, "not a flowc.run/1 report (schema None)"),
        (good_report(task_runs=None), "'task_runs' missing or not a list"),
        (good_report(flow=3), "not a flowc.run/1 report: 'flow' missing or not a string"),
        (good_report(task_runs=[{"task": "a", "flow": "demo"}]), "task_runs[0].'state' missing"),
        (good_report(task_runs=["x"]), "task_runs[0] is not an object"),
    ],
)
def test_bad_reports_are_one_line_errors_naming_the_file(
    tmp_path: Path, content: Any, problem: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(CommandError) as caught:
        load_report(path)
    (line,) = caught.value.lines
    assert line.startswith(f"--run {path}: ")
    assert problem in line


@pytest.mark.parametrize(("name", "problem"), [("missing.json", "No such file"), ("", "irector")])
def test_unreadable_reports_are_errors(tmp_path: Path, name: str, problem: str) -> None:
    path = tmp_path / name if name else tmp_path
    with pytest.raises(CommandError) as caught:
        load_report(path)
    (line,) = caught.value.lines
    assert line.startswith(f"--run {path}: cannot read the report: ")
    assert problem in line


# --------------------------------------------------------------------------- choosing the flow


def compiled(*flows: FlowPlan, name: str | None = None) -> Compiled:
    plan = Plan(flows=list(flows))
    chosen = [f for f in flows if f.name == name] if name else list(flows)
    return Compiled(Path("demo.py"), plan, chosen, name)


def test_the_reports_flow_is_the_one_drawn(tmp_path: Path) -> None:
    demo, other = flow_plan([site("a", 3)]).flows[0], flow_plan([], name="other").flows[0]
    result = overlay_for(write(tmp_path, good_report()), compiled(other, demo))
    assert [f.name for f in result.plan.flows] == ["demo"]
    assert result.look(demo.node("a@3")).counts == "1 ✓ · 1 ✗"
    assert result.mapped_by() == "node and name"


def test_a_report_of_another_flow_is_an_error(tmp_path: Path) -> None:
    demo, other = flow_plan([site("a", 3)]).flows[0], flow_plan([], name="other").flows[0]
    path = write(tmp_path, good_report())
    with pytest.raises(CommandError) as named:
        overlay_for(path, compiled(demo, other, name="other"))
    assert named.value.lines == [
        f"--run {path}: a report of flow 'demo', but demo.py:other is flow 'other'"
    ]
    with pytest.raises(CommandError) as missing:
        overlay_for(path, compiled(other))
    assert missing.value.lines == [
        f"--run {path}: a report of flow 'demo', which demo.py does not define (its flows: other)"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_device_report_is_refused_unread(tmp_path: Path) -> None:
    fifo = tmp_path / "run.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    for path, kind in ((fifo, "is a FIFO (named pipe)"), (zero, "is a device")):
        with pytest.raises(CommandError) as caught:
            load_report(path)
        assert caught.value.lines == [
            f"--run {path}: cannot read the report: {kind}, not a regular file"
        ]
