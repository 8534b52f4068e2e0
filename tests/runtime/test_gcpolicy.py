"""The collector's young-generation threshold while flows run, and after."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import pytest

import flowc
from flowc.runtime.gcpolicy import YOUNG_THRESHOLD


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@flowc.task
def threshold() -> tuple[int, ...]:
    return gc.get_threshold()


@flowc.flow
def child() -> tuple[int, ...]:
    return gc.get_threshold()


@flowc.flow
def parent() -> list[tuple[int, ...]]:
    return [gc.get_threshold(), threshold.submit().result(), child(), gc.get_threshold()]


def test_a_flow_runs_with_a_raised_young_threshold_and_restores_it() -> None:
    seen = parent()
    assert seen == [(YOUNG_THRESHOLD, 10, 10)] * 4  # subflow and task runs included
    assert gc.get_threshold() == (700, 10, 10)


def test_an_async_flow_too() -> None:
    @flowc.flow
    async def waits() -> tuple[int, ...]:
        await asyncio.sleep(0)
        return gc.get_threshold()

    assert asyncio.run(waits()) == (YOUNG_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_failing_flow_restores_the_threshold() -> None:
    @flowc.flow
    def fails() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        fails()
    assert gc.get_threshold() == (700, 10, 10)


def test_thresholds_the_user_chose_are_left_alone() -> None:
    gc.set_threshold(200_000, 20, 20)
    assert child() == (200_000, 20, 20)
    assert gc.get_threshold() == (200_000, 20, 20)
    gc.set_threshold(0, 10, 10)  # the collector off
    assert child() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)


def test_a_change_made_during_the_flow_is_kept() -> None:
    @flowc.flow
    def tunes() -> None:
        gc.set_threshold(1_000, 10, 10)

    tunes()
    assert gc.get_threshold() == (1_000, 10, 10)


def test_the_threshold_stays_raised_until_the_last_of_concurrent_flows_ends() -> None:
    started, release = threading.Event(), threading.Event()

    @flowc.flow
    def held() -> None:
        started.set()
        assert release.wait(60)

    worker = threading.Thread(target=held)
    worker.start()
    try:
        assert started.wait(60)
        assert child() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD  # the held flow still runs
    finally:
        release.set()
        worker.join(60)
    assert gc.get_threshold() == (700, 10, 10)
