"""``flowc.artifacts``: each kind formatted as Prefect does, recorded with its run."""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from typing import Any

import pytest

import flowc
from flowc import flow, task
from flowc.artifacts import (
    acreate_markdown_artifact,
    create_image_artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from flowc.task_runners import ThreadPoolTaskRunner


def _report_of(fn: Any, *args: Any) -> dict[str, Any]:
    with flowc.capture() as runs:
        fn(*args)
    return runs.report()


def test_every_kind_is_recorded_with_the_run_that_made_it() -> None:
    @task
    def in_task() -> uuid.UUID:
        create_table_artifact([{"a": 1, "b": math.nan}], key="the-table", description="rows")
        return create_progress_artifact(10, key="progress")

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def makes_artifacts() -> None:
        create_markdown_artifact("# Title", key="notes", description="Some notes")
        create_link_artifact("https://example.org", link_text="Example")
        create_link_artifact("https://example.org/bare", key="bare-link")
        create_image_artifact("https://example.org/a.png", key="picture")
        progress_id = in_task.submit().result()
        update_progress_artifact(progress_id, 55.5, description="halfway")

    report = _report_of(makes_artifacts)
    json.dumps(report)  # the report stays JSON
    artifacts = {artifact["key"] or artifact["data"]: artifact for artifact in report["artifacts"]}
    flow_run_id = report["flow_runs"][0]["id"]
    task_run_id = report["task_runs"][0]["id"]
    assert artifacts["notes"] | {"id": None, "created": None} == {
        "id": None,
        "key": "notes",
        "type": "markdown",
        "description": "Some notes",
        "data": "# Title",
        "flow_run": flow_run_id,
        "task_run": None,
        "created": None,
        "updated": None,
    }
    assert artifacts["[Example](https://example.org)"]["type"] == "markdown"
    assert artifacts["bare-link"]["data"] == "[https://example.org/bare](https://example.org/bare)"
    assert artifacts["picture"]["type"] == "image"
    table = artifacts["the-table"]
    assert (table["type"], json.loads(table["data"])) == ("table", [{"a": 1, "b": None}])
    assert (table["task_run"], table["flow_run"]) == (task_run_id, flow_run_id)
    progress = artifacts["progress"]
    assert (progress["type"], progress["data"], progress["description"]) == (
        "progress",
        55.5,
        "halfway",
    )
    assert progress["updated"] is not None


def test_ids_are_uuids_and_unique() -> None:
    ids: list[Any] = []

    @flow
    def twice() -> None:
        ids.append(create_markdown_artifact("a"))
        ids.append(create_markdown_artifact("b"))

    report = _report_of(twice)
    assert all(isinstance(artifact_id, uuid.UUID) for artifact_id in ids)
    assert [a["id"] for a in report["artifacts"]] == [str(i) for i in ids]


def test_subflow_artifacts_belong_to_the_subflow_run_in_the_parent_report() -> None:
    @flow
    def child() -> None:
        create_markdown_artifact("from child", key="child-notes")

    @flow
    def parent() -> None:
        child()

    report = _report_of(parent)
    child_run = next(run for run in report["flow_runs"] if run["parent"] is not None)
    assert [(a["key"], a["flow_run"]) for a in report["artifacts"]] == [
        ("child-notes", child_run["id"])
    ]


def test_keys_follow_prefects_rule() -> None:
    @flow
    def bad_key() -> None:
        create_markdown_artifact("x", key="Not_Valid")

    state = bad_key(return_state=True)
    assert state.is_failed()
    assert "lowercase letters, numbers, and dashes" in state.message


def test_progress_is_clamped_to_0_100_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    @flow
    def over() -> None:
        create_progress_artifact(150, key="over")

    report = _report_of(over)
    assert report["artifacts"][0]["data"] == 100.0
    assert "invalid value" in caplog.text


def test_in_an_async_flow_the_call_is_awaited_as_in_prefect() -> None:
    @flow
    async def async_flow() -> tuple[bool, uuid.UUID, uuid.UUID]:
        pending = create_markdown_artifact("async", key="async-notes")
        is_coroutine = asyncio.iscoroutine(pending)
        return is_coroutine, await pending, await acreate_markdown_artifact("always")

    with flowc.capture() as runs:
        is_coroutine, first, second = asyncio.run(async_flow())
    assert is_coroutine
    assert [a["id"] for a in runs.report()["artifacts"]] == [str(first), str(second)]


def test_outside_a_run_it_warns_as_prefect_does_and_records_nothing() -> None:
    with pytest.warns(FutureWarning, match="outside of a flow or task run"):
        artifact_id = create_markdown_artifact("alone")
    assert isinstance(artifact_id, uuid.UUID)
