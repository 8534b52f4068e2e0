"""``flowc.runtime.modules``: a flow file imported by path, and the interpreter left as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import cloudpickle
import pytest
from interpreter_state import assert_restored, snapshot

from flowc.runtime.modules import FlowcUsageError, load_module

FLOWS = Path(__file__).parent.parent / "cli" / "flows"


@pytest.fixture
def flows_dir() -> Path:
    """The fixture flow files, shared with the CLI's tests."""
    return FLOWS


def test_load_module_restores_interpreter_state(flows_dir: Path) -> None:
    before = snapshot()
    with load_module(flows_dir / "uses_sibling.py") as loaded:
        module = loaded.module
        assert loaded.error is None
        assert module.__name__.startswith("_flowc_run_uses_sibling_")
        assert sys.modules[module.__name__] is module
        assert sys.path[0] == str(flows_dir)
        assert sys.argv == [str(flows_dir / "uses_sibling.py")]
        assert "sibling_tasks" in sys.modules
        assert module.__name__ in cloudpickle.cloudpickle._PICKLE_BY_VALUE_MODULES
        assert "sibling_tasks" in cloudpickle.cloudpickle._PICKLE_BY_VALUE_MODULES
        assert "prefect" in sys.modules  # the sibling imported it
    assert_restored(before)
    assert "sibling_tasks" not in sys.modules
    assert not cloudpickle.cloudpickle._PICKLE_BY_VALUE_MODULES & {module.__name__, "sibling_tasks"}


def test_load_module_keeps_user_errors_and_restores(flows_dir: Path) -> None:
    before = snapshot()
    with load_module(flows_dir / "import_error.py") as loaded:
        assert isinstance(loaded.error, KeyError)
    assert_restored(before)


def test_load_module_usage_errors_leave_no_trace(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    before = snapshot()
    with (
        pytest.raises(FlowcUsageError, match=r"broken.py:1:7: syntax error"),
        load_module(broken),
    ):
        pass
    assert_restored(before)


def test_main_guard_does_not_run(flows_dir: Path) -> None:
    with load_module(flows_dir / "main_guard.py") as loaded:
        assert loaded.error is None
        assert loaded.module.__name__ != "__main__"
