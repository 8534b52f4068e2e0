"""``flowc run --plan``: when a flow runs from its plan, and every way a plan can be refused."""

from __future__ import annotations

import json
from pathlib import Path

STATIC = """
from prefect import flow, task


@task
def double(x):
    return 2 * x


@flow
def static(n: int = 3):
    futures = double.map(range(n))
    return sum(f.result() for f in futures)
"""

BRANCHY = """
from prefect import flow, task


@task
def check():
    return 3


@task
def act(x):
    return x


@flow
def branchy():
    if check.submit().result() > 2:
        return act.submit(1).result()
    return 0
"""


def _write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(source)
    return path


def test_a_flow_without_breaks_runs_from_its_plan_with_the_same_records(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    planned = flowc("run", path, "--report", tmp_path / "p.json", cwd=tmp_path)
    dynamic = flowc("run", path, "--plan", "off", "--report", tmp_path / "d.json", cwd=tmp_path)
    assert planned.code == dynamic.code == 0, planned.stderr + dynamic.stderr
    assert "running dynamically" not in planned.stderr
    assert "result: 6" in planned.stdout and "result: 6" in dynamic.stdout

    def runs(report: Path) -> list[tuple[str, str, str]]:
        data = json.loads(report.read_text())
        return [(r["node"], r["task"], r["state"]["name"]) for r in data["task_runs"]]

    assert runs(tmp_path / "p.json") == runs(tmp_path / "d.json")
    assert [node for node, _, _ in runs(tmp_path / "p.json")] == [
        "double@12#0",
        "double@12#1",
        "double@12#2",
    ]


def test_auto_runs_a_flow_with_a_graph_break_dynamically_and_says_why(flowc, tmp_path) -> None:
    path = _write(tmp_path, "branchy.py", BRANCHY)
    result = flowc("run", path, cwd=tmp_path)
    assert result.code == 0, result.stderr
    (note,) = [line for line in result.stderr.splitlines() if "running dynamically" in line]
    assert "branchy.py:18" in note and "graph break" in note
    assert "result: 1" in result.stdout


def test_plan_on_refuses_a_flow_with_a_graph_break(flowc, tmp_path) -> None:
    path = _write(tmp_path, "branchy.py", BRANCHY)
    result = flowc("run", path, "--plan", "on", cwd=tmp_path)
    assert result.code == 2
    assert "branchy.py:18" in result.stderr and "--plan off" in result.stderr
    assert "Completed" not in result.stdout  # nothing ran


def test_a_compiled_plan_file_runs(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    assert flowc("compile", path, "-o", tmp_path / "static.plan.json", cwd=tmp_path).code == 0
    result = flowc("run", path, "--plan", tmp_path / "static.plan.json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "result: 6" in result.stdout


def test_a_plan_of_another_version_of_the_file_is_refused(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    plan = tmp_path / "static.plan.json"
    assert flowc("compile", path, "-o", plan, cwd=tmp_path).code == 0
    path.write_text(STATIC.replace("2 * x", "3 * x"))
    result = flowc("run", path, "--plan", plan, cwd=tmp_path)
    assert result.code == 2
    assert "different version" in result.stderr and "flowc compile" in result.stderr
    assert result.stdout == ""


def test_a_plan_that_does_not_validate_is_refused_one_line_per_problem(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    plan = tmp_path / "bad.plan.json"
    plan.write_text(json.dumps({"schema": "flowc.plan/1", "flows": [{"name": 3, "nodes": "x"}]}))
    result = flowc("run", path, "--plan", plan, cwd=tmp_path)
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert "not a valid flowc plan" in lines[0] and str(plan) in lines[0]
    assert any(line.strip().startswith("flows.0.name") for line in lines[1:])
    assert "Traceback" not in result.stderr


def test_a_missing_plan_file_is_refused(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    result = flowc("run", path, "--plan", tmp_path / "nope.json", cwd=tmp_path)
    assert result.code == 2
    assert "nope.json" in result.stderr and "cannot read the plan" in result.stderr


def test_checkpoint_and_resume_must_name_one_directory(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    result = flowc("run", path, "--checkpoint", "a", "--resume", "b", cwd=tmp_path)
    assert result.code == 2 and "give one directory" in result.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_explain_shows_the_passes(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    result = flowc("explain", path, "--optimized", "-p", "n=100", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "100 task runs" in result.stdout and "batched: double@12" in result.stdout


def _compiled_plan(flowc, tmp_path: Path) -> tuple[Path, Path, dict]:
    """static.py and a plan of it (expanded: one node per run), as JSON to tamper with."""
    path = _write(tmp_path, "static.py", STATIC)
    plan = tmp_path / "static.plan.json"
    assert flowc("compile", path, "--expand", "-o", plan, cwd=tmp_path).code == 0
    return path, plan, json.loads(plan.read_text())


def _refused(flowc, tmp_path: Path, path: Path, plan: Path, data: dict) -> list[str]:
    plan.write_text(json.dumps(data))
    result = flowc("run", path, "--plan", plan, cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert result.stdout == ""  # nothing ran
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(f"{plan}: ") for line in lines), lines
    return lines


def test_a_plan_without_source_hash_is_refused(flowc, tmp_path) -> None:
    path, plan, data = _compiled_plan(flowc, tmp_path)
    for missing in (None, ""):
        lines = _refused(flowc, tmp_path, path, plan, {**data, "source_sha256": missing})
        assert len(lines) == 1 and "no source_sha256" in lines[0] and "flowc compile" in lines[0]
    del data["source_sha256"]
    assert "no source_sha256" in _refused(flowc, tmp_path, path, plan, data)[0]


def test_a_plan_whose_graph_is_unsound_is_refused_one_line_per_problem(flowc, tmp_path) -> None:
    path, plan, data = _compiled_plan(flowc, tmp_path)
    nodes = data["flows"][0]["nodes"]
    first, second, third = (node["id"] for node in nodes[:3])
    nodes.append(dict(nodes[0]))  # a duplicate id
    nodes[1]["count"] = -4
    nodes[2]["task"] = "ghost"
    edges = data["flows"][0]["edges"]
    edges += [
        {"source": first, "target": "nowhere@99", "kind": "future"},
        {"source": first, "target": second, "kind": "future"},
        {"source": second, "target": first, "kind": "wait_for"},
    ]
    lines = _refused(flowc, tmp_path, path, plan, data)
    prefix = f"{plan}: flow 'static': "
    assert sorted(lines) == sorted(
        [
            f"{prefix}node {first!r}: duplicate node id",
            f"{prefix}node {second!r}: negative count -4",
            f"{prefix}edge {first!r} -> 'nowhere@99': no node 'nowhere@99' in the flow",
            f"{prefix}node {first!r}: in a cycle: {first} -> {second} -> {first}",
            f"{prefix}node {third!r}: unknown task 'ghost' ({path} calls no such task)",
        ]
    )


def test_a_plan_path_that_is_not_a_file_is_refused(flowc, tmp_path) -> None:
    path = _write(tmp_path, "static.py", STATIC)
    result = flowc("run", path, "--plan", tmp_path, cwd=tmp_path)
    assert result.code == 2
    assert (
        result.stderr.strip()
        == f"{tmp_path}: not a regular file; give a plan written by flowc compile"
    )
