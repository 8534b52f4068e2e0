"""The public surface: Prefect's import paths, a snapshot of ``__all__``, and a light import."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import flowc

PUBLIC = {
    "flowc": [
        "Flow",
        "PrefectFuture",
        "PrefectFutureList",
        "State",
        "StateType",
        "Task",
        "__version__",
        "allow_failure",
        "as_completed",
        "capture",
        "deploy",
        "flow",
        "get_run_logger",
        "quote",
        "serve",
        "tags",
        "task",
        "unmapped",
        "wait",
    ],
    "flowc.futures": [
        "DoneAndNotDoneFutures",
        "PrefectFuture",
        "PrefectFutureList",
        "TaskRunFuture",
        "TaskRunFutureList",
        "as_completed",
        "resolve_futures_to_states",
        "wait",
    ],
    "flowc.task_runners": [
        "DaskTaskRunner",
        "ProcessPoolTaskRunner",
        "RayTaskRunner",
        "TaskRunner",
        "ThreadPoolTaskRunner",
    ],
    "flowc.utilities.annotations": [
        "BaseAnnotation",
        "allow_failure",
        "opaque",
        "quote",
        "unmapped",
    ],
    "flowc.artifacts": [
        "acreate_image_artifact",
        "acreate_link_artifact",
        "acreate_markdown_artifact",
        "acreate_progress_artifact",
        "acreate_table_artifact",
        "aupdate_progress_artifact",
        "create_image_artifact",
        "create_link_artifact",
        "create_markdown_artifact",
        "create_progress_artifact",
        "create_table_artifact",
        "update_progress_artifact",
    ],
    "flowc.concurrency.sync": [
        "AcquireConcurrencySlotTimeoutError",
        "ConcurrencySlotAcquisitionError",
        "concurrency",
        "rate_limit",
    ],
    "flowc.concurrency.asyncio": [
        "AcquireConcurrencySlotTimeoutError",
        "ConcurrencySlotAcquisitionError",
        "concurrency",
        "rate_limit",
    ],
    "flowc.variables": ["MAX_VARIABLE_NAME_LENGTH", "Variable", "variables_file"],
    "flowc.assets": [
        "Asset",
        "AssetProperties",
        "add_asset_metadata",
        "asset_metadata",
        "materialize",
    ],
    "flowc.runtime.task_run": [
        "api_url",
        "id",
        "name",
        "parameters",
        "run_count",
        "tags",
        "task_name",
        "ui_url",
    ],
    "flowc.runtime.deployment": ["flow_run_id", "id", "name", "parameters", "version"],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_the_documented_surface(module_name):
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])


def test_names_prefect_code_imports_exist():
    from flowc import allow_failure, flow, quote, tags, task, unmapped  # noqa: F401
    from flowc.exceptions import (  # noqa: F401
        MappingLengthMismatch,
        MappingMissingIterable,
        UnfinishedRun,
        UpstreamTaskError,
    )
    from flowc.futures import PrefectFuture, PrefectFutureList, as_completed, wait  # noqa: F401
    from flowc.logging import get_run_logger  # noqa: F401
    from flowc.states import Completed, Failed, State, StateType  # noqa: F401
    from flowc.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner  # noqa: F401
    from flowc.utilities.annotations import quote as quote2  # noqa: F401


def test_exceptions_subclass_the_builtin_they_behave_like():
    from flowc import exceptions

    assert issubclass(exceptions.MappingLengthMismatch, ValueError)
    assert issubclass(exceptions.ReservedArgumentError, TypeError)
    assert issubclass(exceptions.MissingContextError, RuntimeError)
    assert issubclass(exceptions.TaskRunTimeoutError, TimeoutError)


def test_import_flowc_pulls_in_neither_compiler_nor_distributed_engines():
    code = (
        "import sys, flowc, flowc.futures, flowc.task_runners, flowc.states\n"
        "heavy = [m for m in ('libcst', 'dask', 'distributed', 'ray', 'pydantic', 'typer')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_runtime_never_imports_libcst():
    import pathlib

    runtime = pathlib.Path(flowc.__file__).parent / "runtime"
    offenders = [
        path.name
        for path in runtime.rglob("*.py")
        if "import libcst" in path.read_text() or "from libcst" in path.read_text()
    ]
    assert offenders == []
