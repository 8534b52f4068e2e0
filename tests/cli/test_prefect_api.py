"""``flowc run`` on Prefect flow files that use Prefect's wider API (a real process each)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_artifacts_runtime_variables_and_tags(flowc: Any, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = flowc("run", "prefect_wider_api.py", "--report", report_path)
    assert result.code == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["result"] == repr(f"{report['flow_run']}:2")
    assert "hello from wider-api" in result.stdout + result.stderr
    artifacts = {artifact["key"]: artifact for artifact in report["artifacts"]}
    assert artifacts["progress"]["data"] == 100.0
    loaded = artifacts["loaded"]
    assert json.loads(loaded["data"]) == [{"n": 2, "task": "load"}]
    assert loaded["task_run"] == report["task_runs"][0]["id"]
    assert report["task_runs"][0]["tags"] == ["nightly"]
    assert "artifacts" in result.stdout and "loaded" in result.stdout
    assert "do not exist - skipping acquisition" in result.stderr  # no 'warehouse' limit


def test_limits_and_variables_come_from_the_project_and_flowc_home(
    flowc: Any, flows_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.flowc.concurrency]\nwarehouse = 1\n")
    (project / "flow.py").write_text((flows_dir / "prefect_wider_api.py").read_text())
    from flowc.variables import Variable

    Variable.set("greeting", "hi")
    result = flowc("run", "flow.py", cwd=project)
    assert result.code == 0, result.stderr
    assert "hi from wider-api" in result.stdout + result.stderr
    assert "skipping acquisition" not in result.stderr


def test_what_needs_a_server_is_one_line(flowc: Any) -> None:
    result = flowc("run", "serves.py")
    assert result.code == 1
    assert "ServerRequiredError: served.serve() needs a Prefect server" in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_a_server_only_module_is_one_line(flowc: Any, tmp_path: Path) -> None:
    path = tmp_path / "blocks.py"
    path.write_text(
        "from prefect import flow\nfrom prefect.blocks.system import Secret\n\n"
        "@flow\ndef uses_secret() -> int:\n    return 1\n"
    )
    result = flowc("run", path)
    assert result.code == 1
    assert "ServerRequiredError: prefect.blocks needs a Prefect server" in result.stderr
    assert "Traceback" not in result.stderr


def test_main_block_runs_list_their_artifacts(flowc: Any, tmp_path: Path) -> None:
    path = tmp_path / "script.py"
    path.write_text(
        "from prefect import flow\nfrom prefect.artifacts import create_link_artifact\n"
        "from prefect.variables import Variable\n\n"
        "@flow\ndef linked() -> str:\n"
        "    create_link_artifact('https://www.prefect.io/', link_text='Prefect', key='the-link')\n"
        "    return Variable.get('crew', default='nobody')\n\n"
        "if __name__ == '__main__':\n"
        "    Variable.set('crew', 'Zaphod')\n"
        "    print(linked())\n"
    )
    report_path = tmp_path / "report.json"
    result = flowc("run", "--main", path, "--report", report_path)
    assert result.code == 0, result.stderr
    assert "Zaphod" in result.stdout
    assert "the-link" in result.stdout and "[Prefect](https://www.prefect.io/)" in result.stdout
    assert "the-link" in report_path.read_text()
