"""Each concurrency test gets its own FLOWC_HOME and working directory (no pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("FLOWC_HOME", str(home))
    monkeypatch.chdir(project)
    return home
