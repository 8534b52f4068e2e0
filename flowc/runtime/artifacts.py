"""Where artifacts go: each is recorded with the top-level flow run whose tree made it.

Prefect keeps artifacts on its server; flowc keeps them with the run, so the run report and
``flowc run``'s summary list them. :func:`record_artifact` is the single way in: a new id adds
an artifact, a known id updates it (``update_progress_artifact``). In a worker of another
process (a task run placed whole on a process, Dask or Ray worker) the flow run is the
worker's stand-in, whose observer sends the record to the driver as an ``"artifact"`` event;
the driver (:mod:`flowc.runtime.placed`) calls :func:`record_artifact` again with its own
flow run.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from flowc.runtime.context import current_flow_run

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun

__all__ = ["ArtifactRecord", "artifacts_of", "record_artifact"]

logger = logging.getLogger("flowc.artifacts")


@dataclasses.dataclass
class ArtifactRecord:
    """One artifact as Prefect stores it: ``data`` is already formatted (text or a number)."""

    id: str
    type: str
    key: str | None
    description: str | None
    data: Any
    flow_run: str | None
    task_run: str | None
    created: float = dataclasses.field(default_factory=time.time)
    updated: float | None = None
    #: True for an update of an existing artifact (only ``data``/``description`` apply).
    is_update: bool = False


_by_root: weakref.WeakKeyDictionary[FlowRun, dict[str, ArtifactRecord]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def record_artifact(record: ArtifactRecord, flow_run: FlowRun | None = None) -> bool:
    """Add ``record`` to its flow run tree (``flow_run``, else the current one), or update it.

    Returns False when there is no flow run to hold it (an artifact made outside any run) or
    when an update names an artifact this run tree never made; both are logged, as Prefect
    would still accept them on its server.
    """
    run = flow_run if flow_run is not None else current_flow_run()
    if run is None:
        return False
    observer = run.root.observer
    if observer is not None:  # a worker's stand-in flow run: the driver records it
        observer.emit(("artifact", dataclasses.asdict(record)))
        return True
    with _lock:
        artifacts = _by_root.setdefault(run.root, {})
        existing = artifacts.get(record.id)
        if not record.is_update:
            artifacts[record.id] = record
            return True
        if existing is not None:
            existing.data = record.data
            if record.description:
                existing.description = record.description
            existing.updated = record.updated or time.time()
            return True
    logger.warning(
        "artifact %s was not made in this flow run; its update is not recorded", record.id
    )
    return False


def artifacts_of(flow_run: FlowRun) -> list[ArtifactRecord]:
    """The artifacts made in ``flow_run``'s whole tree, in the order they were created."""
    with _lock:
        return list(_by_root.get(flow_run.root, {}).values())
