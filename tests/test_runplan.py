"""``flowc.runplan``: the facts a run takes from its flow's plan, and the cache that keeps them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import flowc.compiler
from flowc import runplan

STATIC = """
from prefect import flow, task
from helpers import double


@flow
def static(n: int = 3):
    return sum(f.result() for f in double.map(range(n)))
"""

HELPERS = """
from prefect import task


@task
def double(x):
    return 2 * x
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLOWC_NO_CACHE", raising=False)
    (tmp_path / "helpers.py").write_text(HELPERS)
    flow = tmp_path / "static.py"
    flow.write_text(STATIC)
    return flow


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every compile the plan choice makes, still made."""
    made: list[Path] = []
    real = flowc.compiler.compile_file

    def counting(path: Path, **options: object) -> object:
        made.append(Path(path))
        return real(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(flowc.compiler, "compile_file", counting)
    return made


def test_an_unchanged_file_is_compiled_once(project: Path, compiles: list[Path]) -> None:
    first = runplan.choose_plan(project, None, "auto", {"n": 4})
    again = runplan.choose_plan(project, None, "auto", {"n": 4})
    assert first == again and first.plan is not None
    assert first.plan.name == "static" and first.plan.counts == (("double", 4),)
    assert len(compiles) == 1


def test_the_file_its_modules_and_its_parameters_are_part_of_the_key(
    project: Path, compiles: list[Path]
) -> None:
    runplan.choose_plan(project, None, "auto", {"n": 4})
    assert runplan.choose_plan(project, None, "auto", {"n": 5}).plan.counts == (("double", 5),)  # type: ignore[union-attr]
    project.write_text(STATIC.replace("range(n)", "range(n + 1)"))
    assert runplan.choose_plan(project, None, "auto", {"n": 4}).plan.counts == (("double", 5),)  # type: ignore[union-attr]
    helpers = project.parent / "helpers.py"
    helpers.write_text(HELPERS.replace("@task", "@task(name='twice')"))
    assert runplan.choose_plan(project, None, "auto", {"n": 4}).plan.counts == (("twice", 5),)  # type: ignore[union-attr]
    assert len(compiles) == 4


def test_a_broken_entry_is_compiled_again(project: Path, compiles: list[Path]) -> None:
    runplan.choose_plan(project, None, "auto", None)
    for entry in (project.parent / "home").rglob("*.json"):
        entry.write_text('{"payload": {"flows": [{"name": 3}]}, "deps": {}}')
    choice = runplan.choose_plan(project, None, "auto", None)
    assert choice.plan is not None and choice.plan.name == "static" and len(compiles) == 2


def test_flowc_no_cache_compiles_every_time(
    project: Path, compiles: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWC_NO_CACHE", "1")
    runplan.choose_plan(project, None, "auto", None)
    runplan.choose_plan(project, None, "auto", None)
    assert len(compiles) == 2 and not (project.parent / "home").exists()


def test_a_graph_break_read_from_the_cache_still_refuses_plan_on(project: Path) -> None:
    project.write_text(
        STATIC.replace(
            "    return sum(f.result() for f in double.map(range(n)))",
            "    if double.submit(n).result() > 2:\n        return double.submit(1).result()",
        )
    )
    first = runplan.choose_plan(project, None, "auto", None)
    assert first.plan is None and first.note and "graph break" in first.note
    assert runplan.choose_plan(project, None, "auto", None) == first
    with pytest.raises(runplan.PlanError, match="cannot run flow 'static' from its plan"):
        runplan.choose_plan(project, None, "on", None)


@pytest.mark.timeout(300)
def test_a_rerun_from_the_cache_loads_neither_libcst_nor_pydantic_plans(project: Path) -> None:
    code = (
        "import sys\n"
        "from flowc.cli import main\n"
        f"sys.argv = ['flowc', 'run', {str(project)!r}, '--plan', 'on', '-q']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print(sorted(m for m in ('libcst', 'flowc.plan', 'flowc.compiler') if m in sys.modules))\n"
    )
    env_home = str(project.parent / "home")
    for expected in ("['flowc.compiler', 'flowc.plan', 'libcst']", "[]"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=project.parent,
            env={**os.environ, "FLOWC_HOME": env_home},
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == expected
