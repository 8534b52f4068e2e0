"""Futures, future lists, wait() and as_completed(), as Prefect shapes them."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from flowc import flow, task
from flowc.exceptions import UnfinishedRun
from flowc.futures import DoneAndNotDoneFutures, as_completed, wait


@task
def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


@task
def fail(message="boom"):
    raise ValueError(message)


def test_result_waits_and_returns_value():
    @flow
    def f():
        return sleep_then.submit(0.05, "done").result()

    assert f() == "done"


def test_result_timeout_raises_timeout_error_naming_the_run():
    @flow
    def f():
        future = sleep_then.submit(0.5, 1)
        with pytest.raises(TimeoutError, match=r"did not complete within 0.01 seconds"):
            future.result(timeout=0.01)
        return future.result()

    assert f() == 1


def test_result_reraises_original_exception():
    @flow
    def f():
        with pytest.raises(ValueError, match="boom"):
            fail.submit().result()
        return "ok"

    assert f() == "ok"


def test_result_without_raise_on_failure_returns_exception():
    @flow
    def f():
        return fail.submit("bad").result(raise_on_failure=False)

    error = f()
    assert isinstance(error, ValueError) and str(error) == "bad"


def test_result_of_not_ready_run_raises_unfinished_run_even_without_raise_on_failure():
    @flow
    def f():
        downstream = sleep_then.submit(0, fail.submit())
        with pytest.raises(UnfinishedRun):
            downstream.result(raise_on_failure=False)
        return downstream.state.name

    assert f() == "NotReady"


def test_wait_never_raises_for_failure_or_timeout():
    @flow
    def f():
        failing = fail.submit()
        assert failing.wait() is None
        slow = sleep_then.submit(0.3, 1)
        assert slow.wait(timeout=0.01) is None
        assert not slow.state.is_final()
        return slow.result(), failing.state.is_failed()

    assert f() == (1, True)


def test_state_and_task_run_id():
    @flow
    def f():
        future = sleep_then.submit(0, 1)
        future.wait()
        return future.state, future.task_run_id

    state, run_id = f()
    assert state.is_completed()
    assert isinstance(run_id, uuid.UUID) and run_id.version == 4


def test_add_done_callback_sees_final_state_and_runs_once():
    calls = []

    @flow
    def f():
        future = sleep_then.submit(0.05, 7)
        future.add_done_callback(lambda fut: calls.append(fut.state.is_final()))
        future.wait()
        future.add_done_callback(lambda fut: calls.append("late"))
        return None

    f()
    assert calls == [True, "late"]


def test_future_list_result_in_list_order():
    @flow
    def f():
        return sleep_then.map([0.1, 0.0, 0.05], ["a", "b", "c"]).result()

    assert f() == ["a", "b", "c"]


def test_future_list_result_raises_first_failure_to_complete():
    @task
    def slow_fail(seconds, message):
        time.sleep(seconds)
        raise ValueError(message)

    @flow
    def f():
        futures = slow_fail.map([0.3, 0.01], ["slow", "fast"])
        with pytest.raises(ValueError, match="fast"):
            futures.result()
        return None

    f()


def test_future_list_wait_never_raises_and_result_timeout_raises():
    @flow
    def f():
        futures = sleep_then.map([0.3, 0.3], [1, 2])
        futures.wait(timeout=0.01)
        with pytest.raises(TimeoutError):
            futures.result(timeout=0.01)
        with pytest.raises(ValueError):
            futures.result(timeout=-1)
        futures.wait()
        return None

    f()


def test_wait_returns_done_and_not_done_sets_without_duplicates():
    @flow
    def f():
        fast = sleep_then.submit(0, 1)
        slow = sleep_then.submit(0.5, 2)
        fast.wait()
        result = wait([fast, fast, slow], timeout=0.05)
        assert isinstance(result, DoneAndNotDoneFutures)
        assert result.done == {fast} and result.not_done == {slow}
        everything = wait([fast, slow])
        return len(everything.done), len(everything.not_done)

    assert f() == (2, 0)


def test_wait_negative_timeout_raises_value_error():
    @flow
    def f():
        future = sleep_then.submit(0, 1)
        with pytest.raises(ValueError):
            wait([future], timeout=-1)
        return future.result()

    f()


def test_as_completed_yields_final_first_then_completion_order_each_once():
    @flow
    def f():
        done_already = sleep_then.submit(0, "first")
        done_already.wait()
        slow = sleep_then.submit(0.3, "slow")
        quick = sleep_then.submit(0.05, "quick")
        return [fut.result() for fut in as_completed([slow, quick, done_already, quick])]

    assert f() == ["first", "quick", "slow"]


def test_as_completed_timeout_raises_with_count():
    @flow
    def f():
        slow = sleep_then.submit(0.5, 1)
        with pytest.raises(TimeoutError, match=r"1 \(of 1\) futures unfinished"):
            list(as_completed([slow], timeout=0.01))
        return slow.result()

    f()


def test_futures_are_hashable_and_equal_by_run():
    @flow
    def f():
        future = sleep_then.submit(0, 1)
        future.wait()
        return {future, future}, future

    futures, future = f()
    assert len(futures) == 1


def test_many_waiters_on_one_future():
    results = []

    @flow
    def f():
        future = sleep_then.submit(0.05, 3)
        threads = [
            threading.Thread(target=lambda: results.append(future.result())) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return None

    f()
    assert results == [3] * 8
