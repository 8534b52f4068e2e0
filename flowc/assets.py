"""``prefect.assets``: tasks that declare the data assets they materialize.

In Prefect, ``@materialize(asset)`` makes a task whose runs also report to the server that the
asset (a URI such as ``s3://bucket/data.csv``) was materialized, for its lineage graph. flowc
has no server and no asset graph, so a materializing task is an ordinary task that remembers
its assets (``task.assets``); keys are checked as Prefect checks them, and the metadata that
``add_asset_metadata`` attaches is kept on the task run's assets for the run's lifetime.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from flowc.runtime.context import current_task_run
from flowc.runtime.tasks import Task, task

__all__ = ["Asset", "AssetProperties", "add_asset_metadata", "asset_metadata", "materialize"]

R = TypeVar("R")

MAX_ASSET_KEY_LENGTH = 512
_RESTRICTED = ("\n", "\r", "\t", "\0", " ", "#", "?", "&", "%", '"', "'", "<", ">", "[", "]")
_URI = re.compile(r"^[a-z0-9+.-]+://.+")


def _check_key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"an asset key is a string, not {type(key).__name__}")
    for char in _RESTRICTED:
        if char in key:
            raise ValueError(f"Asset key cannot contain {char!r} (got {key!r})")
    if len(key) > MAX_ASSET_KEY_LENGTH:
        raise ValueError(f"Asset key cannot exceed {MAX_ASSET_KEY_LENGTH} characters")
    if not _URI.match(key):
        raise ValueError(
            f"Asset key must be a URI with a lowercase scheme, like 's3://bucket/key' (got {key!r})"
        )
    return key


@dataclasses.dataclass(frozen=True)
class AssetProperties:
    """What Prefect's UI shows about an asset."""

    name: str | None = None
    url: str | None = None
    description: str | None = None
    owners: list[str] | None = None


@dataclasses.dataclass(frozen=True)
class Asset:
    """A data product named by a URI-like key."""

    key: str
    properties: AssetProperties | None = None

    def __post_init__(self) -> None:
        _check_key(self.key)

    def __repr__(self) -> str:
        return f"Asset(key={self.key!r})"

    def __hash__(self) -> int:
        return hash(self.key)

    def add_metadata(self, metadata: dict[str, Any]) -> None:
        add_asset_metadata(self, metadata)


def materialize(
    *assets: str | Asset, by: str | None = None, **task_kwargs: Any
) -> Callable[[Callable[..., R]], Task[R]]:
    """A task decorator: the task materializes ``assets`` (keys or :class:`Asset`)."""
    if not assets:
        raise TypeError(
            "materialize requires at least one asset argument, e.g. `@materialize(asset)`"
        )
    declared = tuple(asset if isinstance(asset, Asset) else Asset(asset) for asset in assets)

    def decorator(fn: Callable[..., R]) -> Task[R]:
        made: Task[R] = task(**task_kwargs)(fn)
        made.assets = declared  # type: ignore[attr-defined]
        made.materialized_by = by  # type: ignore[attr-defined]
        return made

    return decorator


_metadata: weakref.WeakKeyDictionary[Any, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def add_asset_metadata(asset: str | Asset, metadata: dict[str, Any]) -> None:
    """Attach ``metadata`` to an asset the current materializing task run produces."""
    run = current_task_run()
    declared = getattr(run.task, "assets", None) if run is not None else None
    if run is None or not declared:
        raise RuntimeError(
            "Unable to call `add_asset_metadata` when not inside of an AssetContext "
            "(a task run of a @materialize task)"
        )
    key = asset if isinstance(asset, str) else asset.key
    with _lock:
        _metadata.setdefault(run, {}).setdefault(key, {}).update(metadata)


def asset_metadata(run: Any) -> dict[str, dict[str, Any]]:
    """The metadata ``add_asset_metadata`` attached during ``run``, by asset key."""
    with _lock:
        return {key: dict(value) for key, value in _metadata.get(run, {}).items()}
