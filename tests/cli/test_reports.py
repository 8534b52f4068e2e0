"""``flowc.cli.reports``: a run's exit code, and its report written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowc.cli import reports
from flowc.cli.targets import UsageError
from flowc.runtime import loader
from flowc.runtime.loader import RunRequest, Target


def test_strict_exit_code(flows_dir: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "swallowed.py")))
    assert outcome.state.is_completed()
    assert [run.task.name for run in reports.failed_task_runs(outcome.flow_run)] == ["explode"]
    assert reports.exit_code(outcome.flow_run, strict=False) == 0
    assert reports.exit_code(outcome.flow_run, strict=True) == 1


def test_a_flow_run_that_did_not_complete_exits_1(flows_dir: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "typed.py"), {"n": "abc"}))
    assert outcome.state.is_failed()
    assert reports.exit_code(outcome.flow_run, strict=False) == 1
    completed = loader.run_file(RunRequest(Target(flows_dir / "two_flows.py", "my_flow")))
    assert reports.exit_code(completed.flow_run, strict=True) == 0


def test_write_report_mode_and_content(flows_dir: Path, tmp_path: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "module_call.py")))
    target = tmp_path / "r.json"
    reports.write_report(outcome.flow_run, target)
    assert target.read_text().startswith('{\n  "schema": "flowc.run/1"')
    assert json.loads(target.read_text())["state"]["type"] == "COMPLETED"
    assert target.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode
    target.chmod(0o640)
    reports.write_report(outcome.flow_run, target)
    assert target.stat().st_mode & 0o777 == 0o640
    assert [path.name for path in tmp_path.iterdir()] == ["r.json"]  # no temporary left


def test_check_report_path(tmp_path: Path) -> None:
    reports.check_report_path(tmp_path / "r.json")
    with pytest.raises(UsageError, match=r"^--report .*: directory '.*nowhere' does not exist$"):
        reports.check_report_path(tmp_path / "nowhere" / "r.json")
    with pytest.raises(UsageError, match=r"^--html .*: is a directory; give a file path$"):
        reports.check_report_path(tmp_path, "--html")
