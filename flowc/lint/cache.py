"""The lint cache: findings keyed by file content, flowc version and settings.

An entry also records the project modules the file imports (path, size, mtime) and is used
only while they are unchanged. Entries live in ``.flowc_cache/lint/`` under the project root
and are written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from flowc.files import write_atomic
from flowc.lint.model import Finding

__all__ = ["Cache"]

FORMAT = "flowc-lint-cache/1"
#: An entry larger than this is not a cache entry flowc wrote.
_MAX_ENTRY = 20_000_000


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class Cache:
    def __init__(self, folder: Path, salt: str) -> None:
        self.folder = folder
        self.salt = salt

    @classmethod
    def at(cls, root: Path, salt: str) -> Cache:
        from flowc import __version__

        return cls(root / ".flowc_cache" / "lint", f"{FORMAT}|{__version__}|{salt}")

    def key(self, path: str, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(f"\0{path}\0{self.salt}".encode())
        return digest.hexdigest()

    def get(self, key: str) -> tuple[list[Finding], list[str]] | None:
        """The entry for ``key``, or None: a missing, unreadable or malformed entry is a miss
        (the next ``put`` rewrites it), never an error."""
        from flowc.compiler.source import read_limited

        try:
            entry = json.loads(read_limited(self.folder / key[:2] / f"{key}.json", _MAX_ENTRY))
            for dep, stat in entry.get("deps", {}).items():
                if _stat(dep) != stat:
                    return None
            findings = [Finding.from_dict(f) for f in entry["findings"]]
            warnings = [str(w) for w in entry.get("warnings", [])]
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None
        return findings, warnings

    def put(self, key: str, findings: list[Finding], warnings: list[str], deps: list[str]) -> None:
        folder = self.folder / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            marker = self.folder.parent / ".gitignore"
            if not marker.exists():
                marker.write_text("# created by flowc lint\n*\n")
            entry = {
                "findings": [f.to_dict() for f in findings],
                "warnings": warnings,
                "deps": {d: _stat(d) for d in deps},
            }
            write_atomic(folder / f"{key}.json", json.dumps(entry))
        except OSError:  # a cache that cannot be written is only slower
            pass
