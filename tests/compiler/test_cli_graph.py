"""``flowc graph``: formats, outputs, errors — in process on hand-built plans (the compile step
replaced), then end to end on fixture files in a real ``python -m flowc``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from flowc.cli import app
from flowc.compiler import targets
from flowc.compiler.render import DOT_MISSING
from flowc.plan import Edge, FlowPlan, Node, Plan

FIXTURES = Path(__file__).parent / "render_fixtures"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def _has_compiler() -> bool:
    try:
        from flowc.compiler import compile_file  # noqa: F401
    except ImportError:
        return False
    return True


needs_compiler = pytest.mark.skipif(not _has_compiler(), reason="flowc.compiler not written yet")


def flow(name: str, *tasks: str) -> FlowPlan:
    """A chain ``tasks[0] -> tasks[1] -> ...`` on lines 10, 11, ..."""
    nodes = [
        Node(id=f"{t}@{10 + i}", task=t, kind="submit", flow=name, line=10 + i, col=4, count=1)
        for i, t in enumerate(tasks)
    ]
    edges = [
        Edge(source=a.id, target=b.id, kind="future")
        for a, b in zip(nodes, nodes[1:], strict=False)
    ]
    return FlowPlan(
        name=name, qualname=name.replace("-", "_"), file="f.py", nodes=nodes, edges=edges
    )


PLANS = {
    "one.py": Plan(source_sha256="abc", flows=[flow("one", "load", "save")]),
    "two.py": Plan(flows=[flow("first", "a", "b"), flow("second", "c")]),
    "none.py": Plan(),
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the compile step by ``PLANS``; returns the calls it received."""
    calls: list[dict[str, Any]] = []

    def compile_(
        path: Path, name: str | None, expand: bool, params: Any, unlisted: bool = False
    ) -> SimpleNamespace:
        calls.append({"path": path, "flow": name, "expand": expand, "params": params})
        if path.name not in PLANS:
            raise targets.CommandError(f"{path}:1:0: file not found")
        return SimpleNamespace(plan=PLANS[path.name])

    monkeypatch.setattr(targets, "_compile", compile_)
    return calls


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


# --------------------------------------------------------------------------- in process


def test_dot_to_stdout_by_default(fake: list[dict[str, Any]]) -> None:
    result = invoke("graph", "one.py")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph flowc {")
    assert '"load@10" -> "save@11"' in result.stdout
    assert fake == [{"path": Path("one.py"), "flow": None, "expand": False, "params": None}]


def test_mermaid_and_json_to_stdout(fake: list[dict[str, Any]]) -> None:
    mermaid = invoke("graph", "one.py", "--format", "mermaid")
    assert mermaid.exit_code == 0
    assert mermaid.stdout.startswith("flowchart LR\n")
    plan = Plan.from_json(invoke("graph", "one.py", "-f", "json").stdout)
    assert plan == PLANS["one.py"]


@pytest.mark.parametrize(
    ("suffix", "check"),
    [
        (".dot", lambda data: data.startswith(b"digraph")),
        (".mmd", lambda data: data.startswith(b"flowchart LR")),
        (".json", lambda data: json.loads(data)["schema"] == "flowc.plan/1"),
        pytest.param(".svg", lambda data: ET.fromstring(data) is not None, marks=needs_dot),
        pytest.param(".png", lambda data: data.startswith(PNG_SIGNATURE), marks=needs_dot),
    ],
)
def test_format_from_the_output_suffix(
    fake: list[dict[str, Any]], tmp_path: Path, suffix: str, check: Any
) -> None:
    out = tmp_path / f"graph{suffix}"
    result = invoke("graph", "one.py", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert check(out.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


def test_params_expand_and_flow_name_reach_the_compiler(fake: list[dict[str, Any]]) -> None:
    result = invoke("graph", "two.py:second", "--expand", "-p", "n=3", "-p", "names=[1,2]")
    assert result.exit_code == 0, result.stderr
    assert fake[0] == {
        "path": Path("two.py"),
        "flow": "second",
        "expand": True,
        "params": {"n": 3, "names": [1, 2]},
    }
    assert '"c@10"' in result.stdout and "a@10" not in result.stdout


def test_several_flows_are_drawn_each_in_a_cluster(fake: list[dict[str, Any]]) -> None:
    result = invoke("graph", "two.py")
    assert 'subgraph "cluster_flow:first"' in result.stdout
    assert 'subgraph "cluster_flow:second"' in result.stdout


def test_json_of_a_named_flow_is_wrapped_in_a_plan(fake: list[dict[str, Any]]) -> None:
    plan = Plan.from_json(invoke("graph", "two.py:first", "-f", "json").stdout)
    assert [f.name for f in plan.flows] == ["first"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["none.py"], "none.py: no flow found (a flow is a function decorated with @flow)"),
        (["two.py:third"], "two.py: no flow named 'third' (its flows: first, second)"),
        (["missing.py"], "missing.py:1:0: file not found"),
        (["one.py", "-p", "n"], "--param 'n': expected NAME=VALUE, e.g. --param n=3"),
        (["one.py", "-p", "n=1", "-p", "n=2"], "--param n given twice"),
        (
            ["one.py", "-f", "jpeg"],
            "--format 'jpeg': expected one of svg, png, dot, mermaid, json, html",
        ),
        (["one.py", "-f", "png"], "PNG is binary: write it with -o out.png"),
        (["one.py:"], "one.py:: empty flow name after ':' (use FILE or FILE:FLOW)"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    fake: list[dict[str, Any]], args: list[str], message: str
) -> None:
    result = invoke("graph", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_unknown_suffix_exits_2_and_writes_nothing(
    fake: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = invoke("graph", "one.py", "-o", tmp_path / "g.txt")
    assert result.exit_code == 2
    assert "cannot tell the format from the suffix '.txt'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_exits_2(fake: list[dict[str, Any]], tmp_path: Path) -> None:
    result = invoke("graph", "one.py", "-o", tmp_path / "no" / "such" / "dir.dot")
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_an_existing_output_survives_a_failure(fake: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    out.write_text("old")
    assert invoke("graph", "none.py", "-o", out).exit_code == 2
    assert out.read_text() == "old"
    assert invoke("graph", "one.py", "-o", out).exit_code == 0
    assert out.read_text().startswith("digraph")


def test_missing_dot_exits_2_with_the_install_hint(
    fake: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    for suffix in ("svg", "png"):
        result = invoke("graph", "one.py", "-o", tmp_path / f"g.{suffix}")
        assert result.exit_code == 2
        assert result.stderr.strip() == DOT_MISSING
    assert list(tmp_path.iterdir()) == []
    assert invoke("graph", "one.py", "-o", tmp_path / "g.mmd").exit_code == 0


def test_max_runs_reaches_the_renderer(fake: list[dict[str, Any]]) -> None:
    runs = [
        Node(id=f"w@2#{i}", task="w", kind="map", flow="x", line=2, col=0, site="w@2", index=i)
        for i in range(5)
    ]
    PLANS["expanded.py"] = Plan(
        flows=[FlowPlan(name="x", qualname="x", file="e.py", nodes=runs, expanded=True)]
    )
    try:
        assert '"w@2#4"' in invoke("graph", "expanded.py").stdout
        folded = invoke("graph", "expanded.py", "--max-runs", "4").stdout
        assert '"w@2"' in folded and "w ×5" in folded and "more than 4 runs" in folded
    finally:
        del PLANS["expanded.py"]


# --------------------------------------------------------------------------- end to end


def flowc(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=FIXTURES,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


@needs_compiler
def test_graph_of_a_real_file_to_dot_mermaid_json() -> None:
    dot = flowc("graph", "pipeline.py")
    assert dot.returncode == 0, dot.stderr
    for task in ("announce", "source", "square", "total"):
        assert f'label="{task}' in dot.stdout
    mermaid = flowc("graph", "pipeline.py:pipeline", "--format", "mermaid")
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("flowchart LR")
    plan = Plan.from_json(flowc("graph", "pipeline.py:pipeline", "-f", "json").stdout)
    assert [f.name for f in plan.flows] == ["pipeline"]


@needs_compiler
@needs_dot
def test_graph_of_a_real_file_to_svg_and_png(tmp_path: Path) -> None:
    for suffix in ("svg", "png"):
        out = tmp_path / f"pipeline.{suffix}"
        result = flowc("graph", "pipeline.py", "-o", out)
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 0
    ET.parse(tmp_path / "pipeline.svg")
    assert (tmp_path / "pipeline.png").read_bytes().startswith(PNG_SIGNATURE)


@needs_compiler
def test_missing_dot_in_a_real_process(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = flowc("graph", "pipeline.py", "-o", tmp_path / "g.svg", env={"PATH": str(empty)})
    assert result.returncode == 2
    assert result.stderr.strip() == DOT_MISSING
    assert not (tmp_path / "g.svg").exists()


@needs_compiler
def test_expand_with_max_runs_recollapses() -> None:
    expanded = flowc("graph", "expand.py", "--expand", "--max-runs", "100")
    assert expanded.returncode == 0, expanded.stderr
    assert "double@" in expanded.stdout and "#29" in expanded.stdout
    folded = flowc("graph", "expand.py", "--expand")
    assert folded.returncode == 0, folded.stderr
    assert "#29" not in folded.stdout
    assert "×30" in folded.stdout and "more than 20 runs drawn collapsed" in folded.stdout


@needs_compiler
def test_real_bad_input_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from flowc import flow\n\n@flow\ndef f(:\n    pass\n")
    undecodable = tmp_path / "latin.py"
    undecodable.write_bytes(b"# \xff\xfe\xfa\n@flow\ndef f():\n    pass\n")
    for target in (broken, undecodable, tmp_path, tmp_path / "missing.py"):
        result = flowc("graph", target)
        assert result.returncode == 2, (target, result.stderr)
        assert result.stderr.startswith(str(target)), result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
    assert re.match(
        rf"{re.escape(str(broken))}:\d+:\d+: syntax error", flowc("graph", broken).stderr
    )
    no_flow = flowc("graph", "no_flow.py")
    assert no_flow.returncode == 2
    assert no_flow.stderr.strip() == (
        "no_flow.py: no flow found (a flow is a function decorated with @flow)"
    )
    unknown = flowc("graph", "two_flows.py:third")
    assert unknown.returncode == 2
    assert "no flow named 'third'" in unknown.stderr
    assert "first-flow" in unknown.stderr and "second-flow" in unknown.stderr


@needs_compiler
def test_two_flows_drawn_together_or_one_by_name() -> None:
    both = flowc("graph", "two_flows.py")
    assert both.returncode == 0, both.stderr
    assert "cluster_flow:first-flow" in both.stdout and "cluster_flow:second-flow" in both.stdout
    one = flowc("graph", "two_flows.py:second-flow")
    assert one.returncode == 0, one.stderr
    assert "cluster_flow" not in one.stdout


@needs_compiler
def test_an_expanded_large_map_is_written_run_by_run_as_json(tmp_path: Path) -> None:
    """The runs of a large map are listed only as the JSON is written, and come out as the
    listed plan would: one node per run, run i of the second map after run i of the first."""
    from flowc.compiler import compile_file

    source = tmp_path / "two.py"
    source.write_text(
        "from prefect import flow, task\n\n\n@task\ndef inc(x):\n    return x + 1\n\n\n"
        "@flow\ndef two(n: int = 3):\n    a = inc.map(range(n))\n    b = inc.map(a)\n"
        "    return sum(b.result())\n"
    )
    out = tmp_path / "two.json"
    result = invoke("graph", source, "--expand", "-p", "n=2500", "-f", "json", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "wrote" in result.stderr and "(JSON, 1 flow)" in result.stderr
    listed = compile_file(source, expand=True, parameters={"n": 2500}).plan
    assert out.read_text() == listed.to_json() + "\n"
    (flow_plan,) = json.loads(out.read_text())["flows"]
    assert len(flow_plan["nodes"]) == 5000
    assert {"source": "inc@11#2499", "target": "inc@12#2499", "kind": "future"} in flow_plan[
        "edges"
    ]
    compiled = invoke("compile", source, "--expand", "-p", "n=2500")
    assert compiled.exit_code == 0 and compiled.stdout == out.read_text()
