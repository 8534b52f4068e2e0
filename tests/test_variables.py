"""``flowc.variables``: JSON values under FLOWC_HOME, safe between processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc import flow
from flowc.variables import Variable, variables_file

TIMEOUT = 120


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_set_get_unset_with_json_values(home: Path) -> None:
    value = {"crew": ["Zaphod", "Arthur"], "size": 2, "ok": True, "ratio": 0.5, "none": None}
    assert Variable.set("crew_members", value) == Variable("crew_members", value, [])
    assert Variable.get("crew_members") == value
    assert variables_file() == home / "variables.json"
    assert json.loads(variables_file().read_text())["crew_members"]["value"] == value
    assert Variable.unset("crew_members") is True
    assert Variable.unset("crew_members") is False
    assert Variable.get("crew_members") is None


def test_default_when_missing_and_typed_form() -> None:
    assert Variable.get("missing", default=["Backup1", "Backup2"]) == ["Backup1", "Backup2"]
    Variable.set("answer", 42)
    assert Variable[int].get("answer") == 42


def test_overwrite_is_needed_to_replace() -> None:
    Variable.set("mode", "fast", tags=["perf"])
    with pytest.raises(ValueError, match="already exists. Use `overwrite=True`"):
        Variable.set("mode", "slow")
    assert Variable.get("mode") == "fast"
    assert Variable.set("mode", "slow", overwrite=True).value == "slow"
    assert Variable.get("mode") == "slow"


@pytest.mark.parametrize("name", ["Upper", "with space", "dots.not.allowed", "x" * 256, ""])
def test_names_follow_prefects_rule(name: str) -> None:
    with pytest.raises(ValueError, match="Variable name"):
        Variable.set(name, 1)


def test_values_must_be_json() -> None:
    with pytest.raises(ValueError, match="must be JSON"):
        Variable.set("bad", {1, 2})
    with pytest.raises(ValueError, match="must be JSON"):
        Variable.set("nan", float("nan"))
    assert not variables_file().exists()


def test_async_flow_awaits_them_as_in_prefect() -> None:
    Variable.set("crew_members", ["Zaphod", "Arthur", "Trillian"])

    @flow
    async def mission() -> str:
        crew = await Variable.get("crew_members", default=["Backup1"])
        await Variable.aset("status", "launched")
        return ", ".join(crew)

    assert asyncio.run(mission()) == "Zaphod, Arthur, Trillian"
    assert Variable.get("status") == "launched"


def test_a_corrupt_store_is_a_clear_error() -> None:
    variables_file().parent.mkdir(parents=True)
    variables_file().write_text("{not json")
    with pytest.raises(ValueError, match="not a flowc variables file"):
        Variable.get("x")


WRITER = """
import sys
from flowc.variables import Variable
for i in range(int(sys.argv[2])):
    Variable.set(f"{sys.argv[1]}_{i}", {"writer": sys.argv[1], "i": i})
"""


def test_processes_writing_at_once_lose_nothing() -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"w{n}", "15"],
            env=dict(os.environ),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=TIMEOUT)
        assert writer.returncode == 0, err
    stored = json.loads(variables_file().read_text())
    assert sorted(stored) == sorted(f"w{n}_{i}" for n in range(4) for i in range(15))
    assert Variable.get("w3_14") == {"writer": "w3", "i": 14}
