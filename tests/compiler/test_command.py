"""``--param`` values of the compile-side commands: nested too deep is one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler.render.command import MAX_PARAM_NESTING, CommandError, parse_params

FLOW = (
    "from prefect import flow, task\n\n\n@task\ndef t(x):\n    return x\n\n\n"
    "@flow\ndef f(xs: list = []):\n    return t.map(xs)\n"
)


def test_values_nested_too_deep_are_refused_before_parsing() -> None:
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(CommandError) as info:
        parse_params([f"xs={deep}"])
    assert info.value.lines == [
        f"--param xs nested more than {MAX_PARAM_NESTING} levels deep: not accepted"
    ]
    ok = "[" * MAX_PARAM_NESTING + "]" * MAX_PARAM_NESTING
    assert parse_params([f"xs={ok}", 'ys="[[[["']) == {"xs": eval(ok), "ys": "[[[["}


@pytest.mark.parametrize("command", ["graph", "explain", "compile"])
def test_every_command_says_it_in_one_line(tmp_path: Path, command: str) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    deep = "[" * 5000 + "]" * 5000
    done = subprocess.run(
        [sys.executable, "-m", "flowc", command, "flow.py", "-p", f"xs={deep}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"--param xs nested more than {MAX_PARAM_NESTING} levels deep: not accepted\n"
    )
