"""``flowc graph --run REPORT.json``: a real flow run by ``flowc run --report``, then drawn.

The flow is run once per module in a real ``python -m flowc`` (as a user would); ``graph`` is
invoked in process, which is safe because it never imports the flow file — one test checks
exactly that. Reports with ``node`` ids are also written by hand from the compiled plan, so the
exact mapping is covered whether or not the runtime records node ids yet.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowc.cli import app
from flowc.compiler.render.runs import STYLES
from flowc.plan import Plan

FLOW = """\
from pathlib import Path

from flowc import flow, task

Path(__file__).with_name("imported.marker").write_text("the file was imported")


@task
def greet(name: str) -> str:
    return f"hello {name}"


@task
def square(x: int) -> int:
    return x * x


@task
def boom(x: int) -> int:
    raise ValueError(f"boom {x}")


@task
def after(x: int) -> int:
    return x + 1


@task
def never() -> int:
    return 0


@flow(name="pipeline")
def pipeline(extra: bool = False) -> int:
    greet.submit("a").wait()
    squares = square.map([1, 2, 3, 4, 5])
    bad = boom.submit(1)
    after.submit(bad).wait()
    if extra:
        never.submit().wait()
    return sum(s.result() for s in squares)


@flow(name="other")
def other() -> str:
    return greet("x")
"""

DOT_NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[(?P<attrs>.*)\]$')
DOT_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
FILL = {state: style.fill for state, style in STYLES.items()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pipeline.py`` and ``report.json`` from one real ``flowc run --report``."""
    directory = tmp_path_factory.mktemp("graph_run")
    (directory / "pipeline.py").write_text(FLOW)
    command = ["run", "pipeline.py:pipeline", "-q", "--report", "report.json"]
    done = subprocess.run(
        [sys.executable, "-m", "flowc", *command],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr
    (directory / "imported.marker").unlink()
    return directory


@pytest.fixture
def flow_file(workdir: Path) -> Path:
    return workdir / "pipeline.py"


@pytest.fixture
def report(workdir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((workdir / "report.json").read_text())
    return data


@pytest.fixture
def write_report(tmp_path: Path) -> Callable[[Any], Path]:
    def write(content: Any) -> Path:
        path = tmp_path / "report.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["graph", *map(str, args)], catch_exceptions=False)


def graph_ok(*args: str | Path) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    text: str = result.stdout
    return text


def dot_nodes(source: str) -> dict[str, dict[str, str]]:
    nodes = {}
    for line in source.splitlines():
        match = DOT_NODE.match(line)
        if match and " -> " not in line and not match["id"].startswith("legend:"):
            nodes[match["id"]] = dict(DOT_ATTR.findall(match["attrs"]))
    return nodes


def fills(source: str) -> dict[str, str]:
    """Node id -> the state whose fill it has."""
    by_fill = {fill: state for state, fill in FILL.items()}
    return {node: by_fill[attrs["fillcolor"]] for node, attrs in dot_nodes(source).items()}


def plan_ids(flow_file: Path, *args: str) -> dict[str, list[str]]:
    """Task name -> its node ids in plan order, from ``flowc graph --format json``."""
    plan = Plan.from_json(graph_ok(f"{flow_file}:pipeline", "--format", "json", *args))
    ids: dict[str, list[str]] = {}
    for node in plan.flow().nodes:
        ids.setdefault(node.task, []).append(node.id)
    return ids


def without_nodes(report: dict[str, Any]) -> dict[str, Any]:
    """The report as an older runtime wrote it: no ``node`` on any record."""
    older = copy.deepcopy(report)
    for run in older["task_runs"]:
        run.pop("node", None)
    return older


def with_nodes(report: dict[str, Any], flow_file: Path) -> dict[str, Any]:
    """The report with ``node`` ids derived from the expanded plan (the i-th run of a task)."""
    ids = plan_ids(flow_file, "--expand")
    given = copy.deepcopy(report)
    seen: dict[str, int] = {}
    for run in given["task_runs"]:
        i = seen[run["task"]] = seen.get(run["task"], -1) + 1
        run["node"] = ids[run["task"]][i]
    return given


# --------------------------------------------------------------------------- the real report

EXPECTED = {"greet": "completed", "square": "completed", "boom": "failed", "after": "notready"}


def by_task(states: dict[str, str]) -> dict[str, str]:
    return {node_id.split("@")[0]: state for node_id, state in states.items()}


def test_the_real_report_colours_every_call_site(flow_file: Path, workdir: Path) -> None:
    source = graph_ok(flow_file, "--run", workdir / "report.json")
    assert by_task(fills(source)) == EXPECTED
    square = next(a for n, a in dot_nodes(source).items() if n.startswith("square@"))
    assert square["label"].endswith("\\n5 ✓")
    boom = next(a for n, a in dot_nodes(source).items() if n.startswith("boom@"))
    assert "ValueError: boom 1" in boom["tooltip"]
    assert 'label="pipeline\\nrun pipeline-' in source
    assert "legend:state:failed" in source


def test_the_real_report_expanded_colours_every_run(flow_file: Path, workdir: Path) -> None:
    source = graph_ok(flow_file, "--expand", "--run", workdir / "report.json")
    states = fills(source)
    assert sorted(states) == sorted(
        i for ids in plan_ids(flow_file, "--expand").values() for i in ids
    )
    assert len([n for n in states if n.startswith("square@")]) == 5
    assert set(by_task(states).items()) == set(EXPECTED.items())


def test_the_mapping_is_by_node_when_the_report_has_node_ids(
    flow_file: Path, workdir: Path, report: dict[str, Any]
) -> None:
    source = graph_ok(flow_file, "--run", workdir / "report.json")
    has_nodes = all(run.get("node") for run in report["task_runs"])
    assert ("mapped to nodes by task name" in source) is not has_nodes


def test_a_node_not_run_is_white_and_dashed(flow_file: Path, workdir: Path) -> None:
    source = graph_ok(flow_file, "-p", "extra=true", "--run", workdir / "report.json")
    never = next(a for n, a in dot_nodes(source).items() if n.startswith("never@"))
    assert never["fillcolor"] == FILL["notrun"]
    assert "dashed" in never["style"]
    assert "no run recorded" in never["tooltip"]


def test_graph_never_imports_the_flow_file(flow_file: Path, workdir: Path) -> None:
    for fmt in ("dot", "mermaid", "json"):
        graph_ok(flow_file, "-f", fmt, "--run", workdir / "report.json")
    assert not (workdir / "imported.marker").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
def test_svg_carries_the_state_colours(flow_file: Path, workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.svg"
    assert graph_ok(flow_file, "--run", workdir / "report.json", "-o", out) == ""
    svg = out.read_text()
    for state in ("completed", "failed", "notready"):
        assert f'fill="{FILL[state]}"' in svg


# --------------------------------------------------------------------------- by name, by node


def test_without_node_ids_runs_are_mapped_by_task_name(
    flow_file: Path, report: dict[str, Any], write_report: Callable[[Any], Path]
) -> None:
    path = write_report(without_nodes(report))
    source = graph_ok(flow_file, "--expand", "--run", path)
    assert set(by_task(fills(source)).items()) == set(EXPECTED.items())
    assert "8 task run(s) mapped to nodes by task name (no node ids in the report)" in source
    mermaid = graph_ok(flow_file, "--expand", "-f", "mermaid", "--run", path)
    assert "%% 8 task run(s) mapped to nodes by task name" in mermaid
    run = json.loads(graph_ok(flow_file, "-f", "json", "--run", path))["run"]
    assert (run["mapped_by"], run["unmatched"]) == ("name", 0)


def test_hand_written_node_ids_map_exactly(
    flow_file: Path, report: dict[str, Any], write_report: Callable[[Any], Path]
) -> None:
    given = with_nodes(report, flow_file)
    third = next(r for r in given["task_runs"] if r["node"].endswith("#3"))
    third["state"] = {"type": "FAILED", "name": "Failed", "message": "bad item"}
    path = write_report(given)

    expanded = fills(graph_ok(flow_file, "--expand", "--run", path))
    assert expanded[third["node"]] == "failed"
    others = [n for n in expanded if n.startswith("square@") and n != third["node"]]
    assert [expanded[n] for n in others] == ["completed"] * 4

    collapsed = graph_ok(flow_file, "--run", path)
    assert "mapped to nodes by task name" not in collapsed
    site = third["node"].rpartition("#")[0]
    assert dot_nodes(collapsed)[site]["label"].endswith("\\n4 ✓ · 1 ✗")
    assert dot_nodes(collapsed)[site]["fillcolor"] == FILL["failed"]


def test_mermaid_classes_per_node(
    flow_file: Path, report: dict[str, Any], write_report: Callable[[Any], Path]
) -> None:
    path = write_report(with_nodes(report, flow_file))
    source = graph_ok(flow_file, "-f", "mermaid", "--run", path)
    ids = plan_ids(flow_file)

    def mid(node_id: str) -> str:
        return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node_id)

    lines = source.splitlines()
    for task, state in EXPECTED.items():
        assert any(
            line.strip().startswith("class ")
            and line.endswith(f" run_{state}")
            and mid(ids[task][0]) in line.split()[1].split(",")
            for line in lines
        ), (task, state)
    assert f"classDef run_failed fill:{FILL['failed']}" in source
    assert "square ×5 · line" in source and "· 5 ✓" in source


def test_json_wraps_the_plan_and_adds_per_node_counts(
    flow_file: Path, report: dict[str, Any], write_report: Callable[[Any], Path]
) -> None:
    path = write_report(with_nodes(report, flow_file))
    document = json.loads(graph_ok(flow_file, "-f", "json", "--run", path))
    assert document["schema"] == "flowc.graph-run/1"
    plan = Plan.model_validate(document["plan"])
    assert [f.name for f in plan.flows] == ["pipeline"]
    nodes = document["run"]["nodes"]
    assert set(nodes) == {n.id for n in plan.flow().nodes}
    square = next(v for k, v in nodes.items() if k.startswith("square@"))
    assert square == {"state": "completed", "runs": 5, "counts": {"Completed": 5}}
    assert document["run"]["mapped_by"] == "node"
    assert document["run"]["flow"] == "pipeline"


def test_unmatched_runs_are_a_one_line_note(
    flow_file: Path, report: dict[str, Any], write_report: Callable[[Any], Path]
) -> None:
    given = with_nodes(report, flow_file)
    extra = copy.deepcopy(given["task_runs"][0])
    extra["node"] = "gone@99#0"
    given["task_runs"].append(extra)
    result = invoke(flow_file, "--run", write_report(given))
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        "note: 1 of 9 task run(s) in the report match no node of the plan "
        "(a different version of the file, or other --param?)"
    )


def test_a_file_with_several_flows_draws_the_reports_flow(flow_file: Path, workdir: Path) -> None:
    source = graph_ok(flow_file, "--run", workdir / "report.json")
    assert "cluster_flow:" not in source  # only pipeline, drawn bare
    assert set(by_task(fills(source))) == set(EXPECTED)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{oops", "not valid JSON (Expecting property name enclosed in double quotes: line 1"),
        (
            {"schema": "flowc.plan/1", "flows": []},
            "not a flowc.run/1 report (schema 'flowc.plan/1')",
        ),
        ([], "not a flowc.run/1 report (a JSON object was expected)"),
    ],
)
def test_a_bad_report_exits_2_and_writes_nothing(
    flow_file: Path, tmp_path: Path, write_report: Callable[[Any], Path], content: Any, problem: str
) -> None:
    path = write_report(content)
    out = tmp_path / "out.dot"
    result = invoke(flow_file, "--run", path, "-o", out)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"--run {path}: {problem}")
    assert not out.exists()


def test_a_missing_report_exits_2(flow_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.svg"
    result = invoke(flow_file, "--run", tmp_path / "nope.json", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"--run {tmp_path / 'nope.json'}: cannot read the report: No such file or directory"
    )
    assert not out.exists()


def test_a_report_of_another_flow_exits_2(
    flow_file: Path, workdir: Path, tmp_path: Path, report: dict[str, Any]
) -> None:
    out = tmp_path / "out.mmd"
    path = workdir / "report.json"
    result = invoke(f"{flow_file}:other", "--run", path, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"--run {path}: a report of flow 'pipeline', but {flow_file}:other is flow 'other'"
    )
    assert not out.exists()
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps({**report, "flow": "elsewhere"}))
    result = invoke(flow_file, "--run", renamed, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"--run {renamed}: a report of flow 'elsewhere', which {flow_file} does not define "
        "(its flows: pipeline, other)"
    )
    assert not out.exists()
