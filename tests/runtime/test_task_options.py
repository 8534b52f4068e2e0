"""Task options the engine honours: retries, delays, conditions, timeouts, caching, hooks."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from flowc import capture, flow, task


def _flaky(failures: int):
    """A task that fails ``failures`` times, then returns how many attempts it took."""
    attempts = []

    @task(retries=failures)
    def flaky():
        attempts.append(time.monotonic())
        if len(attempts) <= failures:
            raise RuntimeError(f"attempt {len(attempts)}")
        return len(attempts)

    return flaky, attempts


def test_retries_rerun_a_failed_task_and_count_runs():
    flaky, attempts = _flaky(2)

    @flow
    def f():
        return flaky.submit()

    with capture() as runs:
        state = f()
    assert state.result() == 3
    assert runs.last.records[0].run_count == 3


def test_retries_exhausted_leave_the_task_failed():
    @task(retries=1)
    def always():
        raise RuntimeError("always")

    @flow
    def f():
        return always.submit()

    with capture() as runs:
        state = f(return_state=True)
    assert state.is_failed()
    run = runs.last.records[0]
    assert run.run_count == 2 and run.state.is_failed()


def test_retry_delay_seconds_list_last_entry_repeats():
    flaky, attempts = _flaky(3)
    flaky = flaky.with_options(retry_delay_seconds=[0.05, 0.15])

    @flow
    def f():
        return flaky.submit().result()

    assert f() == 4
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.15 and gaps[2] >= 0.15


def test_retry_delay_callable_gets_the_number_of_retries():
    received = []

    def backoff(retries):
        received.append(retries)
        return [0.01] * retries

    @task(retries=2, retry_delay_seconds=backoff)
    def t():
        return 1

    assert received == [2]
    assert t.retry_delay_for(1) == 0.01


def test_retry_condition_fn_can_stop_retries():
    calls = []

    def only_value_errors(task_, task_run, state):
        calls.append(state.name)
        return isinstance(state.data, ValueError)

    @task(retries=3, retry_condition_fn=only_value_errors)
    def raises_type_error():
        raise TypeError("not retryable")

    @flow
    def f():
        return raises_type_error.submit()

    with capture() as runs:
        f(return_state=True)
    assert runs.last.records[0].run_count == 1
    assert calls == ["Failed"]


def test_timeout_gives_timed_out_state_on_time():
    release, ended = threading.Event(), []

    @task(timeout_seconds=0.2)
    def hangs():
        release.wait(90)
        ended.append(True)

    @flow
    def f():
        return hangs.submit()

    try:
        state = f(return_state=True)
        assert ended == []  # the run ended at its timeout, not when the call did
    finally:
        release.set()
    inner = state.data[0]
    assert inner.is_failed() and inner.name == "TimedOut"
    assert inner.message == "Task run exceeded timeout of 0.2 second(s)"


def test_timeouts_are_retried():
    attempts = []

    @task(timeout_seconds=0.2, retries=1)
    def slow_then_fast():
        attempts.append(1)
        if len(attempts) == 1:
            time.sleep(2)
        return "fast"

    @flow
    def f():
        return slow_then_fast.submit().result()

    assert f() == "fast"


def test_async_task_timeout():
    import asyncio

    @task(timeout_seconds=0.1)
    async def sleeps():
        await asyncio.sleep(5)

    @flow
    def f():
        return sleeps.submit()

    state = f(return_state=True)
    assert state.data[0].name == "TimedOut"


def test_direct_call_timeout_releases_the_flow():
    release, ended = threading.Event(), []

    @task(timeout_seconds=0.2)
    def hangs():
        release.wait(90)
        ended.append(True)

    @flow
    def f():
        return hangs(return_state=True).name

    try:
        assert f() == "TimedOut"
        assert ended == []  # the flow went on while the timed-out call was still running
    finally:
        release.set()


def test_cache_key_fn_repeat_in_a_run_is_cached():
    calls = []

    @task(cache_key_fn=lambda context, parameters: parameters["x"])
    def expensive(x):
        calls.append(x)
        return x * 10

    @flow
    def f():
        first = expensive.submit(1).result()
        second = expensive.submit(1)
        other = expensive.submit(2).result()
        return first, second.result(), second.state.name, other

    assert f() == (10, 10, "Cached", 20)
    assert calls == [1, 2]


def test_cache_expiration_expires_entries():
    calls = []

    @task(
        cache_key_fn=lambda context, parameters: "same",
        cache_expiration=datetime.timedelta(seconds=0.05),
    )
    def t():
        calls.append(1)
        return len(calls)

    @flow
    def f():
        t()
        time.sleep(0.1)
        return t()

    assert f() == 2


def test_hooks_receive_task_task_run_and_state_and_errors_are_not_raised():
    seen = []

    def on_running(task_, task_run, state):
        seen.append(("running", task_.name, state.name))

    def on_completion(task_, task_run, state):
        seen.append(("completion", task_run.name, state.name))

    def on_failure(task_, task_run, state):
        seen.append(("failure", task_.name, state.name))

    def broken_hook(task_, task_run, state):
        raise RuntimeError("hook broke")

    @task(
        task_run_name="good-run",
        on_running=[on_running],
        on_completion=[on_completion, broken_hook],
    )
    def good():
        return 1

    @task(on_failure=[on_failure, broken_hook])
    def bad():
        raise ValueError("x")

    @flow
    def f():
        return good.submit().result(), bad.submit().wait()

    assert f() == (1, None)
    assert seen == [
        ("running", "good", "Running"),
        ("completion", "good-run", "Completed"),
        ("failure", "bad", "Failed"),
    ]


def test_task_failure_message_names_the_exception():
    @task
    def raises():
        raise KeyError("missing")

    @flow
    def f():
        return raises.submit()

    state = f(return_state=True).data[0]
    assert state.message == "Task run encountered an exception KeyError: 'missing'"


def test_system_exit_in_a_task_crashes_it():
    @task
    def exits():
        raise SystemExit(1)

    @flow
    def f():
        return exits.submit()

    state = f(return_state=True).data[0]
    assert state.is_crashed()


@pytest.mark.parametrize("bad", [{"retries": -1}, {"timeout_seconds": 0}])
def test_invalid_options_are_rejected(bad):
    with pytest.raises(ValueError):
        task(**bad)(lambda: None)


def test_log_prints_sends_prints_of_that_run_to_its_logger(caplog, capsys):
    import logging

    @task(log_prints=True)
    def chatty():
        print("hello from the task")

    @task(log_prints=False)
    def quiet():
        print("plain print")

    @flow(log_prints=True)
    def f():
        print("hello from the flow")
        chatty()
        quiet()

    with caplog.at_level(logging.INFO, logger="flowc"):
        f()
    logged = [r.getMessage() for r in caplog.records]
    assert "hello from the task" in logged and "hello from the flow" in logged
    assert "plain print" not in logged
    assert "plain print" in capsys.readouterr().out
