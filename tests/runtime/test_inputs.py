"""Futures inside arguments: resolved wherever they sit, and recorded as upstream edges."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import pydantic

from flowc import allow_failure, capture, flow, quote, task, unmapped
from flowc.futures import PrefectFuture
from flowc.utilities.annotations import opaque


@task
def value(x):
    return x


@task
def fail():
    raise ValueError("upstream broke")


@task
def echo(x):
    return x


class Pair(NamedTuple):
    left: object
    right: object


@dataclasses.dataclass
class Box:
    content: object
    label: str = "box"


class Model(pydantic.BaseModel):
    content: object
    count: int = 0


def _upstream_tasks(runs, task_name):
    run = next(r for r in runs.last.records if r.task.name == task_name)
    return sorted(up.task.name for up in run.upstreams.runs.values())


def test_future_argument_arrives_as_its_value():
    @flow
    def f():
        return echo.submit(value.submit(5)).result()

    assert f() == 5


def test_futures_nested_in_collections_are_resolved():
    @flow
    def f():
        a, b = value.submit(1), value.submit(2)
        payload = {
            "list": [a, [b]],
            "tuple": (a, b),
            "set": {a},
            "dict": {a: b},
            "pair": Pair(a, b),
        }
        return echo.submit(payload).result()

    result = f()
    assert result["list"] == [1, [2]]
    assert result["tuple"] == (1, 2)
    assert result["set"] == {1}
    assert result["dict"] == {1: 2}
    assert result["pair"] == Pair(1, 2) and isinstance(result["pair"], Pair)


def test_futures_in_dataclasses_and_pydantic_models_are_resolved():
    @flow
    def f():
        a = value.submit("inside")
        return echo.submit(Box(a)).result(), echo.submit(Model(content=a, count=3)).result()

    box, model = f()
    assert box == Box("inside")
    assert isinstance(model, Model) and model.content == "inside" and model.count == 3


def test_cyclic_arguments_are_tolerated():
    @flow
    def f():
        a = value.submit(1)
        cyclic: list = [a]
        cyclic.append(cyclic)
        result = echo.submit(cyclic).result()
        return result[0]

    assert f() == 1


def test_generator_argument_arrives_unconsumed():
    @task
    def consume(items):
        return list(items)

    @flow
    def f():
        return consume.submit(x for x in range(3)).result()

    assert f() == [0, 1, 2]


def test_state_argument_counts_as_its_run():
    @flow
    def f():
        state = value.submit(9, return_state=True)
        return echo.submit(state).result()

    with capture() as runs:
        assert f() == 9
    assert _upstream_tasks(runs, "echo") == ["value"]


def test_every_future_found_is_an_upstream_edge():
    @task
    def combine(items, extra):
        return sum(items) + extra["k"]

    @flow
    def f():
        a, b, c = value.submit(1), value.submit(2), value.submit(3)
        return combine.submit([a, b], {"k": c}).result()

    with capture() as runs:
        assert f() == 6
    assert _upstream_tasks(runs, "combine") == ["value", "value", "value"]


def test_wait_for_adds_ordering_edge_without_passing_value():
    order = []

    @task
    def record(name):
        order.append(name)
        return name

    @flow
    def f():
        first = record.submit("first")
        second = record.submit("second", wait_for=[first])
        return second.result()

    with capture() as runs:
        f()
    assert order == ["first", "second"]
    second_run = runs.last.records[1]
    assert [up.parameters["name"] for up in second_run.wait_for] == ["first"]
    assert not second_run.upstreams.runs


def test_quote_passes_value_unresolved_and_records_no_edge():
    @flow
    def f():
        a = value.submit(1)
        a.wait()
        received = echo.submit(quote(a)).result()
        return isinstance(received, PrefectFuture)

    with capture() as runs:
        assert f() is True
    assert _upstream_tasks(runs, "echo") == []


def test_opaque_resolves_the_future_but_not_what_it_holds():
    @flow
    def f():
        inner = value.submit(2)
        inner.wait()
        holder = value.submit(quote({"inner": inner}))  # a result that holds a future
        received = echo.submit(opaque(holder)).result()
        plain = echo.submit(opaque([inner])).result()
        return received, plain

    with capture() as runs:
        received, plain = f()
    # the task's result keeps what it held (its future as a state): opaque did not search it
    assert received["inner"] != 2 and received["inner"].is_completed()
    assert plain[0] != 2 and plain[0].is_completed()  # the list was passed as it was
    records = runs.last.records
    assert [up.task.name for up in records[2].upstreams.edges()] == ["value"]
    assert records[2].upstreams.edges()[0] is records[1]


def test_allow_failure_runs_downstream_with_exception_value():
    @flow
    def f():
        return echo.submit(allow_failure(fail.submit())).result()

    error = f()
    assert isinstance(error, ValueError) and str(error) == "upstream broke"


def test_allow_failure_in_wait_for_lets_downstream_run():
    @flow
    def f():
        return value.submit(3, wait_for=[allow_failure(fail.submit())]).result()

    assert f() == 3


def test_unmapped_in_submit_is_unwrapped():
    @flow
    def f():
        return echo.submit(unmapped([1, 2])).result()

    assert f() == [1, 2]


def test_wait_for_takes_a_single_future_too():
    @flow
    def f():
        first = value.submit(1)
        return value.submit(2, wait_for=first)

    with capture() as runs:
        f()
    first, second = runs.last.records
    assert second.wait_for == [first]


def test_leaf_runs_share_one_empty_upstreams_record_and_their_call_site() -> None:
    """A finished run's record is kept for the report: what runs have in common is shared."""
    import flowc
    from flowc.runtime.inputs import NO_UPSTREAMS

    @flowc.task
    def inc(x: int) -> int:
        return x + 1

    @flowc.flow
    def many() -> list[int]:
        first = inc.map(range(3))
        return inc.map(first).result()

    with flowc.capture() as runs:
        assert many() == [2, 3, 4]
    leaves, downstream = runs.last.records[:3], runs.last.records[3:]
    assert all(run.upstreams is NO_UPSTREAMS for run in leaves)
    assert all(run.upstreams is not NO_UPSTREAMS for run in downstream)
    assert len({id(run.site) for run in leaves}) == 1 and leaves[0].site is not None
    assert all(run.wait_for == [] for run in runs.last.records)
    assert NO_UPSTREAMS.empty()  # nothing was ever added to the shared record
