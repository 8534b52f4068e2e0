"""Every example of the seed page runs under flowc with only its imports changed."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from flowc import capture

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed"


class ScaledTime:
    """Stands in for the ``time`` module in an example: its sleeps last a 20th as long."""

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / 20)


def load(name: str, fast: bool = False):
    """Import an example file (running whatever it runs at import), optionally with fast sleeps."""
    spec = importlib.util.spec_from_file_location(f"seed_{name}", SEED / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    cloudpickle.register_pickle_by_value(module)
    try:
        spec.loader.exec_module(module)
        if fast:
            module.time = ScaledTime()
        return module
    finally:
        del sys.modules[spec.name]


def peak_concurrency(records) -> int:
    events = sorted([(r.start, 1) for r in records] + [(r.end, -1) for r in records])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.mark.parametrize("name", ["elevator_threads", "elevator_processes"])
def test_elevator_runs_three_floors_at_a_time(name, capfd):
    module = load(name, fast=True)
    with capture() as runs:
        assert module.elevator() is None
    records = runs.last.records
    assert [r.parameters["floor"] for r in records] == list(range(10, 0, -1))
    assert all(r.state.is_completed() for r in records)
    assert peak_concurrency(records) == 3
    output = capfd.readouterr().out
    for floor in range(1, 11):
        assert f"elevator moving to floor {floor}" in output
        assert f"elevator stops on floor {floor}" in output


def test_hello_world_downstream_receives_the_value(capfd):
    with capture() as runs:
        load("hello_world")
    output = capfd.readouterr().out
    assert "<class 'str'>\nHello Marvin!" in output
    flow_run = runs.last
    assert flow_run.name == "hello-flow" and flow_run.state.is_completed()
    say_hello, print_result = flow_run.records
    assert list(print_result.upstreams.runs.values()) == [say_hello]


def test_access_results_prints_42(capfd):
    with capture() as runs:
        load("access_results")
    assert capfd.readouterr().out.strip() == "42"
    assert runs.last.state.is_completed()


def test_raise_on_failure_example_takes_the_completed_branch():
    module = load("raise_on_failure")
    with capture() as runs:
        assert module.my_flow() is None
    (run,) = runs.last.records
    assert run.state.is_completed() and run.state.data == "I'm a task!"
