"""``prefect.runtime.flow_run``: attributes of the flow run the calling code runs in.

Each attribute is read when accessed (``from flowc.runtime import flow_run; flow_run.name``),
from the current flow run; outside any run they are empty as in Prefect (``None``, ``{}``,
``[]``, ``0``; ``scheduled_start_time`` is now). Runs are local, so the attributes that only
a Prefect server knows (``api_url``, ``ui_url``, ``parent_deployment_id``) are ``None``.
"""

from __future__ import annotations

import datetime
from typing import Any

from flowc.runtime.context import current_flow_run, current_task_run
from flowc.runtime.runinfo import FieldReader


def get_id() -> str | None:
    run = current_flow_run()
    if run is not None:
        return str(run.id)
    task_run = current_task_run()
    if task_run is not None and task_run.flow_run is not None:
        return str(task_run.flow_run.id)
    return None


def get_name() -> str | None:
    run = current_flow_run()
    return run.run_name if run is not None else None


def get_flow_name() -> str | None:
    run = current_flow_run()
    return run.name if run is not None else None


def get_flow_version() -> str | None:
    run = current_flow_run()
    return getattr(run.flow, "version", None) if run is not None else None


def get_parameters() -> dict[str, Any]:
    run = current_flow_run()
    return dict(run.parameters) if run is not None else {}


def get_run_count() -> int:
    run = current_flow_run()
    return run.run_count if run is not None else 0


def get_tags() -> list[str]:
    run = current_flow_run()
    return sorted(getattr(run, "tags", ())) if run is not None else []


def get_scheduled_start_time() -> datetime.datetime:
    """When the run was meant to start: a local run starts when it is called."""
    run = current_flow_run()
    started = run.start if run is not None else None
    if started is None:
        return datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime.fromtimestamp(started, tz=datetime.timezone.utc)


def get_parent_flow_run_id() -> str | None:
    run = current_flow_run()
    if run is None or run.parent is None:
        return None
    return str(run.parent.id)


def get_root_flow_run_id() -> str | None:
    run = current_flow_run()
    return str(run.root.id) if run is not None else None


def get_job_variables() -> dict[str, Any] | None:
    return {} if current_flow_run() is not None else None


def _no_server() -> None:
    return None


FIELDS = {
    "id": get_id,
    "tags": get_tags,
    "scheduled_start_time": get_scheduled_start_time,
    "name": get_name,
    "flow_name": get_flow_name,
    "flow_version": get_flow_version,
    "parameters": get_parameters,
    "parent_flow_run_id": get_parent_flow_run_id,
    "parent_deployment_id": _no_server,
    "root_flow_run_id": get_root_flow_run_id,
    "run_count": get_run_count,
    "api_url": _no_server,
    "ui_url": _no_server,
    "job_variables": get_job_variables,
}

#: the module's attributes, each read when accessed (see the module docstring).
__all__ = sorted(FIELDS)

__getattr__ = FieldReader(__name__, "PREFECT__RUNTIME__FLOW_RUN__", FIELDS)


def __dir__() -> list[str]:
    return sorted(__all__)
