"""Finding the Dask cluster a runner uses: starting its own, or reaching one at an address.

Prefect's rules for ``DaskTaskRunner``'s arguments, a loopback-only ``LocalCluster`` by
default, a connection that fails in time (naming the address) instead of hanging, and the
hard stop of the runner's own workers on Ctrl-C. The runner itself is in ``dask.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import dask
import distributed
from dask.utils import parse_timedelta

from flowc.runtime.runners.remote import ClusterUnreachable, check_reachable
from flowc.runtime.runners.sigint import children_ignore_ctrl_c

__all__ = [
    "ALLOWED_FAILURES",
    "CONNECT_TIMEOUT",
    "check_arguments",
    "connect",
    "kill_worker_processes",
    "start_cluster",
    "tune",
]

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler at ``address=``
ALLOWED_FAILURES = 1  # worker deaths a task may cause on the runner's own cluster, minus one
_SEND_INTERVAL = 0.002  # seconds between the client's batches of messages to the scheduler


def check_arguments(
    cluster: Any,
    address: str | None,
    cluster_class: Any,
    cluster_kwargs: dict[str, Any] | None,
    adapt_kwargs: dict[str, Any] | None,
) -> None:
    """Prefect's rules: one way to find the cluster, and nothing that contradicts it."""
    described = {
        "cluster": cluster is not None,
        "cluster_class": cluster_class is not None,
        "cluster_kwargs": bool(cluster_kwargs),
        "adapt_kwargs": bool(adapt_kwargs),
    }
    if address is not None:
        clash = [name for name, given in described.items() if given]
        if clash:
            raise ValueError(
                f"DaskTaskRunner got address= and {', '.join(clash)}: address= connects to a "
                "running scheduler, the others describe a cluster to use or start; give one"
            )
    if cluster is not None and (described["cluster_class"] or described["cluster_kwargs"]):
        clash = [name for name in ("cluster_class", "cluster_kwargs") if described[name]]
        raise ValueError(
            f"DaskTaskRunner got cluster= and {', '.join(clash)}: cluster= is a cluster that "
            f"already exists, {' and '.join(clash)} describe one to start; drop one side"
        )


def start_cluster(cluster_class: Any, cluster_kwargs: dict[str, Any]) -> Any:
    """Start the runner's own cluster: by default a loopback-only ``LocalCluster``."""
    cls = cluster_class or distributed.LocalCluster
    kwargs = dict(cluster_kwargs)
    if isinstance(cls, type) and issubclass(cls, distributed.LocalCluster):
        kwargs.setdefault("processes", True)
        kwargs.setdefault("n_workers", os.cpu_count() or 1)
        # Loopback only. Its HTTP server (the dashboard when bokeh is installed) always
        # starts: give it a free port. In-process workers talk over inproc://, but their own
        # HTTP servers would listen on every interface unless told otherwise.
        kwargs.setdefault("dashboard_address", "127.0.0.1:0")
        if kwargs["processes"]:
            kwargs.setdefault("host", "127.0.0.1")
        else:
            kwargs.setdefault("worker_dashboard_address", "127.0.0.1:0")
    before = set(_live_clusters())
    # Before the mask below: starting the tracker blocks SIGINT around its spawn and then
    # *unblocks* it, which inside the block would let the cluster's threads and worker
    # processes take Ctrl-C after all (a worker interrupted in its start-up prints a fatal
    # error). Started here, it is shielded by that same block of its own.
    _start_resource_tracker()
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}),
        children_ignore_ctrl_c(),
        _quiet_on_ctrl_c(),
    ):
        try:
            return cls(**kwargs)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                quiet()  # the half-started nannies' tasks fail as the process exits
            _abandon(set(_live_clusters()) - before)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C while starting: nothing is left of the cluster

            hint = ""
            if kwargs.get("processes", True):
                hint = (
                    "; if this script calls a flow at import time, call it under "
                    "`if __name__ == '__main__':` (worker processes re-import the main module), "
                    "or pass cluster_kwargs={'processes': False}"
                )
            name = getattr(cls, "__name__", repr(cls))
            raise RuntimeError(f"could not start a Dask {name}: {exc}{hint}") from exc


@contextlib.contextmanager
def _quiet_on_ctrl_c() -> Iterator[None]:
    """Within the block, a Ctrl-C silences Dask's loggers before it interrupts: distributed's
    event loop thread reacts to the interrupted start at once (a callback failing in
    ``sync``, nannies cut short), and would log tracebacks before the main thread could."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(signum: int, frame: Any) -> None:
        if previous == signal.SIG_IGN:
            return
        quiet()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_resource_tracker() -> None:
    """Python's resource tracker, a process that the first spawned child starts, from
    whichever thread spawns it: start it now, from this thread, with SIGINT blocked while it
    starts (``ensure_running`` does that itself, then unblocks SIGINT in the calling thread)."""
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()


def _live_clusters() -> list[Any]:
    """Every cluster object distributed knows in this process (it closes them at exit)."""
    from distributed.deploy.spec import SpecCluster

    return list(getattr(SpecCluster, "_instances", ()))


def _abandon(clusters: set[Any]) -> None:
    """Kill what a start that did not finish left behind, and tell distributed not to close
    it again at exit (its exit hook would print a traceback per half-made cluster)."""
    from distributed.deploy.spec import SpecCluster

    instances = getattr(SpecCluster, "_instances", None)
    if clusters:
        quiet()
    for cluster in clusters:
        kill_worker_processes(cluster)
        with contextlib.suppress(BaseException):
            cluster.close(timeout=1)
        if instances is not None:
            instances.discard(cluster)


def quiet() -> None:
    """Silence Dask's loggers for the rest of the process: once its cluster is being killed
    (Ctrl-C), each closed connection would log a traceback, and each nanny whose start was cut
    short leaves an asyncio task whose failure asyncio logs when it is collected ("Task
    exception was never retrieved ... Nanny failed to start"), and tornado logs a callback of
    ``distributed.utils.sync`` that fails when its wait was interrupted."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith("distributed")]
    for name in ["distributed", "asyncio", "tornado", *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def kill_worker_processes(cluster: Any) -> None:
    """SIGKILL the worker processes of a local cluster (nannies told not to restart them)."""
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    for nanny in list(getattr(cluster, "workers", {}).values()):
        process = getattr(nanny, "process", None)  # in-process workers have none
        pid = getattr(process, "pid", None)
        if isinstance(pid, int):
            with contextlib.suppress(Exception):
                nanny.auto_restart = False
                os.kill(pid, kill)


def connect(address: str, client_kwargs: dict[str, Any]) -> distributed.Client:
    """A client of the scheduler at ``address``, or :class:`ClusterUnreachable` in time."""
    kwargs = {"timeout": CONNECT_TIMEOUT, **client_kwargs}
    timeout = float(parse_timedelta(kwargs["timeout"]) or CONNECT_TIMEOUT)
    check_reachable(address, timeout, "Dask scheduler")
    handshake(address, timeout, kwargs.get("security"))
    try:
        return distributed.Client(address, **kwargs)
    except (OSError, TimeoutError) as exc:
        raise ClusterUnreachable(
            f"cannot connect to the Dask scheduler at {address!r} within {timeout:g} s ({exc}): "
            "check that it is running and that the address is right"
        ) from None


def handshake(address: str, timeout: float, security: Any) -> None:
    """Greet the scheduler once, on a helper thread, giving up after ``timeout``.

    Dask's own handshake has no time limit: ``Client`` would wait forever on an address that
    accepts connections and never answers (a wrong port, a stuck scheduler).
    """
    args = {}
    if hasattr(security, "get_connection_args"):  # a ``distributed.security.Security``
        args = security.get_connection_args("client")
    failure: list[BaseException] = []

    async def greet() -> None:
        comm = await asyncio.wait_for(distributed.comm.connect(address, timeout, **args), timeout)
        await comm.close()

    def run() -> None:
        try:
            asyncio.run(greet())
        except BaseException as exc:  # reported by the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="flowc-dask-handshake", daemon=True)
    thread.start()
    thread.join(timeout + 1)
    if thread.is_alive() or failure:
        reason = f"{type(failure[0]).__name__}: {failure[0]}" if failure else "no answer"
        raise ClusterUnreachable(
            f"the Dask scheduler at {address!r} did not answer within {timeout:g} s ({reason}): "
            "check that the address is a running Dask scheduler's"
        )


def tune(client: distributed.Client) -> None:
    """Send this client's messages to the scheduler every 2 ms at most, not 10 ms.

    The engine places a downstream call only once its upstream's outcome is back, so on a
    chain every link waits for the client's next batch; Dask's workers batch at 2 ms.
    """
    comm = getattr(client, "scheduler_comm", None)
    if comm is not None and isinstance(getattr(comm, "interval", None), (int, float)):
        comm.interval = min(comm.interval, _SEND_INTERVAL)
