"""``flowc run --report``: the ``flowc.run/1`` document, its fields and its links."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

TASK_RUN_FIELDS = {
    "id",
    "name",
    "task",
    "node",
    "flow",
    "flow_run",
    "kind",
    "state",
    "run_count",
    "tags",
    "upstream",
    "parent",
    "start",
    "end",
}


@pytest.fixture
def graph_report(flowc: Any, read_report: Any, report_path: Path) -> dict[str, Any]:
    result = flowc("run", "graph.py:graph-flow", "-q", "--report", report_path)
    assert result.code == 0, result.stderr
    report: dict[str, Any] = read_report(report_path)
    return report


def is_iso(text: str) -> bool:
    return datetime.datetime.fromisoformat(text).tzinfo is not None


def test_top_level_fields(graph_report: dict[str, Any]) -> None:
    assert set(graph_report) == {
        "schema",
        "flow",
        "flow_run",
        "state",
        "result",
        "start",
        "end",
        "flow_runs",
        "task_runs",
        "artifacts",
    }
    assert graph_report["schema"] == "flowc.run/1"
    assert graph_report["flow"] == "graph-flow"
    assert graph_report["flow_run"].startswith("graph-flow-")
    assert graph_report["state"] == {"type": "COMPLETED", "name": "Completed", "message": None}
    assert graph_report["result"] == "10"
    assert is_iso(graph_report["start"]) and is_iso(graph_report["end"])
    assert graph_report["start"] <= graph_report["end"]


def test_task_runs_names_states_and_kinds(graph_report: dict[str, Any]) -> None:
    runs = graph_report["task_runs"]
    assert all(set(run) - {"subflow_run"} == TASK_RUN_FIELDS for run in runs)
    assert all(("subflow_run" in run) == (run["kind"] == "subflow") for run in runs)
    tasks = [run["task"] for run in runs]
    assert tasks == [
        "announce",
        "source",
        "square",
        "square",
        "square",
        "total",
        "flow:inner-flow",
        "total",
    ]
    kinds = {run["task"]: run["kind"] for run in runs if run["flow"] == "graph-flow"}
    assert kinds == {
        "announce": "submit",
        "source": "submit",
        "square": "map",
        "total": "submit",
        "flow:inner-flow": "subflow",
    }
    for run in runs:
        assert run["state"]["type"] == "COMPLETED"
        assert run["run_count"] == 1
        assert run["name"].startswith(run["task"] + "-")
        assert is_iso(run["start"]) and is_iso(run["end"])


def test_upstream_edges_point_into_the_report(graph_report: dict[str, Any]) -> None:
    runs = graph_report["task_runs"]
    by_id = {run["id"]: run for run in runs}
    assert len(by_id) == len(runs)

    def upstream_tasks(run: dict[str, Any], kind: str) -> list[str]:
        return [by_id[ident]["task"] for ident in run["upstream"][kind]]

    for run in runs:
        for ident in run["upstream"]["data"] + run["upstream"]["wait_for"]:
            assert ident in by_id
    source = next(run for run in runs if run["task"] == "source")
    assert upstream_tasks(source, "wait_for") == ["announce"]
    assert upstream_tasks(source, "data") == []
    squares = [run for run in runs if run["task"] == "square"]
    assert all(upstream_tasks(run, "data") == ["source"] for run in squares)
    outer_total = next(
        run for run in runs if run["task"] == "total" and run["flow"] == "graph-flow"
    )
    assert sorted(outer_total["upstream"]["data"]) == sorted(run["id"] for run in squares)


def test_subflow_records(graph_report: dict[str, Any]) -> None:
    runs = graph_report["task_runs"]
    record = next(run for run in runs if run["kind"] == "subflow")
    assert record["task"] == "flow:inner-flow"
    assert record["name"].startswith("flow:inner-flow-")
    assert record["flow"] == "graph-flow"
    squares = {run["id"] for run in runs if run["task"] == "square"}
    assert set(record["upstream"]["data"]) == squares
    inner_runs = [run for run in runs if run["flow"] == "inner-flow"]
    assert [run["task"] for run in inner_runs] == ["total"]
    flows = graph_report["flow_runs"]
    assert [flow["flow"] for flow in flows] == ["graph-flow", "inner-flow"]
    assert flows[0]["parent"] is None
    assert flows[1]["parent"] == flows[0]["id"]
    assert flows[0]["name"] == graph_report["flow_run"]
    assert all(flow["state"]["type"] == "COMPLETED" for flow in flows)
    assert record["subflow_run"] == flows[1]["id"]
    assert record["flow_run"] == flows[0]["id"]
    assert all(run["flow_run"] == flows[1]["id"] for run in inner_runs)


def test_report_of_a_failed_flow(flowc: Any, read_report: Any, report_path: Path) -> None:
    result = flowc("run", "failing.py", "-q", "--report", report_path)
    assert result.code == 1
    report = read_report(report_path)
    assert report["state"]["type"] == "FAILED"
    assert report["state"]["message"] == (
        "Flow run encountered an exception: ValueError: value 5 is too large"
    )
    assert report["result"] is None
    [run] = report["task_runs"]
    assert run["task"] == "validate" and run["kind"] == "call"
    assert run["state"]["name"] == "Failed"
    assert "ValueError: value 5 is too large" in run["state"]["message"]


def test_report_of_completed_flow_with_failed_task(
    flowc: Any, read_report: Any, report_path: Path
) -> None:
    result = flowc("run", "swallowed.py", "-q", "--strict", "--report", report_path)
    assert result.code == 1
    report = read_report(report_path)
    assert report["state"]["type"] == "COMPLETED"
    states = {run["task"]: run["state"]["name"] for run in report["task_runs"]}
    assert states == {"explode": "Failed", "fine": "Completed"}


def test_not_ready_downstream(
    flowc: Any, read_report: Any, report_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "not_ready.py"
    path.write_text(
        "from flowc import flow, task\n\n"
        "@task\n"
        "def fail():\n"
        "    raise RuntimeError('no')\n\n"
        "@task\n"
        "def after(x):\n"
        "    return x\n\n"
        "@flow\n"
        "def chain():\n"
        "    return after.submit(fail.submit())\n"
    )
    assert flowc("run", path, "-q", "--report", report_path).code == 1
    report = read_report(report_path)
    failed, after = report["task_runs"]
    assert after["state"]["name"] == "NotReady" and after["state"]["type"] == "PENDING"
    assert after["run_count"] == 0 and after["start"] is None
    assert after["upstream"]["data"] == [failed["id"]]


def test_report_is_replaced_atomically(
    flowc: Any, read_report: Any, report_path: Path, tmp_path: Path
) -> None:
    report_path.write_text("old contents")
    assert flowc("run", "module_call.py", "-q", "--report", report_path).code == 0
    assert read_report(report_path)["flow"] == "counted"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json"]  # no temp file left
    assert report_path.read_text().endswith("}\n")
