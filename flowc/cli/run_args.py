"""``flowc run``'s own arguments, checked before the file is touched.

``--runner``, ``--workers`` and ``--address`` become a task runner (the choices are the
runtime's registry, :mod:`flowc.runtime.runners.registry`); with ``FILE[:FLOW]``, ``--param``
and ``--report`` they make the :class:`~flowc.runtime.loader.RunRequest` the runtime runs.
Whatever can be wrong without importing the file is said here, in one line, before anything
starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flowc.cli.reports import check_report_path
from flowc.cli.targets import UsageError, parse_params, parse_target
from flowc.runtime.loader import RunRequest, Target
from flowc.runtime.modules import read_source
from flowc.runtime.runners import registry

if TYPE_CHECKING:
    from flowc.runtime.runners.base import TaskRunner

__all__ = ["make_runner", "parse_workers", "prepare_run"]


def parse_workers(text: str | None) -> int | None:
    """``--workers N``: a positive integer, or None when not given."""
    if text is None:
        return None
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {text!r}")
    return workers


def make_runner(
    name: str | None, workers: int | None, address: str | None = None
) -> TaskRunner | None:
    """The runner ``--runner``/``--workers``/``--address`` ask for; ``None`` keeps each flow's."""
    entry = registry.RUNNERS.get(name.lower()) if name is not None else None
    if address is not None and (entry is None or not entry.addressed):
        raise UsageError("--address needs --runner dask or --runner ray")
    if name is None:
        if workers is not None:
            raise UsageError(
                "--workers needs --runner (threads, processes, dask or ray); "
                "without --runner each flow uses its own task runner"
            )
        return None
    if name.lower() not in registry.RUNNERS:
        choices = ", ".join(registry.RUNNERS)
        raise UsageError(f"unknown runner {name!r}: choose one of {choices}")
    try:
        return registry.build(name.lower(), workers, address)
    except (ImportError, ValueError, TypeError) as exc:
        raise UsageError(f"--runner {name}: {exc}") from None


def prepare_run(
    target: str,
    params: list[str],
    runner: str | None = None,
    workers: str | None = None,
    report: Path | None = None,
    address: str | None = None,
) -> RunRequest:
    """Check every argument that can be checked without importing the file.

    Raises :class:`~flowc.cli.targets.UsageError`, or the runtime's ``FlowcUsageError`` for
    a file that cannot be read.
    """
    path, flow = parse_target(target)
    read_source(path)
    values = parse_params(params)
    task_runner = make_runner(runner, parse_workers(workers), address)
    if report is not None:
        check_report_path(report)
    return RunRequest(Target(path, flow), values, task_runner)
