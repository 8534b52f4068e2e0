"""``flowc compile`` and ``flowc explain``; and that no compile-side command runs the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from flowc.cli import app
from flowc.compiler import targets
from flowc.plan import Edge, FlowPlan, GraphBreak, Node, Plan

FIXTURES = Path(__file__).parent / "render_fixtures"


def _has_compiler() -> bool:
    try:
        from flowc.compiler import compile_file  # noqa: F401
    except ImportError:
        return False
    return True


needs_compiler = pytest.mark.skipif(not _has_compiler(), reason="flowc.compiler not written yet")


def fan() -> FlowPlan:
    """load -> square×4 -> total, plus a dynamic node and a graph break."""
    nodes = [
        Node(id="load@3", task="load", kind="submit", flow="fan", line=3, col=4, count=1),
        Node(id="square@4", task="square", kind="map", flow="fan", line=4, col=4, count=4),
        Node(id="total@5", task="total", kind="submit", flow="fan", line=5, col=4, count=1),
        Node(
            id="more@6", task="more", kind="map", flow="fan", line=6, col=4, dynamic="over a result"
        ),
    ]
    edges = [
        Edge(source="load@3", target="square@4", kind="future"),
        Edge(source="square@4", target="total@5", kind="future"),
        Edge(source="load@3", target="more@6", kind="value"),
    ]
    breaks = [GraphBreak(line=8, col=4, reason="while loop")]
    return FlowPlan(
        name="fan", qualname="fan", file="fan.py", nodes=nodes, edges=edges, breaks=breaks
    )


PLANS = {"fan.py": Plan(source_sha256="x", flows=[fan()]), "none.py": Plan()}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    def compile_(
        path: Path, name: str | None, expand: bool, params: Any, unlisted: bool = False
    ) -> SimpleNamespace:
        return SimpleNamespace(plan=PLANS[path.name])

    monkeypatch.setattr(targets, "_compile", compile_)


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


# --------------------------------------------------------------------------- in process


def test_compile_to_stdout_and_to_a_file(fake: None, tmp_path: Path) -> None:
    result = invoke("compile", "fan.py")
    assert result.exit_code == 0
    assert Plan.from_json(result.stdout) == PLANS["fan.py"]
    out = tmp_path / "plan.json"
    assert invoke("compile", "fan.py:fan", "-o", out).exit_code == 0
    assert Plan.from_json(out.read_text()) == PLANS["fan.py"]


def test_compile_without_a_flow_exits_2(fake: None, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = invoke("compile", "none.py", "-o", out)
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "none.py: no flow found (a flow is a function decorated with @flow)"
    )
    assert not out.exists()


def test_explain_text(fake: None) -> None:
    result = invoke("explain", "fan.py")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "flow fan" in out
    assert "≥ 6, plus dynamic" in out
    assert "5 (exact)" in out  # width: square×4 alongside more@6 (counted as one run)
    assert "load@3 → square@4 → total@5" in out
    assert "line 8:4: while loop" in out
    assert "more@6 (line 6): over a result" in out


def test_explain_json(fake: None) -> None:
    result = invoke("explain", "fan.py", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "flowc.explain/1"
    (flow,) = data["flows"]
    assert flow["task_runs"] == 6 and flow["task_runs_exact"] is False
    assert flow["depth"] == 3
    assert flow["edges"] == {"future": 2, "wait_for": 0, "value": 1}


def test_explain_bad_format_and_no_flow(fake: None) -> None:
    bad = invoke("explain", "fan.py", "--format", "yaml")
    assert bad.exit_code == 2 and "--format 'yaml': expected text or json" in bad.stderr
    none = invoke("explain", "none.py")
    assert none.exit_code == 2 and "no flow found" in none.stderr


# --------------------------------------------------------------------------- end to end


def flowc(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=FIXTURES,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


@needs_compiler
def test_compile_a_real_file(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = flowc("compile", "two_flows.py", "-o", out)
    assert result.returncode == 0, result.stderr
    plan = Plan.from_json(out.read_text())
    assert [f.name for f in plan.flows] == ["first-flow", "second-flow"]
    one = Plan.from_json(flowc("compile", "two_flows.py:second").stdout)
    assert [f.name for f in one.flows] == ["second-flow"]


@needs_compiler
def test_compile_expand_with_params() -> None:
    result = flowc("compile", "expand.py", "--expand", "--param", "n=4")
    assert result.returncode == 0, result.stderr
    plan = Plan.from_json(result.stdout)
    runs = [node for node in plan.flows[0].nodes if node.task == "double"]
    assert len(runs) == 4
    assert [node.index for node in runs] == [0, 1, 2, 3]
    assert len({node.site for node in runs}) == 1


@needs_compiler
def test_explain_a_real_file() -> None:
    text = flowc("explain", "pipeline.py:pipeline")
    assert text.returncode == 0, text.stderr
    assert "flow pipeline" in text.stdout and "critical path" in text.stdout
    data = json.loads(flowc("explain", "expand.py", "--format", "json").stdout)
    assert data["flows"][0]["task_runs"] == 31  # double ×30 and add


@needs_compiler
@pytest.mark.parametrize(
    "args",
    [
        ["graph", "side_effects.py"],
        ["graph", "side_effects.py", "-f", "mermaid"],
        ["compile", "side_effects.py"],
        ["explain", "side_effects.py"],
    ],
)
def test_compile_side_commands_never_run_the_file(tmp_path: Path, args: list[str]) -> None:
    sentinel = tmp_path / "imported"
    result = flowc(*args, env={"FLOWC_SENTINEL": str(sentinel)})
    assert result.returncode == 0, result.stderr
    assert "work" in result.stdout  # the flow's task was found
    assert not sentinel.exists(), "the file was imported"


@pytest.mark.timeout(300)  # the subprocess's own, generous timeout fires first
def test_the_sentinel_fixture_does_fire_when_imported(tmp_path: Path) -> None:
    """The check above means something: importing the fixture does create the file."""
    sentinel = tmp_path / "imported"
    done = subprocess.run(
        [sys.executable, str(FIXTURES / "side_effects.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "FLOWC_SENTINEL": str(sentinel)},
        timeout=150,
        check=False,
    )
    assert done.returncode != 0 and "must never be imported" in done.stderr
    assert sentinel.exists()
