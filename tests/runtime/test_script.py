"""``flowc.runtime.script``: a flow file run as ``python FILE ARGS`` (``flowc run --main``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flowc.runtime import script
from flowc.runtime.loader import RunRequest, Target

FLOWS = Path(__file__).parent.parent / "cli" / "flows"


def run(name: str, *args: str) -> script.ScriptOutcome:
    return script.run_script(RunRequest(Target(FLOWS / name)), list(args))


def test_the_main_block_runs_with_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    argv = list(sys.argv)
    outcome = run("main_block.py", "--verbose", "x")
    out = capsys.readouterr().out
    assert "report: abab" in out and "argv: ['--verbose', 'x']" in out
    assert [run.name for run in outcome.flow_runs] == ["report"]
    assert outcome.error is None and outcome.exit_status == 0
    assert sys.argv == argv and "__main__" in sys.modules and sys.modules["__main__"] is not None


def test_every_top_level_flow_run_is_kept_in_order() -> None:
    outcome = run("script_runs.py", "2", "3")
    assert [(run.parameters["n"], run.state.data) for run in outcome.flow_runs] == [(2, 1), (3, 5)]
    report = script.build_script_report(outcome)
    assert report["schema"] == "flowc.run/1"
    assert report["script"] == {
        "file": str(FLOWS / "script_runs.py"),
        "argv": [str(FLOWS / "script_runs.py"), "2", "3"],
        "exit_status": 0,
    }
    runs = report["top_level_runs"]
    assert [len(item["task_runs"]) for item in runs] == [2, 3]
    assert (
        report["flow_run"] == runs[-1]["flow_run"] and report["task_runs"] == runs[-1]["task_runs"]
    )


def test_the_scripts_exit_status_is_pythons() -> None:
    outcome = run("script_runs.py", "1", "fail")
    assert len(outcome.flow_runs) == 1
    assert isinstance(outcome.error, SystemExit) and outcome.exit_status == 1
    assert run("script_runs.py", "x").exit_status == 1  # ValueError from int("x")
    assert script.exit_status(SystemExit(3)) == 3
    assert script.exit_status(SystemExit(None)) == 0
    assert script.exit_status(None) == 0


def test_a_script_that_runs_no_flow_has_no_report() -> None:
    outcome = run("script_runs.py")
    assert outcome.flow_runs == [] and outcome.exit_status == 0
    with pytest.raises(ValueError, match="no flow run"):
        script.build_script_report(outcome)
