"""Calling conventions of tasks: direct calls, .submit, .map, options and names."""

from __future__ import annotations

import threading

import pytest

from flowc import Task, flow, task
from flowc.exceptions import ReservedArgumentError
from flowc.futures import PrefectFuture, PrefectFutureList
from flowc.states import State


@task
def add(x, y=10):
    return x + y


@task(name="custom-name", retries=2)
def named():
    return "named"


def test_task_decorator_bare_and_with_arguments():
    assert isinstance(add, Task) and add.name == "add"
    assert named.name == "custom-name" and named.retries == 2


def test_task_called_outside_flow_runs_the_function():
    assert add(1) == 11


def test_direct_call_in_flow_returns_value_in_calling_thread():
    seen = {}

    @task
    def where():
        seen["thread"] = threading.get_ident()
        return "value"

    @flow
    def direct():
        return where(), threading.get_ident()

    value, flow_thread = direct()
    assert value == "value"
    assert seen["thread"] == flow_thread


def test_direct_call_raises_the_task_exception_in_the_flow():
    @task
    def boom():
        raise KeyError("nope")

    @flow
    def calls_boom():
        try:
            boom()
        except KeyError as exc:
            return f"caught {exc}"

    assert calls_boom() == "caught 'nope'"


def test_direct_call_with_return_state_returns_state():
    @flow
    def f():
        return add(1, return_state=True)

    state = f()
    assert isinstance(state, State) and state.is_completed() and state.result() == 11


def test_submit_returns_future_at_once():
    gate = threading.Event()

    @task
    def blocked():
        gate.wait(5)
        return 1

    @flow
    def f():
        future = blocked.submit()
        assert isinstance(future, PrefectFuture)
        assert not future.state.is_final()
        gate.set()
        return future.result()

    assert f() == 1


def test_submit_binds_arguments_by_name_with_defaults():
    @flow
    def f():
        future = add.submit(1)
        return future.task_run.parameters, future.result()

    parameters, result = f()
    assert parameters == {"x": 1, "y": 10}
    assert result == 11


def test_submit_outside_flow_raises_runtime_error():
    with pytest.raises(RuntimeError, match="outside of a flow run"):
        add.submit(1)


def test_map_outside_flow_raises_runtime_error():
    with pytest.raises(RuntimeError, match="outside of a flow run"):
        add.map([1, 2])


def test_submit_with_return_state_returns_final_state():
    @flow
    def f():
        return add.submit(1, return_state=True)

    state = f()
    assert isinstance(state, State) and state.is_completed() and state.result() == 11


def test_map_returns_future_list_in_input_order():
    @flow
    def f():
        futures = add.map([3, 2, 1])
        assert isinstance(futures, PrefectFutureList) and isinstance(futures, list)
        return futures.result()

    assert f() == [13, 12, 11]


def test_map_with_return_state_returns_states():
    @flow
    def f():
        return add.map([1, 2], return_state=True)

    states = f()
    assert [s.result() for s in states] == [11, 12]


@pytest.mark.parametrize("reserved", ["wait_for", "return_state"])
def test_reserved_parameter_names_rejected_at_decoration(reserved):
    namespace: dict = {}
    exec(f"def f({reserved}): return 1", namespace)
    with pytest.raises(ReservedArgumentError, match=reserved) as info:
        task(namespace["f"])
    assert isinstance(info.value, TypeError)


def test_with_options_returns_copy_with_changes():
    renamed = add.with_options(name="renamed", retries=3)
    assert renamed.name == "renamed" and renamed.retries == 3
    assert add.name == "add" and add.retries == 0
    assert renamed(1) == 11


def test_with_options_rejects_unknown_option():
    with pytest.raises(TypeError, match="bogus"):
        add.with_options(bogus=1)


def test_task_accepts_prefect_only_options():
    @task(cache_policy=None, result_storage=None, persist_result=True)
    def t():
        return 1

    assert t() == 1


def test_unknown_task_option_is_rejected():
    with pytest.raises(TypeError, match="nonsense"):
        task(nonsense=True)


def test_bad_arguments_raise_type_error_naming_the_task():
    @flow
    def f():
        add.submit(1, 2, 3)

    with pytest.raises(TypeError, match=r"add\(\) too many positional arguments"):
        f()


def test_flow_name_defaults_to_function_name_with_dashes():
    @flow
    def my_flow_fn():
        return None

    @flow(name="given")
    def other():
        return None

    assert my_flow_fn.name == "my-flow-fn"
    assert other.name == "given"


def test_tasks_can_submit_tasks_and_record_their_parent():
    @task
    def child(x):
        return x * 2

    @task
    def parent_task(x):
        return child.submit(x).result() + child(x)

    @flow
    def f():
        return parent_task.submit(5).result()

    from flowc import capture

    with capture() as runs:
        assert f() == 20
    records = runs.last.records
    parent_run = next(r for r in records if r.task.name == "parent_task")
    children = [r for r in records if r.task.name == "child"]
    assert len(children) == 2
    assert all(r.parent is parent_run for r in children)


def test_task_run_name_from_template_and_callable():
    @task(task_run_name="add-{x}-to-{y}")
    def templated(x, y):
        return x + y

    @task(task_run_name=lambda: "fixed")
    def fixed():
        return 0

    @flow
    def f():
        first, second = templated.submit(1, 2), fixed.submit()
        first.wait()
        second.wait()
        return first.task_run.name, second.task_run.name

    assert f() == ("add-1-to-2", "fixed")


def test_variadic_task_parameters():
    @task
    def total(*values, scale=1, **extra):
        return sum(values) * scale + sum(extra.values())

    @flow
    def f():
        return total.submit(1, 2, 3, scale=2, bonus=4).result()

    assert f() == 16


def test_async_task_submitted_runs_on_its_own_loop():
    @task
    async def double(x):
        import asyncio

        await asyncio.sleep(0)
        return x * 2

    @flow
    def f():
        return double.submit(4).result()

    assert f() == 8
