"""``prefect_test_harness``: a fresh FLOWC_HOME for the block, no server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowc.files import flowc_home
from flowc.testing.utilities import prefect_test_harness
from flowc.variables import Variable


def test_variables_set_inside_stay_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path))
    Variable.set("outside", 1)
    with prefect_test_harness():
        inner_home = flowc_home()
        assert inner_home != tmp_path
        assert Variable.get("outside") is None
        Variable.set("inside", 2)
    assert flowc_home() == tmp_path
    assert not inner_home.exists()
    assert (Variable.get("outside"), Variable.get("inside")) == (1, None)


def test_an_unset_home_is_unset_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWC_HOME", raising=False)
    with prefect_test_harness(server_startup_timeout=5):
        assert "FLOWC_HOME" in os.environ
    assert "FLOWC_HOME" not in os.environ
