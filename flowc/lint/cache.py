"""The lint cache: findings keyed by file content, flowc version and settings.

An entry also records the project modules the file imports and is used only while they are
unchanged (:class:`flowc.content_cache.ContentCache`). Entries live in ``.flowc_cache/lint/``
under the project root.
"""

from __future__ import annotations

from pathlib import Path

from flowc.content_cache import ContentCache
from flowc.lint.model import Finding

__all__ = ["Cache"]

FORMAT = "flowc-lint-cache/2"


class Cache:
    """Findings and warnings per file, in a :class:`ContentCache`."""

    def __init__(self, folder: Path, salt: str) -> None:
        self.entries = ContentCache(folder, salt, note="flowc lint")

    @classmethod
    def at(cls, root: Path, salt: str) -> Cache:
        from flowc import __version__

        return cls(root / ".flowc_cache" / "lint", f"{FORMAT}|{__version__}|{salt}")

    @property
    def folder(self) -> Path:
        return self.entries.folder

    def key(self, path: str, data: bytes) -> str:
        return self.entries.key(path, data)

    def get(self, key: str) -> tuple[list[Finding], list[str]] | None:
        """The entry for ``key``, or None: a missing, unreadable or malformed entry is a miss
        (the next ``put`` rewrites it), never an error."""
        payload = self.entries.get(key)
        if payload is None:
            return None
        try:
            findings = [Finding.from_dict(f) for f in payload["findings"]]
            warnings = [str(w) for w in payload.get("warnings", [])]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return findings, warnings

    def put(self, key: str, findings: list[Finding], warnings: list[str], deps: list[str]) -> None:
        payload = {"findings": [f.to_dict() for f in findings], "warnings": warnings}
        self.entries.put(key, payload, deps)
