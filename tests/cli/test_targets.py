"""``flowc.cli.targets``: ``FILE[:FLOW]`` and ``--param``, parsed one way for every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowc.cli.targets import (
    MAX_PARAM_NESTING,
    UsageError,
    compiler_params,
    parse_params,
    parse_target,
)

FLOW = (
    "from prefect import flow, task\n\n\n@task\ndef t(x):\n    return x\n\n\n"
    "@flow\ndef f(xs: list = []):\n    return t.map(xs)\n"
)
DEEP = "[" * 5000 + "]" * 5000
TOO_DEEP = f"--param xs nested more than {MAX_PARAM_NESTING} levels deep: not accepted"


@pytest.mark.parametrize(
    ("text", "path", "flow"),
    [
        ("flows/a.py", "flows/a.py", None),
        ("flows/a.py:my_flow", "flows/a.py", "my_flow"),
        ("a.py:hello-flow", "a.py", "hello-flow"),
        ("C:\\work\\a.py", "C:\\work\\a.py", None),
        ("C:\\work\\a.py:f", "C:\\work\\a.py", "f"),
    ],
)
def test_parse_target(text: str, path: str, flow: str | None) -> None:
    assert parse_target(text) == (Path(path), flow)


def test_an_existing_file_with_a_colon_in_its_name_is_the_file(tmp_path: Path) -> None:
    odd = tmp_path / "a.py:f"
    odd.write_text("")
    assert parse_target(str(odd)) == (odd, None)


def test_parse_target_empty_flow() -> None:
    with pytest.raises(UsageError, match=r"^a.py:: empty flow name after ':'"):
        parse_target("a.py:")


def test_parse_params_keeps_the_text() -> None:
    assert parse_params(["n=3", "name=a=b", "empty=", " pad =x"]) == {
        "n": "3",
        "name": "a=b",
        "empty": "",
        "pad": "x",
    }
    with pytest.raises(UsageError, match="^--param n given twice$"):
        parse_params(["n=1", "n=2"])
    with pytest.raises(UsageError, match=r"^--param '3=n': expected NAME=VALUE, e.g. --param n=3"):
        parse_params(["3=n"])
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        parse_params(["novalue"])


def test_values_nested_too_deep_are_refused_before_parsing() -> None:
    with pytest.raises(UsageError) as info:
        parse_params([f"xs={DEEP}"])
    assert str(info.value) == TOO_DEEP
    ok = "[" * MAX_PARAM_NESTING + "]" * MAX_PARAM_NESTING
    assert parse_params([f"xs={ok}", 'ys="[[[["']) == {"xs": ok, "ys": '"[[[["'}
    assert compiler_params([f"xs={ok}", 'ys="[[[["']) == {"xs": eval(ok), "ys": "[[[["}
    with pytest.raises(UsageError, match="nested more than"):
        compiler_params([f"xs={DEEP}"])


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("[1, 2]", [1, 2]), ('"quoted"', "quoted"), ("plain", "plain"), ("", "")],
)
def test_compiler_params_read_json_else_text(text: str, value: Any) -> None:
    assert compiler_params([f"v={text}"]) == {"v": value}


@pytest.mark.parametrize("command", ["graph", "explain", "compile", "run"])
def test_every_command_says_it_in_one_line(tmp_path: Path, command: str) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    done = subprocess.run(
        [sys.executable, "-m", "flowc", command, "flow.py", "-p", f"xs={DEEP}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2
    assert done.stderr == TOO_DEEP + "\n"


@pytest.mark.parametrize("command", ["graph", "explain", "compile", "run"])
def test_every_command_refuses_an_empty_flow_name_alike(tmp_path: Path, command: str) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    done = subprocess.run(
        [sys.executable, "-m", "flowc", command, "flow.py:"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2
    assert done.stderr == "flow.py:: empty flow name after ':' (use FILE or FILE:FLOW)\n"
