"""Flow runs: the final state from the return value, subflows, async flows, options."""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
import warnings

import pytest

from flowc import capture, flow, task
from flowc.exceptions import ParameterTypeError, UnfinishedRun
from flowc.runtime.flowrun import UnresolvedFuturesWarning
from flowc.states import Completed, Failed, State


@task
def ok(x=1):
    return x


@task
def fail(message="boom"):
    raise ValueError(message)


def test_returned_future_is_waited_and_becomes_a_state_in_the_return_value():
    @flow
    def f():
        return ok.submit(5)

    state = f()
    assert isinstance(state, State) and state.is_completed() and state.result() == 5


def test_all_completed_futures_aggregate_to_completed():
    @flow
    def f():
        return [ok.submit(1), ok.submit(2)]

    state = f(return_state=True)
    assert state.is_completed() and state.message == "All states completed."
    assert [s.result() for s in state.result()] == [1, 2]


def test_any_failed_future_in_flat_list_fails_the_flow_with_counts():
    @flow
    def f():
        return (ok.submit(), fail.submit(), fail.submit())

    state = f(return_state=True)
    assert state.is_failed() and state.message == "2/3 states failed."


def test_failed_flow_raises_the_exception_that_failed_it():
    @flow
    def f():
        return [ok.submit(), fail.submit("first failure")]

    with pytest.raises(ValueError, match="first failure"):
        f()


def test_not_ready_upstream_fails_flow_with_unfinished_run_naming_it():
    @flow
    def f():
        return ok.submit(fail.submit())

    state = f(return_state=True)
    assert state.is_failed() and state.message == "1/1 states are not final."
    with pytest.raises(UnfinishedRun, match="Upstream task run '.*' did not reach"):
        f()


def test_other_return_values_complete_even_if_tasks_failed():
    @flow
    def returns_dict():
        return {"bad": fail.submit()}

    @flow
    def returns_nested_list():
        return [[fail.submit()]]

    @flow
    def returns_mixed():
        return [fail.submit(), 3]

    @flow
    def returns_none():
        fail.submit().wait()

    for f in (returns_dict, returns_nested_list, returns_mixed, returns_none):
        assert f(return_state=True).is_completed(), f.name
    assert returns_dict()["bad"].is_failed()


def test_exception_escaping_the_body_fails_the_flow():
    @flow
    def f():
        raise RuntimeError("body broke")

    state = f(return_state=True)
    assert state.is_failed()
    assert state.message == "Flow run encountered an exception: RuntimeError: body broke"
    with pytest.raises(RuntimeError, match="body broke"):
        f()


def test_manual_state_returned_is_the_flow_state():
    @flow
    def completes():
        return Completed(message="done by hand", data=7)

    @flow
    def fails():
        return Failed(message="failed by hand")

    assert completes(return_state=True).message == "done by hand"
    assert completes() == 7
    assert fails(return_state=True).message == "failed by hand"


def test_unresolved_futures_are_waited_at_flow_exit_with_a_warning_naming_sites():
    finished = []

    @task
    def slow():
        time.sleep(0.2)
        finished.append(True)

    @flow
    def f():
        slow.submit()

    with pytest.warns(
        UnresolvedFuturesWarning, match=r"1 unresolved future.*test_flows.py:\d+ \(slow\)"
    ):
        f()
    assert finished == [True]


def test_resolved_futures_do_not_warn():
    @flow
    def f():
        upstream = ok.submit(1)
        ok.submit(upstream).wait()
        many = ok.map([1, 2])
        return many

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnresolvedFuturesWarning)
        f()


def test_subflow_is_recorded_in_parent_as_flow_task_run_with_upstreams():
    @flow(name="child-flow")
    def child(x):
        return ok.submit(x)

    @flow
    def parent():
        upstream = ok.submit(2)
        return child(upstream)

    with capture() as runs:
        state = parent()
    assert state.is_completed() and state.result() == 2
    records = runs.last.records
    names = [(r.task.name, r.flow_name) for r in records]
    assert names == [("ok", "parent"), ("flow:child-flow", "parent"), ("ok", "child-flow")]
    upstream, record, inner = records
    assert list(record.upstreams.runs.values()) == [upstream]
    assert record.state.is_completed()


def test_subflow_returning_futures_gives_parent_states_that_keep_lineage():
    @flow
    def child():
        return [ok.submit(1), ok.submit(2)]

    @task
    def total(values):
        return sum(values)

    @flow
    def parent():
        states = child()
        return total.submit(states).result()

    with capture() as runs:
        assert parent() == 3
    records = runs.last.records
    total_run = next(r for r in records if r.task.name == "total")
    assert sorted(up.task.name for up in total_run.upstreams.runs.values()) == ["ok", "ok"]


def test_subflow_enters_its_own_runner():
    from flowc.task_runners import ThreadPoolTaskRunner

    seen = []

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def child():
        future = ok.submit(1)
        from flowc.runtime.context import current_flow_run

        seen.append(current_flow_run().runner)
        return future.result()

    @flow
    def parent():
        from flowc.runtime.context import current_flow_run

        seen.append(current_flow_run().runner)
        return child()

    assert parent() == 1
    assert seen[0] is not seen[1]
    assert seen[1].max_workers == 1


def test_parameters_are_validated_and_coerced():
    @flow
    def typed(n: int, ratio: float = 0.5):
        return n, ratio

    assert typed("3") == (3, 0.5)
    with pytest.raises(ParameterTypeError, match="n"):
        typed("three")


def test_invalid_parameters_give_a_failed_flow_run_then_raise():
    failures = []

    @flow(on_failure=[lambda fl, run, state: failures.append(state.name)])
    def typed(name: str = "x"):
        raise AssertionError("the body must not run")

    with capture() as runs:
        with pytest.raises(ParameterTypeError) as raised:
            typed(name=1)
        state = typed(name=2, return_state=True)
    assert (
        str(raised.value)
        == "Flow run received invalid parameters:\n - name: Input should be a valid string"
    )
    assert [run.state.name for run in runs.flow_runs] == ["Failed", "Failed"]
    assert state is runs.flow_runs[1].state and state.is_failed()
    assert state.message.startswith(
        "Validation of flow parameters failed with error: ParameterTypeError: Flow run received"
    )
    assert failures == ["Failed", "Failed"]
    report = runs.report(runs.flow_runs[0])
    assert report["state"]["type"] == "FAILED" and report["task_runs"] == []


def test_a_subflow_with_invalid_parameters_is_a_failed_subflow_run():
    @flow
    def child(n: int):
        return n

    @flow
    def parent():
        try:
            child("three")
        except ParameterTypeError:
            return "caught"

    with capture() as runs:
        assert parent() == "caught"
    tree = runs.last
    assert [(run.name, run.state.name) for run in tree.flow_runs] == [
        ("parent", "Completed"),
        ("child", "Failed"),
    ]
    [record] = tree.records
    assert record.kind == "subflow" and record.state.is_failed()


def test_a_returned_generator_is_consumed_inside_the_flow_run():
    seen = []

    def numbers():
        yield from [1, 2, 3]
        seen.append("consumed")

    @flow
    def f():
        return numbers()

    with capture() as runs:
        returned = f()
        assert seen == ["consumed"]  # before the flow run ended, as in Prefect
    assert runs.last.state.is_completed() and runs.last.state.result() == [1, 2, 3]
    assert runs.report()["result"] == "[1, 2, 3]"
    # Prefect gives back the generator itself, already consumed.
    assert inspect.isgenerator(returned) and list(returned) == []
    assert f(return_state=True).result() == [1, 2, 3]


def test_other_iterators_are_returned_as_they_are():
    @flow
    def f():
        return iter([1, 2])

    assert list(f()) == [1, 2]


def test_validation_can_be_turned_off():
    @flow(validate_parameters=False)
    def untyped(n: int):
        return n

    assert untyped("3") == "3"


def test_flow_retries_rerun_the_body():
    attempts = []

    @flow(retries=2)
    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return "third time"

    assert flaky() == "third time"
    assert len(attempts) == 3


def test_flow_timeout_fails_with_timed_out():
    import threading

    release, ended = threading.Event(), []

    @flow(timeout_seconds=0.2)
    def slow():
        release.wait(90)
        ended.append(True)

    try:
        state = slow(return_state=True)
        assert ended == []  # the run ended at its timeout, not when the body did
    finally:
        release.set()
    assert state.is_failed() and state.name == "TimedOut"


def test_flow_hooks_are_called_with_flow_run_and_state():
    calls = []

    def on_completion(flow_, flow_run, state):
        calls.append(("completed", flow_.name, state.type.value))

    def on_failure(flow_, flow_run, state):
        calls.append(("failed", flow_.name, state.type.value))

    @flow(on_completion=[on_completion], on_failure=[on_failure])
    def good():
        return 1

    @flow(on_completion=[on_completion], on_failure=[on_failure])
    def bad():
        raise ValueError("x")

    good()
    bad(return_state=True)
    assert calls == [("completed", "good", "COMPLETED"), ("failed", "bad", "FAILED")]


def test_async_flow_returns_a_coroutine_and_runs_async_tasks():
    @task
    async def double(x):
        await asyncio.sleep(0)
        return x * 2

    @flow
    async def f(x):
        direct = await double(x)
        submitted = double.submit(direct)
        return submitted.result()

    coroutine = f(3)
    assert asyncio.iscoroutine(coroutine)
    assert asyncio.run(coroutine) == 12


def test_sync_task_called_in_async_flow_returns_value():
    @flow
    async def f():
        return ok(4)

    assert asyncio.run(f()) == 4


def test_each_flow_run_gets_a_fresh_runner():
    from flowc.task_runners import ThreadPoolTaskRunner

    template = ThreadPoolTaskRunner(max_workers=2)

    @flow(task_runner=template)
    def f():
        return ok.submit(1).result()

    assert f() == 1 and f() == 1
    assert not template.started


def test_interrupt_stops_the_flow_at_once_and_finishes_its_record():
    import os
    import signal
    import threading

    @task
    def nap(seconds):
        time.sleep(seconds)

    @flow
    def f():
        futures = [nap.submit(2) for _ in range(10)]
        futures[0].wait()

    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with capture() as runs, pytest.raises(KeyboardInterrupt):
        f()
    assert time.monotonic() - start < 1.5
    flow_run = runs.last
    assert flow_run.state.is_crashed() and flow_run.end is not None
    assert all(run.state.is_final() for run in flow_run.records)
    assert {run.state.name for run in flow_run.records} <= {"Cancelled", "Completed", "Crashed"}


def test_a_runner_that_cannot_start_crashes_the_flow_run_with_its_message():
    from flowc.task_runners import ThreadPoolTaskRunner

    class Unreachable(ThreadPoolTaskRunner):
        def duplicate(self):
            return Unreachable()

        def _start(self):
            raise ConnectionError("nobody answers at tcp://10.0.0.1:8786")

    @flow(task_runner=Unreachable())
    def f():
        return ok()

    with capture() as runs:
        state = f(return_state=True)
    assert state.is_crashed()
    assert "could not start: ConnectionError: nobody answers" in state.message
    assert runs.last.end is not None
    with pytest.raises(ConnectionError):
        f()


def test_recursion_past_the_interpreters_limit_fails_instead_of_hanging():
    @task
    def leaf(n):
        return n

    @flow
    def rec(n: int) -> int:
        return 0 if n <= 0 else leaf(n) + rec(n - 1)

    with capture() as runs, pytest.raises(RecursionError):
        rec(sys.getrecursionlimit())
    top = runs.last
    assert top.state.is_failed() and "RecursionError" in top.state.message
    assert all(run.is_final() for run in top.records)
    assert all(run.state.is_final() for run in top.flow_runs)


def test_a_returned_map_aggregates_its_states_like_a_list():
    @flow
    def f():
        return fail.map(["a", "b"]), ok.map([1, 2])

    @flow
    def g():
        return ok.map([1, 2])

    @flow
    def h():
        return fail.map(["a", "b"])

    assert f(return_state=True).is_completed()  # a tuple of lists: not a flat group
    state = g(return_state=True)
    assert state.is_completed() and state.message == "All states completed."
    assert type(state.result()) is list and [s.result() for s in state.result()] == [1, 2]
    failed = h(return_state=True)
    assert failed.is_failed() and failed.message == "2/2 states failed."


def test_an_empty_list_is_plain_data():
    @flow
    def f():
        return []

    state = f(return_state=True)
    assert state.is_completed() and state.message is None and state.result() == []


def test_an_interrupt_while_the_body_submits_is_not_lost():
    """Ctrl-C landing while a run is being placed stops the flow; it is not taken for a
    failure of that one run."""
    import os
    import signal

    @task
    def interrupt():
        os.kill(os.getpid(), signal.SIGINT)

    @task
    def inc(x):
        return x + 1

    @flow
    def f():
        interrupt.submit()
        return [inc.submit(i) for i in range(5000)]

    with capture() as runs, pytest.raises(KeyboardInterrupt):
        f()
    flow_run = runs.last
    assert flow_run.state.is_crashed() and flow_run.end is not None
    assert all(run.state.is_final() for run in flow_run.records)
