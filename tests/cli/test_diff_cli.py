"""``flowc diff``: two versions of a flow from files and from git, as a real command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 300
#: each test runs flowc as a process, maybe several times, on a loaded machine
pytestmark = pytest.mark.timeout(900)

V1 = """\
from flowc import flow, task


@task
def load(n):
    return list(range(n))


@task
def square(x):
    return x * x


@task
def total(xs):
    return sum(xs)


@flow
def etl(n: int = 3):
    data = load.submit(n)
    squares = square.map(range(10))
    return total.submit(squares, wait_for=[data])
"""

# lines moved (a helper above the flow), a variable renamed, the map wider, a task added
V2 = (
    V1.replace(
        "@flow\ndef etl",
        "def helper():\n    return 1\n\n\n@flow\ndef etl",
    )
    .replace("data", "raw")
    .replace("range(10)", "range(20)")
    + "\n\n"
    + ""
)
V2 = V2.replace(
    "    return total.submit(squares, wait_for=[raw])\n",
    "    out = total.submit(squares, wait_for=[raw])\n    square.submit(out)\n    return out\n",
)


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment,
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=dev", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "etl.py").write_text(V1)
    git(tmp_path, "init", "-q", ".")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "v1")
    (tmp_path / "flows" / "etl.py").write_text(V2)
    return tmp_path


def test_files_text_exit_1_when_changed(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text(V1)
    (tmp_path / "new.py").write_text(V2)
    done = run("diff", "old.py", "new.py", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["--- old.py", "+++ new.py", "flow etl:"]
    assert "  + square@28  task.submit (line 28)" in lines
    assert "  ~ square@26 (was square@22)  runs ×10 -> ×20" in lines
    assert "  + edge total@27 -> square@28 (future)" in lines
    assert lines[-1].startswith(" 1 call site added, 0 removed, 1 changed, 1 edge added")
    assert run("diff", "old.py", "new.py", "--exit-zero", cwd=tmp_path).returncode == 0
    assert run("diff", "old.py", "old.py", cwd=tmp_path).returncode == 0


def test_git_rev_path_relative_to_the_current_directory(repo: Path) -> None:
    done = run("diff", "HEAD:flows/etl.py", "flows/etl.py", "-f", "json", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == {
        "added": ["square@28", "total@27 -> square@28 (future)"],
        "removed": [],
        "changed": ["square@26"],
    }
    inside = run("diff", "HEAD:etl.py", "etl.py", "-f", "json", cwd=repo / "flows")
    assert json.loads(inside.stdout) == json.loads(done.stdout)


def test_git_option(repo: Path) -> None:
    done = run("diff", "--git", "HEAD", "flows/etl.py", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("--- HEAD:flows/etl.py\n+++ flows/etl.py\n")


def test_mermaid_styles_the_changes(repo: Path) -> None:
    done = run("diff", "--git", "HEAD", "flows/etl.py", "-f", "mermaid", cwd=repo)
    assert done.returncode == 1, done.stderr
    text = done.stdout
    assert text.startswith("flowchart LR\n")
    assert "  class n_square_28 added" in text
    assert "  class n_square_26 changed" in text
    assert "classDef added fill:#dcfce7" in text
    assert "linkStyle" in text and "stroke:#16a34a" in text


def test_a_removed_call_site_is_drawn_as_removed(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text(V2)
    (tmp_path / "new.py").write_text(V1)
    done = run("diff", "old.py", "new.py", "-f", "json", cwd=tmp_path)
    assert json.loads(done.stdout)["removed"] == ["square@28", "total@27 -> square@28 (future)"]
    mermaid = run("diff", "old.py", "new.py", "-f", "mermaid", cwd=tmp_path).stdout
    assert "class n_removed_square_28 removed" in mermaid


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")
def test_html_by_suffix(repo: Path) -> None:
    done = run("diff", "--git", "HEAD", "flows/etl.py", "-o", "diff.html", cwd=repo)
    assert done.returncode == 1, done.stderr
    page = (repo / "diff.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert '"node:square@28":"added"' in page
    assert '"node:square@26":"changed"' in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope.py", "flows/etl.py"), "nope.py: no such file (give FILE or REV:PATH)"),
        (("HEAD:flows/missing.py", "flows/etl.py"), "HEAD:flows/missing.py: cannot read it"),
        (("flows/etl.py",), "give two sides (flowc diff OLD NEW) or --git REV FILE"),
        (("--git", "HEAD", "a.py", "b.py"), "--git REV takes one FILE"),
        (("flows/etl.py", "flows/etl.py", "-f", "svg"), "--format 'svg': expected one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(repo: Path, args: tuple[str, ...], message: str) -> None:
    done = run("diff", *args, cwd=repo)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_syntax_error_names_the_side(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text(V1)
    (tmp_path / "new.py").write_text(V1 + "\ndef broken(:\n")
    done = run("diff", "old.py", "new.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "new.py:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.json").exists()


def test_a_file_deleted_from_the_working_tree_is_read_from_git(repo: Path) -> None:
    git(repo, "mv", "flows", "moved")
    git(repo, "commit", "-q", "-m", "moved")
    done = run("diff", "HEAD~1:flows/etl.py", "moved/etl.py", "-f", "json", cwd=repo)
    assert done.returncode == 1, done.stderr  # moved/etl.py is V2 (committed by the mv)
    assert json.loads(done.stdout)["added"][0] == "square@28"
