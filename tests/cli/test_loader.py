"""``flowc.runtime.loader`` in this process: loading, Prefect aliases, selection, parameters."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from typer.testing import CliRunner

import flowc
import flowc.exceptions
import flowc.futures
import flowc.logging
import flowc.states
import flowc.utilities.annotations
from flowc.cli import app
from flowc.runtime import loader, selection
from flowc.runtime.loader import FlowcUsageError, RunRequest, Target


def snapshot() -> tuple[list[str], dict[str, Any], list[Any]]:
    return list(sys.path), dict(sys.modules), list(sys.meta_path)


def assert_restored(before: tuple[list[str], dict[str, Any], list[Any]]) -> None:
    path, modules, meta_path = before
    assert sys.path == path
    assert sys.meta_path == meta_path
    assert not [name for name in sys.modules if name.startswith(("prefect", "_flowc_run_"))]
    for name, module in modules.items():  # nothing that was there was replaced or removed
        assert sys.modules.get(name) is module, name


# --------------------------------------------------------------------------- target and params


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
    assert loader.parse_target(text) == Target(Path(path), flow)


def test_parse_target_empty_flow() -> None:
    with pytest.raises(FlowcUsageError, match="empty flow name"):
        loader.parse_target("a.py:")


def test_parse_params() -> None:
    assert loader.parse_params(["n=3", "name=a=b", "empty="]) == {
        "n": "3",
        "name": "a=b",
        "empty": "",
    }
    with pytest.raises(FlowcUsageError, match="given twice"):
        loader.parse_params(["n=1", "n=2"])
    with pytest.raises(FlowcUsageError, match="expected NAME=VALUE"):
        loader.parse_params(["3=n"])


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
    assert loader.param_value(text) == value


def test_param_value_keeps_text_for_str_parameters() -> None:
    def f(name: str, n: int) -> None: ...

    import inspect

    params = inspect.signature(f).parameters
    assert loader.param_value("123", params["name"]) == "123"
    assert loader.param_value('"x"', params["name"]) == "x"
    assert loader.param_value("123", params["n"]) == 123


def test_make_runner() -> None:
    from flowc.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    assert loader.make_runner(None, None) is None
    threads = loader.make_runner("threads", 3)
    assert isinstance(threads, ThreadPoolTaskRunner) and threads.max_workers == 3
    processes = loader.make_runner("Processes", 2)
    assert isinstance(processes, ProcessPoolTaskRunner) and processes.max_workers == 2
    assert set(loader.RUNNERS) == {"threads", "processes", "dask", "ray"}
    with pytest.raises(FlowcUsageError, match="unknown runner 'gpu'"):
        loader.make_runner("gpu", None)


# --------------------------------------------------------------------------- prefect aliases


def test_prefect_modules_resolve_to_flowc() -> None:
    before = snapshot()
    with loader.prefect_aliases():
        import prefect
        import prefect.exceptions
        import prefect.futures
        import prefect.logging
        import prefect.states
        import prefect.task_runners
        import prefect.utilities.annotations
        from prefect import allow_failure, flow, get_run_logger, tags, task, unmapped
        from prefect.futures import as_completed, wait
        from prefect.utilities.annotations import quote

        assert prefect is flowc
        assert prefect.futures is flowc.futures
        assert prefect.states is flowc.states
        assert prefect.exceptions is flowc.exceptions
        assert prefect.logging is flowc.logging
        assert prefect.utilities.annotations is flowc.utilities.annotations
        assert prefect.task_runners is importlib.import_module("flowc.task_runners")
        assert (flow, task, unmapped, allow_failure, tags, get_run_logger) == (
            flowc.flow,
            flowc.task,
            flowc.unmapped,
            flowc.allow_failure,
            flowc.tags,
            flowc.get_run_logger,
        )
        assert (wait, as_completed, quote) == (flowc.wait, flowc.as_completed, flowc.quote)
    assert_restored(before)
    assert flowc.__spec__ is not None and flowc.__spec__.name == "flowc"
    assert flowc.futures.__spec__ is not None and flowc.futures.__spec__.name == "flowc.futures"
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("prefect")


def test_unmapped_prefect_module_is_a_clear_error() -> None:
    with loader.prefect_aliases(), pytest.raises(ModuleNotFoundError, match="prefect.cache_x"):
        importlib.import_module("prefect.cache_x.policies")


def test_server_only_prefect_module_says_it_needs_a_server() -> None:
    from flowc.server import ServerRequiredError

    with loader.prefect_aliases(), pytest.raises(ServerRequiredError, match="prefect.blocks"):
        importlib.import_module("prefect.blocks.system")


def test_real_prefect_is_shadowed_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    real = types.ModuleType("prefect")
    real_futures = types.ModuleType("prefect.futures")
    monkeypatch.setitem(sys.modules, "prefect", real)
    monkeypatch.setitem(sys.modules, "prefect.futures", real_futures)
    with loader.prefect_aliases():
        import prefect
        import prefect.futures

        assert prefect is flowc and prefect.futures is flowc.futures
    assert sys.modules["prefect"] is real
    assert sys.modules["prefect.futures"] is real_futures


def test_integration_packages() -> None:
    with loader.prefect_aliases():
        for name, runner in (
            ("prefect_dask", "DaskTaskRunner"),
            ("prefect_dask.task_runners", "DaskTaskRunner"),
            ("prefect_ray", "RayTaskRunner"),
            ("prefect_ray.task_runners", "RayTaskRunner"),
        ):
            module = importlib.import_module(name)
            try:
                cls = getattr(module, runner)
            except ImportError as exc:  # until flowc has that runner
                assert runner in str(exc)
            else:
                assert cls is getattr(importlib.import_module("flowc.task_runners"), runner)
            with pytest.raises(AttributeError):
                module.SomethingElse  # noqa: B018
    assert "prefect_dask" not in sys.modules and "prefect_ray" not in sys.modules


def test_integration_helpers_at_prefects_paths() -> None:
    with loader.prefect_aliases():
        from prefect_dask import get_async_dask_client, get_dask_client
        from prefect_dask.utils import get_dask_client as from_utils
        from prefect_ray.context import remote_options

        import flowc.integrations.prefect_dask.utils as utils
        import flowc.integrations.prefect_ray.context as context

        assert get_dask_client is from_utils is utils.get_dask_client
        assert get_async_dask_client is utils.get_async_dask_client
        assert remote_options is context.remote_options


def test_prefects_wider_api_resolves_to_flowc() -> None:
    import flowc.runtime

    with loader.prefect_aliases():
        import prefect.runtime.flow_run
        from prefect import runtime
        from prefect.artifacts import create_markdown_artifact
        from prefect.concurrency.asyncio import rate_limit
        from prefect.concurrency.sync import concurrency
        from prefect.deployments import run_deployment
        from prefect.runtime import deployment, task_run
        from prefect.testing.utilities import prefect_test_harness
        from prefect.utilities.annotations import opaque
        from prefect.variables import Variable

        assert runtime is flowc.runtime
        assert prefect.runtime.flow_run is flowc.runtime.flow_run
        assert runtime.flow_run.name is None and task_run.id is None and deployment.id is None
        assert create_markdown_artifact.__module__ == "flowc.artifacts"
        assert concurrency.__module__ == "flowc.concurrency.sync"
        assert rate_limit.__module__ == "flowc.concurrency.asyncio"
        assert Variable.__module__ == "flowc.variables"
        assert prefect_test_harness.__module__ == "flowc.testing.utilities"
        assert opaque.__module__ == "flowc.runtime.annotations"
        assert run_deployment.__module__ == "flowc.deployments"


# --------------------------------------------------------------------------- loading


def test_load_module_restores_interpreter_state(flows_dir: Path) -> None:
    before = snapshot()
    with loader.load_module(flows_dir / "uses_sibling.py") as loaded:
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
    with loader.load_module(flows_dir / "import_error.py") as loaded:
        assert isinstance(loaded.error, KeyError)
    assert_restored(before)


def test_load_module_usage_errors_leave_no_trace(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    before = snapshot()
    with (
        pytest.raises(FlowcUsageError, match=r"broken.py:1:7: syntax error"),
        loader.load_module(broken),
    ):
        pass
    assert_restored(before)


def test_main_guard_does_not_run(flows_dir: Path) -> None:
    with loader.load_module(flows_dir / "main_guard.py") as loaded:
        assert loaded.error is None
        assert loaded.module.__name__ != "__main__"


def test_find_and_select_flows(flows_dir: Path) -> None:
    path = flows_dir / "two_flows.py"
    with loader.load_module(path) as loaded:
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
    with loader.load_module(main) as loaded:
        flows = loader.find_flows(loaded.module)
        assert loader.select_flow(main, flows, None).attribute == "mine"
        assert loader.select_flow(main, flows, "library").attribute == "library"


def test_check_params(flows_dir: Path) -> None:
    with loader.load_module(flows_dir / "typed.py") as loaded:
        flow = loaded.module.typed_flow
        assert loader.check_params(flow, {"n": "2", "ratio": "3"}) == {"n": 2, "ratio": 3}
        with pytest.raises(FlowcUsageError, match="needs parameter 'n'"):
            loader.check_params(flow, {})
        with pytest.raises(FlowcUsageError, match="has no parameter 'x'"):
            loader.check_params(flow, {"n": "1", "x": "1"})
        # values are validated by the flow call: a wrong type is a Failed flow run, not here
        assert loader.check_params(flow, {"n": "1", "items": '["a"]'}) == {"n": 1, "items": ["a"]}


def test_check_params_takes_the_main_calls_arguments_under_params(flows_dir: Path) -> None:
    with loader.load_module(flows_dir / "typed.py") as loaded:
        flow = loaded.module.typed_flow
        call = selection.EntryCall("typed_flow", 9, (4, "ab"), {"ratio": 0.5}, ("make()",))
        assert selection.main_arguments(flow.signature, call) == (
            {"n": 4, "name": "ab", "ratio": 0.5},
            ["make()"],
        )
        values = loader.check_params(flow, {"n": "7"}, call)
        assert values == {"n": 7, "name": "ab", "ratio": 0.5}
        opaque = selection.EntryCall("typed_flow", 9, (), {}, ("count()",))
        with pytest.raises(FlowcUsageError, match=r"passes count\(\), which flowc does not"):
            loader.check_params(flow, {}, opaque)


def test_bad_param_value_is_a_failed_flow_run(flows_dir: Path) -> None:
    request = RunRequest(Target(flows_dir / "typed.py"), {"n": "abc"})
    outcome = loader.run_file(request)
    assert outcome.state.is_failed() and not outcome.at_import
    assert outcome.state.message == (
        "Validation of flow parameters failed with error: ParameterTypeError: Flow run "
        "received invalid parameters:\n - n: Input should be a valid integer, unable to parse "
        "string as an integer"
    )
    assert outcome.flow_run.records == [] and loader.exit_code(outcome.flow_run, False) == 1


# --------------------------------------------------------------------------- running


def test_run_file_in_process(flows_dir: Path) -> None:
    before = snapshot()
    request = RunRequest(Target(flows_dir / "two_flows.py", "my_flow"), {"x": "5"})
    outcome = loader.run_file(request)
    assert outcome.state.is_completed() and outcome.state.data == 10
    assert not outcome.at_import
    assert outcome.flow.attribute == "my_flow"
    assert loader.exit_code(outcome.flow_run, strict=True) == 0
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
    with pytest.raises(loader.UserCodeError) as caught:
        loader.run_file(RunRequest(Target(flows_dir / "import_error.py")))
    assert isinstance(caught.value.exception, KeyError)
    assert str(caught.value).endswith("import_error.py: KeyError raised while loading the file")


def test_strict_exit_code(flows_dir: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "swallowed.py")))
    assert outcome.state.is_completed()
    assert [run.task.name for run in loader.failed_task_runs(outcome.flow_run)] == ["explode"]
    assert loader.exit_code(outcome.flow_run, strict=False) == 0
    assert loader.exit_code(outcome.flow_run, strict=True) == 1


def test_write_report_mode_and_content(flows_dir: Path, tmp_path: Path) -> None:
    outcome = loader.run_file(RunRequest(Target(flows_dir / "module_call.py")))
    target = tmp_path / "r.json"
    loader.write_report(outcome.flow_run, target)
    assert target.read_text().startswith('{\n  "schema": "flowc.run/1"')
    assert target.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode
    target.chmod(0o640)
    loader.write_report(outcome.flow_run, target)
    assert target.stat().st_mode & 0o777 == 0o640


def test_cli_in_process_removes_the_alias(flows_dir: Path) -> None:
    before = snapshot()
    result = CliRunner().invoke(app, ["run", str(flows_dir / "prefect_hello.py")])
    assert result.exit_code == 0, result.output
    assert "Hello Marvin!" in result.stdout
    assert_restored(before)


def test_prefect_aliases_nest_and_report_activity() -> None:
    assert not loader.prefect_aliases_active()
    with loader.prefect_aliases():
        assert loader.prefect_aliases_active()
        with loader.prefect_aliases():
            assert importlib.import_module("prefect") is flowc
        assert importlib.import_module("prefect") is flowc
    assert not loader.prefect_aliases_active()
    assert "prefect" not in sys.modules
