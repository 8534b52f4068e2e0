"""``prefect.artifacts``: markdown, tables, links, images and progress bars made by a run.

Each ``create_*_artifact`` formats its data as Prefect does, records it with the current flow
run and task run (see :mod:`flowc.runtime.artifacts`) and returns the artifact's id, a
``uuid.UUID`` that ``update_progress_artifact`` accepts. Called from an async task or flow,
each returns a coroutine, as Prefect's do; ``acreate_*`` are always async.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
import warnings
from typing import Any

from flowc.runtime.artifacts import ArtifactRecord, record_artifact
from flowc.runtime.asyncdispatch import sync_or_async
from flowc.runtime.context import current_flow_run, current_task_run

__all__ = [
    "acreate_image_artifact",
    "acreate_link_artifact",
    "acreate_markdown_artifact",
    "acreate_progress_artifact",
    "acreate_table_artifact",
    "aupdate_progress_artifact",
    "create_image_artifact",
    "create_link_artifact",
    "create_markdown_artifact",
    "create_progress_artifact",
    "create_table_artifact",
    "update_progress_artifact",
]

logger = logging.getLogger("flowc.artifacts")

_KEY = re.compile(r"^[a-z0-9-]*$")

Table = dict[str, list[Any]] | list[dict[str, Any]] | list[list[Any]]


def _create(kind: str, data: Any, key: str | None, description: str | None) -> uuid.UUID:
    if key is not None and not _KEY.match(key):
        raise ValueError(
            f"Artifact key must only contain lowercase letters, numbers, and dashes (got {key!r})"
        )
    task_run = current_task_run()
    flow_run = current_flow_run()
    if flow_run is None and task_run is None:
        warnings.warn(
            "Artifact creation outside of a flow or task run is deprecated and will be removed "
            "in a later version.",
            FutureWarning,
            stacklevel=4,
        )
    if flow_run is None and task_run is not None:
        flow_run = task_run.flow_run
    artifact_id = uuid.uuid4()
    record = ArtifactRecord(
        id=str(artifact_id),
        type=kind,
        key=key,
        description=description,
        data=data,
        flow_run=str(flow_run.id) if flow_run is not None else None,
        task_run=str(task_run.id) if task_run is not None else None,
    )
    record_artifact(record, flow_run)
    return artifact_id


def _markdown(markdown: str, key: str | None = None, description: str | None = None) -> uuid.UUID:
    return _create("markdown", markdown, key, description)


def _link(
    link: str,
    link_text: str | None = None,
    key: str | None = None,
    description: str | None = None,
) -> uuid.UUID:
    return _create("markdown", f"[{link_text or link}]({link})", key, description)


def _table(table: Table, key: str | None = None, description: str | None = None) -> uuid.UUID:
    if not isinstance(table, (dict, list)):
        raise TypeError(
            "create_table_artifact takes a dict of columns, a list of row dicts or a list of "
            f"row lists, not {type(table).__name__}"
        )
    return _create("table", json.dumps(_without_nan(table)), key, description)


def _without_nan(item: Any) -> Any:
    """NaN is not JSON: Prefect shows it as an empty cell (null)."""
    if isinstance(item, list):
        return [_without_nan(value) for value in item]
    if isinstance(item, dict):
        return {name: _without_nan(value) for name, value in item.items()}
    if isinstance(item, float) and math.isnan(item):
        return None
    return item


def _image(image_url: str, key: str | None = None, description: str | None = None) -> uuid.UUID:
    return _create("image", image_url, key, description)


def _percent(progress: float) -> float:
    if 0.0 <= progress <= 100.0:
        return float(progress)
    clamped = max(0.0, min(float(progress), 100.0))
    logger.warning("ProgressArtifact received an invalid value, Progress: %s%%", progress)
    logger.warning("Interpreting as %s%% progress", clamped)
    return clamped


def _progress(progress: float, key: str | None = None, description: str | None = None) -> uuid.UUID:
    return _create("progress", _percent(progress), key, description)


def _update_progress(
    artifact_id: uuid.UUID | str, progress: float, description: str | None = None
) -> uuid.UUID:
    artifact_id = uuid.UUID(str(artifact_id))
    record = ArtifactRecord(
        id=str(artifact_id),
        type="progress",
        key=None,
        description=description,
        data=_percent(progress),
        flow_run=None,
        task_run=None,
        updated=time.time(),
        is_update=True,
    )
    flow_run = current_flow_run()
    task_run = current_task_run()
    if flow_run is None and task_run is not None:
        flow_run = task_run.flow_run
    record_artifact(record, flow_run)
    return artifact_id


create_markdown_artifact = sync_or_async(_markdown)
create_link_artifact = sync_or_async(_link)
create_table_artifact = sync_or_async(_table)
create_image_artifact = sync_or_async(_image)
create_progress_artifact = sync_or_async(_progress)
update_progress_artifact = sync_or_async(_update_progress)

acreate_markdown_artifact = create_markdown_artifact.aio
acreate_link_artifact = create_link_artifact.aio
acreate_table_artifact = create_table_artifact.aio
acreate_image_artifact = create_image_artifact.aio
acreate_progress_artifact = create_progress_artifact.aio
aupdate_progress_artifact = update_progress_artifact.aio
