"""Generator flows (``flowc.runtime.generators``): lazy, interleaved, ended as Prefect ends them."""

from __future__ import annotations

import gc

import pytest

from flowc import capture, flow, task
from flowc.exceptions import ParameterTypeError
from flowc.runtime.context import flow_run_var


@task
def square(x: int) -> int:
    return x * x


@flow
def squares(n: int):
    for i in range(n):
        events.append(f"body {i}")
        yield square(i)
    return "done"


events: list[str] = []


def test_items_interleave_with_the_consumer_and_the_run_completes() -> None:
    events.clear()
    with capture() as runs:
        for value in squares(3):
            events.append(f"got {value}")
            assert flow_run_var.get() is None  # the run's context stays in the body's thread
    assert events == ["body 0", "got 0", "body 1", "got 1", "body 2", "got 4"]
    run = runs.last
    assert run.state.is_completed() and run.state.result() == "done"
    assert [record.task.name for record in run.records] == ["square"] * 3


def test_a_consumer_that_stops_early_completes_the_run() -> None:
    events.clear()
    with capture() as runs:
        items = squares(10)
        assert next(items) == 0
        items.close()
        assert runs.last.state.is_completed() and runs.last.state.result() is None
    assert events == ["body 0"]


def test_a_dropped_generator_completes_the_run_and_what_it_yielded_lives_on() -> None:
    consumed = []

    def inner():
        yield from [1, 2]
        consumed.append(True)

    @flow
    def outer():
        yield inner()

    with capture() as runs:
        generator = next(outer())
        gc.collect()
        assert runs.last.state.is_completed()
    assert list(generator) == [1, 2] and consumed == [True]


def test_a_body_that_raises_fails_the_run_and_the_consumer_sees_it() -> None:
    @flow
    def broken():
        yield 1
        raise ValueError("bad item")

    seen = []
    with capture() as runs, pytest.raises(ValueError, match="bad item"):
        for value in broken():
            seen.append(value)
    assert seen == [1] and runs.last.state.is_failed()


def test_return_state_and_bad_parameters_as_prefect() -> None:
    with pytest.raises(ValueError, match="must be 'result'"):
        squares(2, return_state=True)
    with capture() as runs, pytest.raises(ParameterTypeError):
        squares("many")
    assert runs.last.state.is_failed()


def test_a_generator_subflow_is_recorded_at_its_call_site() -> None:
    @flow
    def two():
        yield 1
        yield 2

    @flow
    def parent():
        return sum(two())

    with capture() as runs:
        assert parent() == 3
    [record] = runs.last.records
    assert record.kind == "subflow" and record.state.is_completed()
    assert record.site is not None and record.site[0] == __file__
