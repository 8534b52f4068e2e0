"""Cached states exactly when Prefect 3 gives them: within a flow run, across flow runs, per
cache policy, on every runner. Each test gets a flowc home of its own, so records never leak
from one test into another."""

from __future__ import annotations

import datetime
import logging
import threading
from pathlib import Path

import pytest

from flowc import flow, task
from flowc.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NO_CACHE,
    TASK_SOURCE,
    CacheKeyFnPolicy,
    RunId,
)
from flowc.runtime.caching import NOT_SET, resolve_policy
from flowc.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("FLOWC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_RESULTS_PERSIST_BY_DEFAULT", raising=False)
    monkeypatch.delenv("PREFECT_TASKS_REFRESH_CACHE", raising=False)
    return tmp_path / "home"


def names_of(calls):
    return [state.name for state in calls]


# --------------------------------------------------------------------------- within a run


def test_persisted_task_called_twice_with_the_same_input_is_cached_the_second_time():
    ran = []

    @task(persist_result=True)
    def add_one(x: int):
        ran.append(x)
        return x + 1

    @flow
    def my_flow():
        return [add_one(1, return_state=True), add_one(1, return_state=True)] + [
            add_one(2, return_state=True)
        ]

    first, second, third = my_flow()
    assert names_of([first, second, third]) == ["Completed", "Cached", "Completed"]
    assert second.result() == 2 and ran == [1, 2]
    assert second._run.run_count == 1  # Prefect counts the run that found the record


def test_a_plain_task_is_not_cached_with_prefect_default_settings():
    ran = []

    @task
    def add_one(x: int):
        ran.append(x)
        return x + 1

    @flow
    def my_flow():
        return [add_one(1, return_state=True).name, add_one(1, return_state=True).name]

    assert my_flow() == ["Completed", "Completed"]
    assert ran == [1, 1]


def test_persisting_by_default_caches_plain_tasks(monkeypatch):
    monkeypatch.setenv("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "true")

    @task
    def add_one(x: int):
        return x + 1

    @flow
    def my_flow():
        return [add_one(1, return_state=True).name, add_one(1, return_state=True).name]

    assert my_flow() == ["Completed", "Cached"]


def test_a_flow_that_persists_results_makes_its_tasks_persist():
    @task
    def add_one(x: int):
        return x + 1

    @flow(persist_result=True)
    def my_flow():
        return [add_one(1, return_state=True).name, add_one(1, return_state=True).name]

    assert my_flow() == ["Completed", "Cached"]


def test_submitted_runs_are_cached_once_the_first_has_committed():
    @task(cache_policy=INPUTS)
    def square(x: int):
        return x * x

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def my_flow():
        first = square.submit(3)
        first.wait()
        second = square.submit(3)
        return first.state.name, second.result(), second.state.name

    assert my_flow() == ("Completed", 9, "Cached")


def test_caching_works_on_the_process_runner():
    @task(cache_policy=INPUTS)
    def square(x: int):
        return x * x

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def my_flow():
        square.submit(4).wait()
        second = square.submit(4)
        second.wait()
        return second.state.name

    assert my_flow() == "Cached"


# --------------------------------------------------------------------------- across runs


def _twice(task_fn, *args, flow_args=()):
    """The state names of one call of ``task_fn(*args)`` in each of two flow runs."""

    @flow
    def my_flow(*_):
        return task_fn(*args, return_state=True).name

    return my_flow(*flow_args), my_flow(*flow_args)


def test_default_policy_does_not_cache_across_flow_runs():
    @task(persist_result=True)
    def t(x):
        return x

    assert _twice(t, 1) == ("Completed", "Completed")


@pytest.mark.parametrize("policy", [INPUTS, INPUTS + TASK_SOURCE, TASK_SOURCE])
def test_policies_without_the_run_id_cache_across_flow_runs(policy):
    @task(cache_policy=policy)
    def t(x):
        return x

    assert _twice(t, 1) == ("Completed", "Cached")


def test_no_cache_never_caches():
    @task(cache_policy=NO_CACHE, persist_result=True)
    def t(x):
        return x

    assert _twice(t, 1) == ("Completed", "Completed")


def test_persist_result_false_turns_a_cache_policy_off():
    @task(cache_policy=INPUTS, persist_result=False)
    def t(x):
        return x

    assert _twice(t, 1) == ("Completed", "Completed")


def test_excluded_inputs_do_not_change_the_key():
    ran = []

    @task(cache_policy=INPUTS - "debug")
    def t(x, debug=False):
        ran.append((x, debug))
        return x + 1

    @flow
    def my_flow():
        return [t(1, return_state=True).name, t(1, debug=True, return_state=True).name]

    assert my_flow() == ["Completed", "Cached"]
    assert ran == [(1, False)]


def test_flow_parameters_policy_follows_the_flow_parameters():
    @task(cache_policy=FLOW_PARAMETERS)
    def t():
        return 1

    @flow
    def my_flow(day: str):
        return t(return_state=True).name

    assert [my_flow("mon"), my_flow("mon"), my_flow("tue")] == ["Completed", "Cached", "Completed"]


def test_cache_key_fn_caches_across_flow_runs_under_its_own_key():
    @task(cache_key_fn=lambda context, parameters: f"static-{parameters['x']}")
    def t(x):
        return x

    @task(cache_key_fn=lambda context, parameters: f"static-{parameters['x']}")
    def other(x):
        return -x

    assert _twice(t, 1) == ("Completed", "Cached")

    @flow
    def shared():
        return other(1)

    assert shared() == 1  # same key, same record: the other task's result, as in Prefect


def test_cache_key_fn_receives_prefect_task_run_context():
    seen = {}

    def key(context, parameters):
        seen.update(
            task=context.task.name,
            flow_run_id=context.task_run.flow_run_id,
            parameters=dict(parameters),
        )
        return "k"

    @task(cache_key_fn=key)
    def t(x):
        return x

    @flow
    def my_flow():
        return t(5)

    state = my_flow(return_state=True)
    assert seen["task"] == "t" and seen["parameters"] == {"x": 5}
    assert seen["flow_run_id"] is not None and state.is_completed()


def test_result_storage_key_is_a_key_formatted_with_the_parameters(home):
    @task(result_storage_key="hello-{parameters[name]}.pickle")
    def hello(name: str = "world"):
        return f"hello {name}"

    @flow
    def my_flow():
        return [
            hello(return_state=True).name,
            hello(name="foo", return_state=True).name,
            hello(name="foo", return_state=True).name,
        ]

    assert my_flow() == ["Completed", "Completed", "Cached"]
    from flowc.filesystems import LocalFileSystem
    from flowc.results import ResultStore

    store = ResultStore(result_storage=LocalFileSystem(basepath=str(home / "storage")))
    assert store.read("hello-foo.pickle").result == "hello foo"


def test_refresh_cache_runs_again_and_rewrites_the_record():
    values = iter([1, 2, 3])

    @task(cache_policy=TASK_SOURCE, refresh_cache=True)
    def fresh():
        return next(values)

    assert _twice(fresh) == ("Completed", "Completed")


def test_refresh_cache_setting_applies_to_every_task(monkeypatch):
    @task(cache_policy=INPUTS)
    def t(x):
        return x

    @flow
    def my_flow():
        return t(1, return_state=True).name

    assert my_flow() == "Completed"
    monkeypatch.setenv("PREFECT_TASKS_REFRESH_CACHE", "true")
    assert my_flow() == "Completed"


def test_cache_expiration_lets_the_record_expire():
    @task(cache_policy=INPUTS, cache_expiration=datetime.timedelta(seconds=-1))
    def expired(x):
        return x

    @task(cache_policy=INPUTS, cache_expiration=datetime.timedelta(hours=1))
    def fresh(x):
        return x

    assert _twice(expired, 1) == ("Completed", "Completed")
    assert _twice(fresh, 1) == ("Completed", "Cached")


def test_unhashable_inputs_run_uncached_with_a_warning(caplog):
    @task(cache_policy=INPUTS)
    def t(lock):
        return 1

    @flow
    def my_flow():
        lock = threading.Lock()
        return [t(lock, return_state=True).name, t(lock, return_state=True).name]

    with caplog.at_level(logging.WARNING, logger="flowc.runtime"):
        assert my_flow() == ["Completed", "Completed"]
    assert any("cache key" in record.getMessage() for record in caplog.records)


def test_a_failed_run_writes_no_record():
    attempts = []

    @task(cache_policy=INPUTS)
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise ValueError("first time")
        return x

    @flow
    def my_flow():
        return flaky(1, return_state=True).name

    assert [my_flow(), my_flow(), my_flow()] == ["Failed", "Completed", "Cached"]


def test_a_pydantic_input_hashes_by_its_serializer():
    """Prefect's documented way to cache a model holding an unpicklable object."""
    from pydantic import BaseModel, ConfigDict, model_serializer

    class NotSerializable:
        def __getstate__(self):
            raise TypeError("I will not be serialized!")

    class Holder(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        name: str
        bad_object: NotSerializable

        @model_serializer
        def ser_model(self) -> dict:
            return {"name": self.name}

    @task(cache_policy=INPUTS + RunId())
    def use_object(some_object: Holder) -> str:
        return f"Used {some_object.name}"

    @flow
    def demo_flow():
        obj = Holder(name="test", bad_object=NotSerializable())
        return [use_object(obj, return_state=True).name, use_object(obj, return_state=True).name]

    assert demo_flow() == ["Completed", "Cached"]


def test_cache_key_fn_policy_added_to_run_id():
    @task(cache_policy=CacheKeyFnPolicy(cache_key_fn=lambda ctx, params: "name") + RunId())
    def t():
        return 1

    @flow
    def my_flow():
        return [t(return_state=True).name, t(return_state=True).name]

    assert my_flow() == ["Completed", "Cached"]
    assert my_flow() == ["Completed", "Cached"]  # a new run id: a new key


# --------------------------------------------------------------------------- task options


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, (None, DEFAULT)),
        ({"persist_result": True}, (True, DEFAULT)),
        ({"persist_result": False}, (False, NO_CACHE)),
        ({"cache_policy": INPUTS}, (True, INPUTS)),
        ({"cache_policy": INPUTS, "persist_result": False}, (False, NO_CACHE)),
        ({"cache_policy": NO_CACHE}, (None, NO_CACHE)),
        ({"cache_policy": None, "persist_result": True}, (True, None)),
        ({"result_storage_key": "k"}, (True, None)),
    ],
)
def test_options_resolve_as_prefect_resolves_them(given, expected):
    persist, policy = resolve_policy(
        given.get("persist_result"),
        given.get("cache_policy", NOT_SET),
        None,
        given.get("result_storage_key"),
        None,
        None,
    )
    assert (persist, policy) == expected


def test_cache_key_fn_becomes_the_policy_and_persists():
    key = lambda context, parameters: "k"  # noqa: E731
    persist, policy = resolve_policy(None, NOT_SET, key, None, None, None)
    assert persist is True and isinstance(policy, CacheKeyFnPolicy) and policy.cache_key_fn is key


def test_with_options_keeps_the_options_as_given():
    @task(cache_policy=INPUTS)
    def t(x):
        return x

    unpersisted = t.with_options(persist_result=False)
    assert unpersisted.cache_policy == NO_CACHE and t.cache_policy == INPUTS
