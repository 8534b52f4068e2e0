"""``flowc.runtime.loader`` in this process: which flow of a file runs, and how it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from interpreter_state import assert_restored, snapshot

from flowc.runtime import loader
from flowc.runtime.loader import RunRequest, Target
from flowc.runtime.modules import FlowcUsageError, UserCodeError, load_module

FLOWS = Path(__file__).parent.parent / "cli" / "flows"


@pytest.fixture
def flows_dir() -> Path:
    """The fixture flow files, shared with the CLI's tests."""
    return FLOWS


def test_find_and_select_flows(flows_dir: Path) -> None:
    path = flows_dir / "two_flows.py"
    with load_module(path) as loaded:
        flows = loader.find_flows(loaded.module)
        assert [(item.label, item.line, item.attribute) for item in flows] == [
            ("hello-flow", 11, "hello_world"),
            ("my_flow", 16, "my_flow"),
        ]
        for name, expected in [
            ("hello-flow", "hello_world"),
            ("hello_world", "hello_world"),
            ("my_flow", "my_flow"),
            ("my-flow", "my_flow"),
        ]:
            assert loader.select_flow(path, flows, name).attribute == expected
        with pytest.raises(FlowcUsageError, match="2 flows found"):
            loader.select_flow(path, flows, None)


def test_imported_flows_are_not_candidates_when_the_file_has_its_own(tmp_path: Path) -> None:
    (tmp_path / "lib_flows.py").write_text(
        "from flowc import flow\n\n@flow\ndef library():\n    pass\n"
    )
    main = tmp_path / "main.py"
    main.write_text(
        "from lib_flows import library\nfrom flowc import flow\n\n@flow\ndef mine():\n    pass\n"
    )
    with load_module(main) as loaded:
        flows = loader.find_flows(loaded.module)
        assert loader.select_flow(main, flows, None).attribute == "mine"
        assert loader.select_flow(main, flows, "library").attribute == "library"


def test_bad_param_value_is_a_failed_flow_run(flows_dir: Path) -> None:
    request = RunRequest(Target(flows_dir / "typed.py"), {"n": "abc"})
    outcome = loader.run_file(request)
    assert outcome.state.is_failed() and not outcome.at_import
    assert outcome.state.message == (
        "Validation of flow parameters failed with error: ParameterTypeError: Flow run "
        "received invalid parameters:\n - n: Input should be a valid integer, unable to parse "
        "string as an integer"
    )
    assert outcome.flow_run.records == []


def test_run_file_in_process(flows_dir: Path) -> None:
    before = snapshot()
    request = RunRequest(Target(flows_dir / "two_flows.py", "my_flow"), {"x": "5"})
    outcome = loader.run_file(request)
    assert outcome.state.is_completed() and outcome.state.data == 10
    assert not outcome.at_import
    assert outcome.flow.attribute == "my_flow"
    assert_restored(before)


def test_run_file_takes_the_import_time_run(
    flows_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot()
    outcome = loader.run_file(RunRequest(Target(flows_dir / "prefect_hello.py")))
    assert outcome.at_import
    assert outcome.flow.label == "hello-flow"
    assert capsys.readouterr().out.count("Hello Marvin!") == 1
    assert_restored(before)


def test_run_file_picks_the_flow_no_other_flow_calls(flows_dir: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "parent_and_subflows.py")))
    assert outcome.flow.attribute == "pipeline" and outcome.state.data == 6
    assert [run.name for run in outcome.flow_run.flow_runs] == ["pipeline", "load", "summarise"]


def test_run_file_runs_what_the_main_block_calls_with_its_arguments(
    flows_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said: list[str] = []
    outcome = loader.run_file(RunRequest(Target(flows_dir / "main_block.py")), say=said.append)
    assert outcome.flow.attribute == "report" and outcome.state.data == "abab"
    assert outcome.flow_run.parameters == {"title": "ab", "copies": 2, "shout": False}
    assert said == [
        f"{flows_dir / 'main_block.py'}:26: running flow 'report' as the __main__ block calls "
        "it with title='ab', copies=2"
    ]
    assert "argv:" not in capsys.readouterr().out  # the block itself did not run


def test_params_override_the_main_blocks_arguments(flows_dir: Path) -> None:
    request = RunRequest(Target(flows_dir / "main_block.py"), {"copies": "3", "shout": "true"})
    outcome = loader.run_file(request)
    assert outcome.state.data == "ABABAB"


def test_naming_the_flow_the_main_block_calls_keeps_its_arguments(flows_dir: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "main_block.py", "report")))
    assert outcome.state.data == "abab"
    outcome = loader.run_file(RunRequest(Target(flows_dir / "main_block.py", "build")))
    assert outcome.flow_run.parameters == {"n": 1}


def test_still_ambiguous_lists_the_flows(flows_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FlowcUsageError) as caught:
        loader.run_file(RunRequest(Target(flows_dir / "two_flows.py")))
    assert str(caught.value) == (
        f"{flows_dir / 'two_flows.py'}: 2 flows found, pick one with FILE:FLOW "
        "(its flows: hello-flow (hello_world), my-flow)"
    )
    with_main = tmp_path / "two.py"
    with_main.write_text(
        (flows_dir / "two_flows.py").read_text() + "\nif __name__ == '__main__':\n    print()\n"
    )
    with pytest.raises(
        FlowcUsageError, match=r"my-flow\) \(or run its __main__ block with --main\)$"
    ):
        loader.run_file(RunRequest(Target(with_main)))


def test_main_block_arguments_of_the_wrong_type_are_a_failed_flow_run(tmp_path: Path) -> None:
    path = tmp_path / "bad_main.py"
    path.write_text(
        "from prefect import flow\n\n@flow\ndef f(n: int):\n    return n\n\n"
        "@flow\ndef g():\n    pass\n\nif __name__ == '__main__':\n    f('many')\n"
    )
    outcome = loader.run_file(RunRequest(Target(path)))
    assert outcome.flow.attribute == "f" and outcome.state.is_failed()
    assert "n: Input should be a valid integer" in str(outcome.state.message)
    assert loader.run_file(RunRequest(Target(path), {"n": "3"})).state.data == 3


def test_the_main_blocks_with_options_copy_is_what_runs(tmp_path: Path) -> None:
    path = tmp_path / "options.py"
    path.write_text(
        "from prefect import flow\n\n@flow\ndef f(n: int = 1):\n    return n\n\n"
        "@flow\ndef g():\n    pass\n\n"
        "if __name__ == '__main__':\n    f.with_options(name='nightly')(5)\n"
    )
    outcome = loader.run_file(RunRequest(Target(path)))
    assert outcome.flow.attribute == "f"
    assert outcome.flow_run.name == "nightly" and outcome.state.data == 5


def test_run_file_user_error(flows_dir: Path) -> None:
    with pytest.raises(UserCodeError) as caught:
        loader.run_file(RunRequest(Target(flows_dir / "import_error.py")))
    assert isinstance(caught.value.exception, KeyError)
    assert str(caught.value).endswith("import_error.py: KeyError raised while loading the file")
