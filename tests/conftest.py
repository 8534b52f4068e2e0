"""Shared test fixtures: the runners every conformance test runs on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import pytest

from flowc.runtime.runners.registry import RUNNERS

# Keep worker pools small on a 2-core machine.
os.environ.setdefault("FLOWC_TEST", "1")
# flowc's own state (result store, signing key, variables) goes to a directory of the session,
# never to the user's home: cached results must not leak from one test run into the next.
os.environ["FLOWC_HOME"] = tempfile.mkdtemp(prefix="flowc-test-home-")


def _threads(max_workers: int | None = None):
    from flowc.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=max_workers or 4)


def _processes(max_workers: int | None = None):
    from flowc.task_runners import ProcessPoolTaskRunner

    return ProcessPoolTaskRunner(max_workers=max_workers or 2)


# One Dask cluster and one Ray serve the whole session: each takes seconds to start.
_SHARED: dict[str, Any] = {}

# The session's Dask cluster runs in a process of its own, so that its worker processes are
# not children of the test process (tests of the process pool check that they leave none).
_DASK_SCHEDULER = """
import os, sys, dask, distributed
with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True,
        host="127.0.0.1", dashboard_address="127.0.0.1:0",
    )
with open(sys.argv[1] + ".tmp", "w") as handle:
    handle.write(cluster.scheduler_address)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
sys.stdin.read()  # until the test session closes our stdin, or ends
cluster.close(timeout=10)
"""


def shared_dask_address() -> str:
    """The scheduler of a LocalCluster (2 single-thread worker processes, loopback only),
    started on first use; its workers see the tests' ``sys.path``."""
    if "dask" not in _SHARED:
        directory = tempfile.mkdtemp(prefix="flowc-dask-")
        ready = os.path.join(directory, "address")
        log = open(os.path.join(directory, "log"), "w")  # noqa: SIM115 - open for the session
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        process = subprocess.Popen(
            [sys.executable, "-c", _DASK_SCHEDULER, ready],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            env=environment,
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(ready):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the shared Dask cluster did not start; see {log.name}")
            time.sleep(0.05)
        with open(ready) as handle:
            _SHARED["dask"] = (process, handle.read(), log, directory)
    return str(_SHARED["dask"][1])


def shared_ray():
    """A running Ray with 2 CPUs, started on first use; its workers see the tests' sys.path."""
    import ray

    if not ray.is_initialized():
        path = os.pathsep.join(entry for entry in sys.path if entry)
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            runtime_env={"env_vars": {"PYTHONPATH": path}},
        )
        _SHARED["ray"] = True
    return ray


def _dask(max_workers: int | None = None):
    """On the shared cluster, by address. A sized runner starts its own in-process cluster of
    that many single-thread workers (quick to start), so ``max_workers`` bounds it as on the
    other runners and reads back from ``cluster_kwargs``."""
    from flowc.task_runners import DaskTaskRunner

    if max_workers is None:
        return DaskTaskRunner(address=shared_dask_address())
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": max_workers, "threads_per_worker": 1, "processes": False}
    )


def _ray(max_workers: int | None = None):
    """On the shared Ray (2 CPUs). ``max_workers`` is kept as ``num_cpus``, which only a runner
    that starts Ray applies: here the shared Ray's 2 CPUs bound every run."""
    from flowc.task_runners import RayTaskRunner

    shared_ray()
    return RayTaskRunner(init_kwargs={"num_cpus": max_workers} if max_workers else None)


#: A factory per registered runner: a runner added to the registry and not here fails its tests.
RUNNER_FACTORIES = {"threads": _threads, "processes": _processes, "dask": _dask, "ray": _ray}


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_clusters():
    """Close the shared Dask cluster and stop the shared Ray at the end of the session."""
    yield
    shared = _SHARED.pop("dask", None)
    if shared is not None:
        process, _, log, directory = shared
        process.stdin.close()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)
    if _SHARED.pop("ray", None):
        import ray

        ray.shutdown()


@pytest.fixture(scope="session")
def dask_address() -> str:
    return shared_dask_address()


@pytest.fixture
def ray_session():
    """The shared Ray, started again if a test stopped it (hence not session-scoped)."""
    return shared_ray()


@pytest.fixture(params=sorted(RUNNERS))
def make_runner(request):
    """A factory of fresh runners of one kind; each conformance test runs once per kind."""
    return RUNNER_FACTORIES[request.param]


@pytest.fixture
def runner_kind(make_runner, request):
    return request.node.callspec.params["make_runner"]
