"""What the compile-side commands read: regular files only, up to a size, as CPython parses.

Through the real CLI in a subprocess (a FIFO opened by mistake would block the test run, so
each call has a generous timeout rather than a speed assertion).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler import CompileError, compile_file, compile_source
from flowc.reading import MAX_SOURCE_BYTES

COMMANDS = [["graph", "-o", "out.json"], ["explain"], ["compile", "-o", "plan.json"]]


def _flowc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _refused(cwd: Path, name: str, message: str) -> None:
    for command in COMMANDS:
        done = _flowc(cwd, command[0], name, *command[1:])
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr == f"{name}: {message}\n", command
        assert done.stdout == ""
        assert not (cwd / "out.json").exists() and not (cwd / "plan.json").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_device_are_refused_without_opening(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    _refused(tmp_path, "pipe.py", "is a FIFO (named pipe), not a regular file")
    _refused(tmp_path, "zero.py", "is a device, not a regular file")


def test_files_over_the_limit_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * (MAX_SOURCE_BYTES // 6 + 1))
    size = big.stat().st_size
    _refused(
        tmp_path,
        "big.py",
        f"is larger than {MAX_SOURCE_BYTES:,} bytes, the most flowc reads ({size:,} bytes)",
    )


def test_an_imported_module_that_is_a_device_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").symlink_to("/dev/zero")
    flow = tmp_path / "flow.py"
    flow.write_text(
        "from prefect import flow, task\nfrom helpers import load\n\n"
        "@task\ndef t(x):\n    return x\n\n@flow\ndef f():\n    return t.submit(1)\n"
    )
    result = compile_file(flow)
    assert [n.id for n in result.flow("f").nodes] == ["t@10"]


@pytest.mark.parametrize(
    ("source", "where", "message"),
    [
        ("x = 1\ny = 2\0\n", "2:6", "source code cannot contain null bytes"),
        ("x = " + "[" * 500 + "]" * 500 + "\n", "1:", "too many nested parentheses"),
    ],
)
def test_what_cpython_refuses_is_a_syntax_error(source: str, where: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        compile_source(source, "bad.py")
    (diag,) = info.value.diagnostics
    assert diag.format().startswith(f"bad.py:{where}")
    assert diag.message == f"syntax error: {message}"


def test_lint_reports_null_bytes_and_deep_nesting(tmp_path: Path) -> None:
    (tmp_path / "nul.py").write_bytes(b"from prefect import flow\nx = 1\0\n")
    (tmp_path / "deep.py").write_text("x = " + "[" * 500 + "]" * 500 + "\n")
    done = _flowc(tmp_path, "lint", "--no-cache", "nul.py", "deep.py")
    assert done.returncode == 1, done.stderr
    assert "nul.py:2:6: E999 syntax error: source code cannot contain null bytes" in done.stdout
    assert "deep.py:1:" in done.stdout and "E999 syntax error: too many nested" in done.stdout
    assert "Traceback" not in done.stderr
