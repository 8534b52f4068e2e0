"""``.map``: Prefect's five rules for what is mapped, what is static, and what is an error."""

from __future__ import annotations

import pytest

from flowc import capture, flow, task, unmapped
from flowc.exceptions import MappingLengthMismatch, MappingMissingIterable, UpstreamTaskError


@task
def pair(x, y=0):
    return (x, y)


@task
def numbers(n):
    return list(range(n))


@task
def fail():
    raise ValueError("no numbers today")


def test_parameter_that_is_a_future_is_resolved_then_mapped_and_stays_upstream():
    @flow
    def f():
        return pair.map(numbers.submit(3)).result()

    with capture() as runs:
        assert f() == [(0, 0), (1, 0), (2, 0)]
    records = runs.last.records
    source = next(r for r in records if r.task.name == "numbers")
    children = [r for r in records if r.task.name == "pair"]
    assert len(children) == 3
    assert all(list(child.upstreams.runs.values()) == [source] for child in children)


def test_mapping_over_a_failed_future_raises_upstream_task_error():
    @flow
    def f():
        pair.map(fail.submit())

    with pytest.raises(UpstreamTaskError, match="did not reach a 'COMPLETED' state"):
        f()


def test_str_and_bytes_are_static_and_unmapped_keeps_iterables_static():
    @flow
    def f():
        return pair.map([1, 2], "ab").result(), pair.map([1, 2], unmapped([9])).result()

    strings, unmapped_lists = f()
    assert strings == [(1, "ab"), (2, "ab")]
    assert unmapped_lists == [(1, [9]), (2, [9])]


def test_unmapped_value_is_the_same_object_in_every_run():
    shared = {"k": 1}

    @task
    def identity_of(x, obj):
        return id(obj)

    @flow
    def f():
        return identity_of.map([1, 2, 3], unmapped(shared)).result()

    assert set(f()) == {id(shared)}


def test_dicts_map_over_keys_and_ranges_and_generators_are_materialised():
    @flow
    def f():
        return (
            pair.map({"a": 1, "b": 2}).result(),
            pair.map(range(2)).result(),
            pair.map(x * 10 for x in range(2)).result(),
        )

    keys, ranged, generated = f()
    assert keys == [("a", 0), ("b", 0)]
    assert ranged == [(0, 0), (1, 0)]
    assert generated == [(0, 0), (10, 0)]


def test_no_iterable_raises_mapping_missing_iterable():
    @flow
    def f():
        pair.map(1, 2)

    with pytest.raises(MappingMissingIterable, match="at least one iterable"):
        f()


def test_different_lengths_raise_mismatch_listing_every_length():
    @flow
    def f():
        pair.map([1, 2, 3], [1, 2])

    with pytest.raises(MappingLengthMismatch, match=r"'x': 3, 'y': 2"):
        f()


def test_empty_iterable_gives_no_runs():
    @flow
    def f():
        return pair.map([]).result()

    with capture() as runs:
        assert f() == []
    assert runs.last.records == []


def test_list_of_futures_maps_one_run_per_future_each_depending_on_its_own():
    @task
    def double(x):
        return x * 2

    @flow
    def f():
        sources = [pair.submit(i) for i in range(3)]
        return double.map(sources).result()

    with capture() as runs:
        assert f() == [(0, 0, 0, 0), (1, 0, 1, 0), (2, 0, 2, 0)]
    records = runs.last.records
    sources, doubles = records[:3], records[3:]
    for source, child in zip(sources, doubles, strict=True):
        assert list(child.upstreams.runs.values()) == [source]


def test_defaults_are_never_mapped_over():
    @task
    def with_list_default(x, options=(1, 2, 3)):
        return (x, options)

    @flow
    def f():
        return with_list_default.map([1, 2]).result()

    assert f() == [(1, (1, 2, 3)), (2, (1, 2, 3))]


def test_wait_for_applies_to_every_child():
    @flow
    def f():
        gate = pair.submit("gate")
        return pair.map([1, 2], wait_for=[gate])

    with capture() as runs:
        f()
    records = runs.last.records
    gate = records[0]
    assert all(child.wait_for == [gate] for child in records[1:])


def test_mapping_keyword_variadic_arguments():
    @task
    def show(x, **extra):
        return (x, extra)

    @flow
    def f():
        return show.map([1, 2], tag=["a", "b"]).result()

    assert f() == [(1, {"tag": "a"}), (2, {"tag": "b"})]
