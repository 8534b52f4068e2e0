"""``flowc explain --optimized`` names the flow's runner and says why nothing was fused."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flowc.cli import app

README = """\
from flowc import flow, task
from flowc.task_runners import ThreadPoolTaskRunner

@task(retries=2)
def fetch(page: int) -> list[int]:
    return list(range(page * 10, page * 10 + 10))

@task
def total(rows: list[int]) -> int:
    return sum(rows)

@flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
def report(pages: int = 3) -> int:
    rows = fetch.map(range(pages))
    sums = total.map(rows)
    return sum(s.result() for s in sums)
"""


def _explain(path: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["explain", str(path), "--optimized", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_readme_flow_on_threads_with_retries(tmp_path: Path) -> None:
    path = tmp_path / "report.py"
    path.write_text(README)
    text = _explain(path)
    assert "on a process runner" not in text
    assert text.startswith(
        "flow report: 6 task runs on threads (its ThreadPoolTaskRunner): plan mode orders them "
        "by critical path only;\nwith --runner processes, dask or ray they would be 6 calls:\n"
    )
    assert "  why: never fused or batched: fetch@14 (retries): each attempt" in text
    (flow,) = json.loads(_explain(path, "--format", "json"))
    assert flow["runner"] == "threads" and flow["runner_class"] == "ThreadPoolTaskRunner"
    assert flow["held_back"] == {"fetch@14": ["retries"]}


def test_a_process_flow_without_retries_is_fused(tmp_path: Path) -> None:
    path = tmp_path / "report.py"
    path.write_text(
        README.replace("@task(retries=2)", "@task").replace("ThreadPool", "ProcessPool")
    )
    text = _explain(path)
    assert text.startswith("flow report: 6 task runs -> 3 calls on processes (its ")
    assert "fused (2): fetch@14#0 -> total@15#0" in text and "never fused" not in text
    default = tmp_path / "default.py"
    default.write_text(README.replace("task_runner=ThreadPoolTaskRunner(max_workers=4)", ""))
    assert "on threads (Prefect's default)" in _explain(default)
