"""``flowc run FILE --html PAGE``: the run just made, written as the interactive page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 300
#: each test runs flowc as a process, maybe several times, on a loaded machine
pytestmark = pytest.mark.timeout(900)

FLOW = """\
from flowc import flow, task


@task
def double(x):
    return 2 * x


@flow
def doubler(n: int = 3):
    return sum(f.result() for f in double.map(range(n)))
"""


def flowc(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "COLUMNS": "200"},
    )


def page_data(page: Path) -> dict:
    found = re.search(r'id="flowc-data">(.*?)</script>', page.read_text(), re.S)
    assert found is not None
    return json.loads(found.group(1))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")
def test_run_writes_the_page_of_the_run(tmp_path: Path) -> None:
    (tmp_path / "doubler.py").write_text(FLOW)
    done = flowc("run", "doubler.py", "-p", "n=5", "--html", "run.html", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = page_data(tmp_path / "run.html")
    run = data["run"]
    assert run["stateName"] == "Completed" and run["result"] == "20"
    assert run["taskRuns"] == 5 and len(run["timeline"]) == 5
    (node,) = data["flows"][0]["nodes"]
    assert node["id"] == "double@11" and node["count"] == 5  # compiled with the run's params
    assert node["state"] == "completed"
    assert sorted(r["i"] for r in node["runs"]) == [0, 1, 2, 3, 4]


def test_a_page_that_cannot_be_written_fails_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "doubler.py").write_text(FLOW.replace("return 2 * x", "print('RAN')\n    return 2"))
    done = flowc("run", "doubler.py", "--html", "missing/run.html", cwd=tmp_path)
    assert done.returncode == 2
    assert "--html missing/run.html: directory 'missing' does not exist" in done.stderr
    assert "RAN" not in done.stdout
