"""The task runners by name: one list for the CLI, the loader, ``flowc.task_runners`` and tests.

Each entry says where the runner's class lives, what ``--workers`` sizes, and which extra
its library comes with, so that asking for Dask or Ray without them says what to install.
Dask and Ray load only when asked for: ``import flowc`` never imports them.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

from flowc.runtime.runners.base import TaskRunner

__all__ = ["RUNNERS", "RunnerEntry", "build", "runner_class"]


@dataclass(frozen=True)
class RunnerEntry:
    """A runner as the command line names it."""

    name: str
    module: str
    cls: str
    #: the pip extra and the library it brings, for runners that need one.
    extra: str | None = None
    library: str | None = None
    #: whether ``--address`` (a running cluster) applies.
    addressed: bool = False


RUNNERS: dict[str, RunnerEntry] = {
    entry.name: entry
    for entry in (
        RunnerEntry("threads", "flowc.runtime.runners.threads", "ThreadPoolTaskRunner"),
        RunnerEntry("processes", "flowc.runtime.runners.processes", "ProcessPoolTaskRunner"),
        RunnerEntry(
            "dask", "flowc.runtime.runners.dask", "DaskTaskRunner", "dask", "distributed", True
        ),
        RunnerEntry("ray", "flowc.runtime.runners.ray", "RayTaskRunner", "ray", "ray", True),
    )
}
_BY_CLASS = {entry.cls: entry for entry in RUNNERS.values()}


def runner_class(name: str) -> type[TaskRunner]:
    """The class of the runner called ``name`` (``"dask"``) or named ``name``
    (``"DaskTaskRunner"``); ImportError saying which extra to install if its library is not."""
    entry = RUNNERS.get(name) or _BY_CLASS.get(name)
    if entry is None:
        raise KeyError(name)
    if entry.library is not None and importlib.util.find_spec(entry.library) is None:
        raise ImportError(
            f"{entry.cls} needs the {entry.library!r} package: install it with "
            f"pip install 'flowc[{entry.extra}]'"
        )
    cls: type[TaskRunner] = getattr(importlib.import_module(entry.module), entry.cls)
    return cls


def build(name: str, workers: int | None, address: str | None = None) -> TaskRunner:
    """The runner ``--runner NAME --workers N [--address A]`` asks for.

    ``workers`` sizes what flowc starts: threads or processes, the workers of a Dask
    ``LocalCluster``, the CPUs of a local Ray. ValueError for combinations that make no sense.
    """
    entry = RUNNERS[name]
    cls: Any = runner_class(name)
    if address is not None:
        if not entry.addressed:
            raise ValueError(f"--address needs --runner {' or '.join(_addressed())}")
        if workers is not None:
            raise ValueError("--workers sizes a cluster flowc starts; drop it with --address")
        return cls(address=address)  # type: ignore[no-any-return]
    if name == "dask":
        return cls(cluster_kwargs={"n_workers": workers} if workers else None)  # type: ignore[no-any-return]
    if name == "ray":
        return cls(init_kwargs={"num_cpus": workers} if workers else None)  # type: ignore[no-any-return]
    return cls(max_workers=workers)  # type: ignore[no-any-return]


def _addressed() -> list[str]:
    return [entry.name for entry in RUNNERS.values() if entry.addressed]
