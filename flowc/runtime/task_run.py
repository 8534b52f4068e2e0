"""``prefect.runtime.task_run``: attributes of the task run the calling code runs in.

Read when accessed, from the current task run; outside a task run they are empty as in
Prefect (``None``, ``{}``, ``[]``, ``0``). ``parameters`` are the values the task was called
with, futures replaced by their results, as the task function receives them.
"""

from __future__ import annotations

from typing import Any

from flowc.runtime.context import current_task_run
from flowc.runtime.runinfo import FieldReader


def get_id() -> str | None:
    run = current_task_run()
    return str(run.id) if run is not None else None


def get_name() -> str | None:
    run = current_task_run()
    return run.name if run is not None else None


def get_task_name() -> str | None:
    run = current_task_run()
    return run.task.name if run is not None else None


def get_parameters() -> dict[str, Any]:
    run = current_task_run()
    if run is None:
        return {}
    from flowc.runtime.inputs import resolve_inputs

    parameters = run.parameters
    if all(upstream.is_final() for upstream in run.upstreams.edges()):
        parameters = resolve_inputs(parameters)
    return dict(parameters)


def get_run_count() -> int:
    run = current_task_run()
    return run.run_count if run is not None else 0


def get_tags() -> list[str]:
    run = current_task_run()
    return sorted(getattr(run, "tags", ())) if run is not None else []


def _no_server() -> None:
    return None


FIELDS = {
    "id": get_id,
    "tags": get_tags,
    "name": get_name,
    "parameters": get_parameters,
    "run_count": get_run_count,
    "task_name": get_task_name,
    "api_url": _no_server,
    "ui_url": _no_server,
}

#: the module's attributes, each read when accessed (see the module docstring).
__all__ = sorted(FIELDS)

__getattr__ = FieldReader(__name__, "PREFECT__RUNTIME__TASK_RUN__", FIELDS)


def __dir__() -> list[str]:
    return sorted(__all__)
