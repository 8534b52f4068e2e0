"""Shared test fixtures: the runners every conformance test runs on."""

from __future__ import annotations

import os

import pytest

# Keep worker pools small on a 2-core machine.
os.environ.setdefault("FLOWC_TEST", "1")


def _threads(max_workers: int | None = None):
    from flowc.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max_workers or 4)


def _processes(max_workers: int | None = None):
    from flowc.task_runners import ProcessPoolTaskRunner

    return ProcessPoolTaskRunner(max_workers=max_workers or 2)


RUNNER_FACTORIES = {"threads": _threads, "processes": _processes}


@pytest.fixture(params=sorted(RUNNER_FACTORIES))
def make_runner(request):
    """A factory of fresh runners of one kind; each conformance test runs once per kind."""
    return RUNNER_FACTORIES[request.param]


@pytest.fixture
def runner_kind(make_runner, request):
    return request.node.callspec.params["make_runner"]
