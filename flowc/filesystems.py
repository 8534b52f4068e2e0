"""A local folder as a result storage location (``prefect.filesystems.LocalFileSystem``).

Prefect's storage blocks are saved on its server; flowc has none, so a ``LocalFileSystem`` is
only a folder: passed as ``result_storage`` (or to ``ResultStore``) it says where result
records go. ``save()`` and ``load()`` need Prefect's server and say so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["LocalFileSystem"]


class LocalFileSystem:
    """A folder on this machine; ``basepath`` may start with ``~``."""

    def __init__(self, basepath: str | os.PathLike[str] | None = None, **_: Any) -> None:
        self.basepath = str(basepath) if basepath is not None else None

    @property
    def path(self) -> Path:
        return Path(self.basepath or ".").expanduser()

    def save(self, name: str, overwrite: bool = False) -> Any:
        raise NotImplementedError(
            f"LocalFileSystem.save({name!r}): flowc keeps no block documents (that needs "
            "Prefect's server); pass the LocalFileSystem itself as result_storage"
        )

    @classmethod
    def load(cls, name: str) -> LocalFileSystem:
        raise NotImplementedError(
            f"LocalFileSystem.load({name!r}): flowc keeps no block documents (that needs "
            "Prefect's server); construct LocalFileSystem(basepath=...) instead"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalFileSystem) and self.path == other.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"LocalFileSystem(basepath={self.basepath!r})"
