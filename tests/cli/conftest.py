"""Fixtures for the ``flowc run`` tests: the fixture flow files and a real ``python -m flowc``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FLOWS = Path(__file__).parent / "flows"
#: A subprocess's bound (generous: a loaded machine is slow to start Python and its workers),
#: and each test's, larger so that the subprocess's own timeout, which says what ran, fires first.
TIMEOUT = 150
TEST_TIMEOUT = 300


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def _flowc(*args: str | Path, cwd: Path = FLOWS) -> Result:
    """Run ``python -m flowc ARGS`` in ``cwd`` (the fixture flows by default) and collect it."""
    environment = {**os.environ, "COLUMNS": "200"}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        environment.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "flowc", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent) and not item.get_closest_marker(
            "timeout"
        ):
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


@pytest.fixture
def flowc() -> Callable[..., Result]:
    """``flowc("run", "file.py", ...)``: a real process, its exit code, stdout and stderr."""
    return _flowc


@pytest.fixture
def flows_dir() -> Path:
    return FLOWS


@pytest.fixture
def report_path(tmp_path: Path) -> Path:
    return tmp_path / "report.json"


@pytest.fixture
def read_report() -> Callable[[Path], dict[str, Any]]:
    def read(path: Path) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    return read
