"""``flowc.runtime.prefect_alias``: ``prefect`` and its modules resolve to flowc's, then go."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest
from interpreter_state import assert_restored, snapshot
from typer.testing import CliRunner

import flowc
import flowc.exceptions
import flowc.futures
import flowc.logging
import flowc.states
import flowc.utilities.annotations
from flowc.cli import app
from flowc.runtime.prefect_alias import prefect_aliases, prefect_aliases_active

FLOWS = Path(__file__).parent.parent / "cli" / "flows"


@pytest.fixture
def flows_dir() -> Path:
    """The fixture flow files, shared with the CLI's tests."""
    return FLOWS


def test_prefect_modules_resolve_to_flowc() -> None:
    before = snapshot()
    with prefect_aliases():
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
    with prefect_aliases(), pytest.raises(ModuleNotFoundError, match="prefect.cache_x"):
        importlib.import_module("prefect.cache_x.policies")


def test_server_only_prefect_module_says_it_needs_a_server() -> None:
    from flowc.server import ServerRequiredError

    with prefect_aliases(), pytest.raises(ServerRequiredError, match="prefect.blocks"):
        importlib.import_module("prefect.blocks.system")


def test_real_prefect_is_shadowed_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    real = types.ModuleType("prefect")
    real_futures = types.ModuleType("prefect.futures")
    monkeypatch.setitem(sys.modules, "prefect", real)
    monkeypatch.setitem(sys.modules, "prefect.futures", real_futures)
    with prefect_aliases():
        import prefect
        import prefect.futures

        assert prefect is flowc and prefect.futures is flowc.futures
    assert sys.modules["prefect"] is real
    assert sys.modules["prefect.futures"] is real_futures


def test_integration_packages() -> None:
    with prefect_aliases():
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
    with prefect_aliases():
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

    with prefect_aliases():
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


def test_prefect_aliases_nest_and_report_activity() -> None:
    assert not prefect_aliases_active()
    with prefect_aliases():
        assert prefect_aliases_active()
        with prefect_aliases():
            assert importlib.import_module("prefect") is flowc
        assert importlib.import_module("prefect") is flowc
    assert not prefect_aliases_active()
    assert "prefect" not in sys.modules


def test_cli_in_process_removes_the_alias(flows_dir: Path) -> None:
    before = snapshot()
    result = CliRunner().invoke(app, ["run", str(flows_dir / "prefect_hello.py")])
    assert result.exit_code == 0, result.output
    assert "Hello Marvin!" in result.stdout
    assert_restored(before)
