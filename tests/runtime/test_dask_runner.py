"""DaskTaskRunner on real clusters: what the conformance suite does not cover.

Most tests use the session's cluster by its address (``dask_address``: a LocalCluster of 2
worker processes, in a process of its own); those about ``cluster=`` use this module's
``local_cluster``, and those about a cluster the runner starts itself start a small one. The
conformance suite (``test_runner_conformance.py``) runs every behaviour test on Dask too.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from flowc import allow_failure, capture, flow, task  # noqa: E402
from flowc.runtime.runners.remote import ClusterUnreachable  # noqa: E402
from flowc.task_runners import DaskTaskRunner  # noqa: E402


@task
def inc(x):
    return x + 1


@task
def where():
    return os.getpid()


@task
def explode():
    raise ValueError("kaboom")


@task
def kind_of(value):
    return type(value).__name__


@task
def die():
    os.kill(os.getpid(), signal.SIGKILL)


@task
def make_lock():
    return threading.Lock()


class Tracked:
    """A payload that appends the pid of every process that pickles it to a log file."""

    def __init__(self, log: str, payload: bytes) -> None:
        self.log = log
        self.payload = payload

    def __reduce__(self):
        with open(self.log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        return (Tracked, (self.log, self.payload))


@task
def make_big(log):
    return Tracked(log, b"x" * 2_000_000)


@task
def measure(big):
    """The payload's size, and the keys this Dask task depended on (read on its worker)."""
    worker = distributed.get_worker()
    key = worker.get_current_task()
    dependencies = sorted(str(dep.key) for dep in worker.state.tasks[key].dependencies)
    return len(big.payload), dependencies


@pytest.fixture(scope="module")
def local_cluster():
    """A one-worker LocalCluster in this process, for runners given ``cluster=``."""
    with distributed.LocalCluster(
        n_workers=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        yield cluster


def run_on(runner, body):
    """Run ``body`` as a flow on ``runner``: (final state, task run records)."""
    flow_fn = flow(name="dask-test", task_runner=runner)(body)
    with capture() as runs:
        state = flow_fn(return_state=True)
    return state, runs.last.records


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_gone(pids: set[int], seconds: float = 90.0) -> set[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if psutil.pid_exists(pid) and not _zombie(pid)}
        time.sleep(0.1)
    return alive


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"address": "tcp://127.0.0.1:8786", "cluster": object()}, "address= and cluster"),
        ({"address": "tcp://h:1", "cluster_class": "distributed.LocalCluster"}, "cluster_class"),
        ({"address": "tcp://h:1", "cluster_kwargs": {"n_workers": 1}}, "cluster_kwargs"),
        ({"address": "tcp://h:1", "adapt_kwargs": {"maximum": 2}}, "adapt_kwargs"),
        ({"cluster": object(), "cluster_class": distributed.LocalCluster}, "cluster= and"),
        ({"cluster": object(), "cluster_kwargs": {"n_workers": 1}}, "cluster_kwargs"),
    ],
)
def test_contradictory_arguments_raise_value_error_naming_them(kwargs, named):
    with pytest.raises(ValueError, match=named):
        DaskTaskRunner(**kwargs)


def test_cluster_class_by_import_path_or_a_clear_error():
    runner = DaskTaskRunner(cluster_class="distributed.LocalCluster")
    assert runner.cluster_class is distributed.LocalCluster
    with pytest.raises(ValueError, match="cluster_class 'no_such_module.Cluster' cannot be"):
        DaskTaskRunner(cluster_class="no_such_module.Cluster")


def test_duplicate_keeps_every_argument_cluster_included():
    cluster = object()  # never entered: any object stands for a cluster here
    runner = DaskTaskRunner(
        cluster=cluster, adapt_kwargs={"minimum": 1}, client_kwargs={"name": "x"}
    )
    twin = runner.duplicate()
    assert twin is not runner and not twin.started
    assert twin.cluster is cluster
    assert twin.adapt_kwargs == {"minimum": 1} and twin.client_kwargs == {"name": "x"}
    assert (twin.name, twin.in_process) == ("dask", False)
    assert DaskTaskRunner(cluster_kwargs={"n_workers": 3}).duplicate().max_workers == 3


# --------------------------------------------------------------------------- clusters


def test_a_given_cluster_and_a_given_address_keep_running(local_cluster):
    for runner in (
        DaskTaskRunner(cluster=local_cluster),
        DaskTaskRunner(address=local_cluster.scheduler_address),
    ):
        state, _ = run_on(runner, lambda: inc.submit(1).result())
        assert state.result() == 2
        assert local_cluster.status.name == "running"
    with distributed.Client(local_cluster, set_as_default=False) as client:
        assert client.submit(inc.fn, 1).result() == 2


def test_own_cluster_is_closed_and_a_killed_worker_crashes_only_its_run():
    before = {child.pid for child in multiprocessing.active_children()}
    workers: set[int] = set()
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 1})

    def body():
        doomed = die.submit()
        doomed.wait()
        value, pid = inc.submit(1).result(), where.submit().result()
        workers.update(child.pid for child in multiprocessing.active_children())
        return doomed.state, value, pid

    state, _ = run_on(runner, body)
    crashed, value, pid = state.result()
    assert crashed.is_crashed() and "KilledWorker" in crashed.message
    assert value == 2 and pid != os.getpid()
    assert workers - before  # the cluster's worker process (restarted after the kills) ...
    assert wait_until_gone(workers - before) == set()  # ... is gone with the cluster


def test_in_process_cluster_runs_tasks_in_this_process():
    runner = DaskTaskRunner(cluster_kwargs={"processes": False, "n_workers": 1})

    def body():
        return where.submit().result(), kind_of.submit(allow_failure(explode.submit())).result()

    state, _ = run_on(runner, body)
    assert state.result() == (os.getpid(), "ValueError")


def test_multi_process_cluster_runs_tasks_in_its_worker_processes(dask_address):
    state, _ = run_on(DaskTaskRunner(address=dask_address), lambda: where.submit().result())
    assert state.result() != os.getpid()


# --------------------------------------------------------------------------- data


def test_results_move_between_workers_not_through_the_driver(dask_address, tmp_path):
    log = tmp_path / "pickled-by"
    log.touch()

    def body():
        return measure.submit(make_big.submit(str(log))).result()

    state, _ = run_on(DaskTaskRunner(address=dask_address), body)
    size, dependencies = state.result()
    assert size == 2_000_000
    # The downstream Dask task depended on the upstream's key: Dask fetched the value for it.
    assert [key for key in dependencies if key.startswith("make_big-")]
    pickled_by = {int(line) for line in log.read_text().split()}
    assert pickled_by and os.getpid() not in pickled_by  # the driver never sent it back


def test_result_that_cannot_come_back_fails_its_run(dask_address):
    def body():
        bad = make_lock.submit()
        bad.wait()
        unsent = inc.submit(threading.Lock())
        unsent.wait()
        return bad.state, unsent.state, inc.submit(1).result()

    state, _ = run_on(DaskTaskRunner(address=dask_address), body)
    bad, unsent, good = state.result()
    assert bad.is_failed() and "could not be sent back from the worker" in bad.message
    assert unsent.is_failed() and "argument 'x' cannot be pickled" in unsent.message
    assert good == 2


# --------------------------------------------------------------------------- unreachable


def test_refused_address_fails_at_once_naming_it():
    address = f"tcp://127.0.0.1:{free_port()}"
    state, _ = run_on(DaskTaskRunner(address=address), lambda: inc.submit(1).result())
    assert state.is_crashed() and isinstance(state.data, ClusterUnreachable)
    assert re.search(f"Dask scheduler at '{address}'", str(state.data))


def test_silent_address_fails_after_the_connect_timeout():
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        state, _ = run_on(DaskTaskRunner(address=address, client_kwargs={"timeout": 2}), lambda: 1)
        assert state.is_crashed() and isinstance(state.data, ClusterUnreachable)
        assert re.search(f"'{address}' did not answer within 2 s", str(state.data))


# --------------------------------------------------------------------------- flowc run

FLOW = textwrap.dedent(
    """
    import time
    from prefect import flow, task

    @task
    def double(x):
        print(f"doubling {x}", flush=True)
        return 2 * x

    @task
    def total(values):
        return sum(values)

    @task
    def nap(x):
        print(f"napping {x}", flush=True)
        time.sleep(600)

    @flow
    def small(n: int = 3):
        return total.submit(double.map(range(n))).result()

    @flow
    def slow():
        return [f.result() for f in nap.map(range(2))]
    """
)


def flowc_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "flows.py").write_text(FLOW)
    return subprocess.run(
        [sys.executable, "-m", "flowc", "run", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.timeout(300)  # a real cluster started by a real process, on a loaded machine
def test_flowc_run_on_a_dask_address(tmp_path, dask_address):
    done = flowc_run(tmp_path, "flows.py:small", "--runner", "dask", "--address", dask_address)
    assert done.returncode == 0, done.stderr
    assert "result: 6" in done.stdout  # (the tasks print on the cluster's workers)


@pytest.mark.timeout(300)  # a real cluster started by a real process, on a loaded machine
def test_flowc_run_on_its_own_dask_cluster_stops_on_ctrl_c_leaving_no_process(tmp_path):
    (tmp_path / "flows.py").write_text(FLOW)
    command = [sys.executable, "-m", "flowc", "run", "flows.py:slow", "-q"]
    process = subprocess.Popen(
        [*command, "--runner", "dask", "--workers", "2"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "napping" in line:
                break
        else:
            pytest.fail("flowc run ended before its task started")
        family = {process.pid} | {p.pid for p in psutil.Process(process.pid).children(True)}
        assert len(family) >= 3  # flowc and its two worker processes
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
        assert process.wait(timeout=120) == 130  # the task naps 600 s: interrupted, not waited for
        assert wait_until_gone(family) == set()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_ctrl_c_while_the_cluster_starts_says_one_line_and_leaves_no_process(tmp_path):
    """Ctrl-C reaches every process of the terminal's group, workers still starting too."""
    (tmp_path / "flows.py").write_text(FLOW)
    process = subprocess.Popen(
        [sys.executable, "-m", "flowc", "run", "flows.py:slow", "-q", "--runner", "dask"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        family = {process.pid}
        deadline = time.monotonic() + 120
        while len(family) < 2 and process.poll() is None and time.monotonic() < deadline:
            family |= {p.pid for p in psutil.Process(process.pid).children(True)}
            time.sleep(0.01)  # until the cluster's worker processes are being started
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 130, output
        lines = [line for line in output.splitlines() if line.strip()]
        assert "Traceback" not in output and len(lines) == 1, output
        assert lines[0].startswith("interrupted (Ctrl-C)")
        assert wait_until_gone(family, seconds=60) == set()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@task
def kills_its_worker_once(marker):
    if not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write("died")
        time.sleep(2)  # long enough for the worker to have told the driver it started
        os._exit(1)
    return "again"


def test_a_run_dask_ran_again_after_its_worker_died_counts_the_lost_attempt(dask_address, tmp_path):
    """Dask re-runs a task whose worker died (allowed failures); its side effects happened
    twice, so the run says so: two attempts, and why. (A worker that dies before it has
    told the driver that the run started — within ``events.LINGER`` — goes unnoticed.)"""
    marker = str(tmp_path / "marker")
    state, records = run_on(
        DaskTaskRunner(address=dask_address), lambda: kills_its_worker_once.submit(marker).result()
    )
    assert state.result() == "again"
    (run,) = records
    assert run.state.is_completed() and run.run_count == 2
    assert "lost with their worker" in run.state.message
