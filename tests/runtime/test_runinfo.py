"""``flowc.runtime.flow_run`` / ``task_run`` / ``deployment``: Prefect's ``prefect.runtime``."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

import pytest

import flowc
from flowc import flow, runtime, tags, task
from flowc.task_runners import ThreadPoolTaskRunner


def test_outside_any_run_the_attributes_are_empty_as_in_prefect() -> None:
    assert runtime.flow_run.id is None
    assert runtime.flow_run.name is None
    assert runtime.flow_run.parameters == {}
    assert runtime.flow_run.run_count == 0
    assert runtime.flow_run.tags == []
    assert runtime.task_run.id is None
    assert runtime.task_run.parameters == {}
    assert runtime.deployment.id is None
    assert runtime.deployment.parameters == {}
    assert runtime.flow_run.scheduled_start_time.tzinfo is not None


def test_flow_body_and_task_on_a_thread_see_their_own_run() -> None:
    seen: dict[str, Any] = {}

    @task
    def work(x: int) -> int:
        seen["task"] = (
            runtime.task_run.name,
            runtime.task_run.task_name,
            runtime.task_run.parameters,
            runtime.task_run.run_count,
            runtime.task_run.id,
            runtime.flow_run.name,
        )
        return x * 2

    @flow(name="info-flow", task_runner=ThreadPoolTaskRunner(max_workers=2))
    def info_flow(n: int = 4) -> int:
        seen["flow"] = (
            runtime.flow_run.name,
            runtime.flow_run.flow_name,
            runtime.flow_run.parameters,
            runtime.flow_run.run_count,
            runtime.flow_run.id,
            runtime.flow_run.scheduled_start_time,
            runtime.deployment.flow_run_id,
            runtime.deployment.parameters,
            runtime.task_run.id,
        )
        upstream = work.submit(n)
        return work.submit(upstream).result()

    with flowc.capture() as runs:
        assert info_flow(n=5) == 20
    flow_run = runs.last
    name, flow_name, parameters, run_count, run_id, start, dep_run_id, dep_params, no_task = seen[
        "flow"
    ]
    assert (name, flow_name, parameters, run_count) == (flow_run.run_name, "info-flow", {"n": 5}, 1)
    assert run_id == dep_run_id == str(flow_run.id)
    assert dep_params == {"n": 5}
    assert no_task is None
    assert isinstance(start, datetime.datetime)
    second = flow_run.records[1]
    assert seen["task"] == (second.name, "work", {"x": 10}, 1, str(second.id), flow_run.run_name)


def test_run_count_counts_retries() -> None:
    counts: list[int] = []

    @task(retries=2, retry_delay_seconds=0)
    def flaky() -> int:
        counts.append(runtime.task_run.run_count)
        if len(counts) < 3:
            raise ValueError("not yet")
        return len(counts)

    @flow
    def retrying() -> int:
        return flaky()

    assert retrying() == 3
    assert counts == [1, 2, 3]


def test_subflow_knows_its_parent_and_root() -> None:
    seen: dict[str, Any] = {}

    @flow
    def child() -> None:
        seen["child"] = (runtime.flow_run.parent_flow_run_id, runtime.flow_run.root_flow_run_id)

    @flow
    def parent() -> None:
        seen["parent"] = runtime.flow_run.id
        child()

    parent()
    assert seen["child"] == (seen["parent"], seen["parent"])


def test_tags_of_enclosing_blocks_reach_the_runs() -> None:
    seen: dict[str, Any] = {}

    @task(tags=["own"])
    def tagged() -> None:
        seen["task"] = runtime.task_run.tags

    @flow
    def tag_flow() -> None:
        seen["flow"] = runtime.flow_run.tags
        with tags("inner"):
            tagged()

    with tags("outer"):
        tag_flow()
    assert seen == {"flow": ["outer"], "task": ["inner", "outer", "own"]}


def test_environment_overrides_are_cast_to_the_attribute_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__RUN_COUNT", "7")
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__NAME", "pretend")
    monkeypatch.setenv("PREFECT__RUNTIME__TASK_RUN__CUSTOM", "anything")
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__SCHEDULED_START_TIME", "2026-01-02T03:04:05")
    assert runtime.flow_run.run_count == 7
    assert runtime.flow_run.name == "pretend"
    assert runtime.task_run.custom == "anything"
    assert runtime.flow_run.scheduled_start_time == datetime.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc
    )
    monkeypatch.setenv("PREFECT__RUNTIME__FLOW_RUN__PARAMETERS", "{}")
    with pytest.raises(ValueError, match="cannot be overridden"):
        runtime.flow_run.parameters  # noqa: B018


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        runtime.flow_run.nope  # noqa: B018
    with pytest.raises(AttributeError):
        runtime.not_a_module  # noqa: B018


def test_submodules_import_by_name_and_list_their_fields() -> None:
    module = importlib.import_module("flowc.runtime.flow_run")
    assert module is runtime.flow_run
    assert "scheduled_start_time" in dir(module)
    from flowc.runtime.flow_run import name  # module __getattr__ serves from-imports too

    assert name is None
