"""``flowc.runtime.parameters``: ``--param`` texts and ``__main__`` arguments against a flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowc.runtime import selection
from flowc.runtime.modules import FlowcUsageError, load_module
from flowc.runtime.parameters import check_params, param_value

FLOWS = Path(__file__).parent.parent / "cli" / "flows"


@pytest.fixture
def flows_dir() -> Path:
    """The fixture flow files, shared with the CLI's tests."""
    return FLOWS


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("2.5", 2.5),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ('"quoted"', "quoted"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_param_value_json_else_text(text: str, value: Any) -> None:
    assert param_value(text) == value


def test_param_value_keeps_text_for_str_parameters() -> None:
    def f(name: str, n: int) -> None: ...

    import inspect

    params = inspect.signature(f).parameters
    assert param_value("123", params["name"]) == "123"
    assert param_value('"x"', params["name"]) == "x"
    assert param_value("123", params["n"]) == 123


def test_check_params(flows_dir: Path) -> None:
    with load_module(flows_dir / "typed.py") as loaded:
        flow = loaded.module.typed_flow
        assert check_params(flow, {"n": "2", "ratio": "3"}) == {"n": 2, "ratio": 3}
        with pytest.raises(FlowcUsageError, match="needs parameter 'n'"):
            check_params(flow, {})
        with pytest.raises(FlowcUsageError, match="has no parameter 'x'"):
            check_params(flow, {"n": "1", "x": "1"})
        # values are validated by the flow call: a wrong type is a Failed flow run, not here
        assert check_params(flow, {"n": "1", "items": '["a"]'}) == {"n": 1, "items": ["a"]}


def test_check_params_takes_the_main_calls_arguments_under_params(flows_dir: Path) -> None:
    with load_module(flows_dir / "typed.py") as loaded:
        flow = loaded.module.typed_flow
        call = selection.EntryCall("typed_flow", 9, (4, "ab"), {"ratio": 0.5}, ("make()",))
        assert selection.main_arguments(flow.signature, call) == (
            {"n": 4, "name": "ab", "ratio": 0.5},
            ["make()"],
        )
        values = check_params(flow, {"n": "7"}, call)
        assert values == {"n": 7, "name": "ab", "ratio": 0.5}
        opaque = selection.EntryCall("typed_flow", 9, (), {}, ("count()",))
        with pytest.raises(FlowcUsageError, match=r"passes count\(\), which flowc does not"):
            check_params(flow, {}, opaque)
