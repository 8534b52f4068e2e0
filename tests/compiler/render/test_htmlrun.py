"""A run in the browser: states, timeline, durations, result or error, artifacts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler.render.htmlrun import duration_stats, lanes_for

TIMEOUT = 300
#: a browser on a loaded machine: far more than the usual 120 s per test
pytestmark = pytest.mark.timeout(300)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")

MIXED = """\
from flowc import flow, task


@task(retries=1)
def flaky(i):
    if i == 2:
        raise ValueError("bad input 2")
    return i


@task
def add(xs):
    return sum(xs)


@flow
def mixed():
    runs = flaky.map(range(4))
    total = add.submit(runs)
    total.wait()
    return "done"
"""


def test_lanes_never_overlap_and_are_as_few_as_the_peak() -> None:
    spans = [(0.0, 5.0), (1.0, 2.0), (2.0, 3.0), (4.0, 6.0), (5.0, 7.0), (1.5, 4.5)]
    lanes = lanes_for(spans)
    assert max(lanes) + 1 == 3  # at t=1.5..2 three runs are running
    for lane in set(lanes):
        mine = sorted(s for s, n in zip(spans, lanes, strict=True) if n == lane)
        assert all(a[1] <= b[0] for a, b in zip(mine, mine[1:], strict=False))
    assert lanes_for([]) == []


def test_duration_stats() -> None:
    (row,) = duration_stats({"t": [1.0, 2.0, 3.0, 4.0, 10.0]})
    assert row == {
        "task": "t",
        "timed": 5,
        "min": 1.0,
        "median": 3.0,
        "mean": 4.0,
        "p95": 10.0,
        "max": 10.0,
        "total": 20.0,
    }
    rows = duration_stats({"short": [1.0], "long": [2.0, 3.0]})
    assert [r["task"] for r in rows] == ["long", "short"]  # most time first


def flowc(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run of MIXED: three flaky runs complete, one fails after a retry, add NotReady."""
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "mixed.py").write_text(MIXED)
    done = flowc("run", "mixed.py", "--report", "report.json", "-q", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def graph_page(folder: Path, report: str = "report.json", page: str = "run.html") -> Path:
    done = flowc("graph", "mixed.py", "--run", report, "--format", "html", "-o", page, cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / page


@needs_dot
def test_run_page_shows_states_timeline_and_stats(mixed_run: Path, browser, screenshots) -> None:
    opened = browser.open(graph_page(mixed_run))
    page = opened.page
    assert "Completed" in page.locator("#run").inner_text()
    assert page.locator("#run pre.result").inner_text() == "'done'"
    page.click('[id="node:flaky@18"]')
    details = page.locator("#details").inner_text()
    assert "run state\tFailed — 3 Completed, 1 Failed" in details
    page.click("button.expand")
    runs = page.locator('.runs-list[data-node="node:flaky@18"] .run')
    assert runs.count() == 4
    assert "Failed" in runs.nth(2).get_attribute("title")
    assert "2 attempts" in runs.nth(2).get_attribute("title")
    assert "bad input 2" in runs.nth(2).get_attribute("title")
    bars = page.locator("#timeline rect.bar")
    assert bars.count() == 4  # add never started (NotReady): it has no bar
    states = sorted(bars.evaluate_all("els => els.map(e => e.dataset.state)"))
    assert states == ["completed", "completed", "completed", "failed"]
    stats = page.locator("#stats tr").all_inner_texts()
    assert any(row.startswith("flaky\t4\t1\t1\t") for row in stats), stats
    legend = page.locator("#legend").inner_text()
    assert "Failed / Crashed / TimedOut" in legend and "NotReady" in legend
    assert "Completed / Cached" in legend and "Cancelled" not in legend
    page.screenshot(path=str(screenshots / "run.png"))
    assert opened.errors == []
    assert opened.foreign_requests == []


@needs_dot
def test_artifacts_are_shown_when_the_report_has_them(mixed_run: Path, browser) -> None:
    report = json.loads((mixed_run / "report.json").read_text())
    report["artifacts"] = [
        {"key": "summary", "type": "markdown", "description": "totals", "data": "# 42 rows"}
    ]
    (mixed_run / "with-artifacts.json").write_text(json.dumps(report))
    opened = browser.open(graph_page(mixed_run, "with-artifacts.json", "artifacts.html"))
    text = opened.page.locator("#run .artifacts").inner_text()
    assert "summary · markdown" in text and "# 42 rows" in text and "totals" in text
    assert opened.errors == []
    plain = browser.open(graph_page(mixed_run))
    assert plain.page.locator("#run .artifacts").count() == 0


@needs_dot
def test_a_failed_flow_shows_its_error(tmp_path: Path, browser) -> None:
    (tmp_path / "mixed.py").write_text(MIXED.replace('    return "done"\n', "    return total\n"))
    done = flowc("run", "mixed.py", "--report", "report.json", "-q", cwd=tmp_path)
    assert done.returncode == 1
    opened = browser.open(graph_page(tmp_path))
    run = opened.page.locator("#run")
    assert "Failed" in run.inner_text()
    assert run.locator("pre.error").count() == 1
    assert run.locator("pre.result").count() == 0
    assert opened.errors == []
