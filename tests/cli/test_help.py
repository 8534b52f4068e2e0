"""``flowc --help`` and every command's ``--help`` read like a well-made CLI, at any width."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import flowc

TIMEOUT = 150  # generous: a loaded machine is slow to start Python

COMMANDS = ["", "run", "graph", "compile", "explain", "lint", "rules", "rule"]


def help_text(command: str, columns: int) -> str:
    environment = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-m", "flowc", *command.split(), "--help"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


@pytest.mark.parametrize("columns", [80, 60])
@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_the_width_and_shows_what_a_user_types(command: str, columns: int) -> None:
    text = help_text(command, columns)
    assert text.startswith(f"Usage: flowc {command} [OPTIONS]".replace("  ", " "))
    assert max(len(line) for line in text.splitlines()) <= columns, text
    assert not re.search(r"<\w+(\[\w+\])?>", text), text  # no <bool>, <str>, <list[Path]>
    assert "{" not in text and "╭" not in text and "..." not in text.replace("]...", "]")
    for line in text.splitlines():
        assert not line.endswith("|j") and not line.strip().startswith("son"), text


def test_arguments_and_options_are_named_as_typed() -> None:
    run = help_text("run", 80)
    assert run.splitlines()[0] == "Usage: flowc run [OPTIONS] FILE[:FLOW] [ARGS]..."
    assert re.search(r"^  FILE\[:FLOW\]  A Python file", run, re.MULTILINE)
    assert re.search(r"^  -p, --param NAME=VALUE ", run, re.MULTILINE)
    assert re.search(r"^  --strict +Exit 1 when", run, re.MULTILINE)  # a flag: no metavar
    graph = help_text("graph", 80)
    assert "-f, --format svg|png|dot|mermaid|json" in graph
    assert "--legend / --no-legend" in graph
    lint = help_text("lint", 80)
    assert lint.splitlines()[0] == "Usage: flowc lint [OPTIONS] [PATHS]..."


def test_top_level_help_lists_every_command_with_its_whole_summary() -> None:
    text = help_text("", 80)
    assert "-V, --version" in text
    for command in COMMANDS[1:]:
        assert re.search(rf"^  {command} +\S", text, re.MULTILINE), command
    assert "without running them." in " ".join(text.split())  # wrapped, never cut


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowc", flag], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"flowc {flowc.__version__}\n"


def test_usage_errors_are_plain_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowc", "run"], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "Usage: flowc run [OPTIONS] FILE[:FLOW] [ARGS]..."
    assert "Error: Missing argument 'FILE[:FLOW]'." in done.stderr
    assert "╭" not in done.stderr
