"""A cache of what was computed from a file: entries keyed by its content, kept while the
other files the computation read are unchanged.

``flowc lint`` keeps its findings here and ``flowc run`` the plan it compiled, so running or
linting an unchanged file again skips libcst altogether. An entry is one JSON file written
atomically; it records the files the computation read (path, size, mtime) and is a miss as
soon as one of them changes. A missing, unreadable or malformed entry is a miss too, never an
error, and an entry that cannot be written only makes the next run slower.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

from flowc.files import write_atomic

__all__ = ["ContentCache"]

#: An entry larger than this is not one flowc wrote.
_MAX_ENTRY = 20_000_000


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class ContentCache:
    """Entries under ``folder``; ``salt`` (format, flowc version, options) is part of each key."""

    def __init__(self, folder: Path, salt: str, note: str = "flowc") -> None:
        self.folder = folder
        self.salt = salt
        #: what the ``.gitignore`` put beside the cache says created it.
        self.note = note

    def key(self, path: str, data: bytes) -> str:
        """The key of ``data`` read from ``path``: a hash of both and the salt."""
        import hashlib  # here: its OpenSSL costs a process megabytes it may not need

        digest = hashlib.sha256(data)
        digest.update(f"\0{path}\0{self.salt}".encode())
        return digest.hexdigest()

    def name_key(self, name: str) -> str:
        """A key for ``name`` itself (a path and options; the content is checked by the
        entry's recorded files): two checksums, so it needs no cryptographic hash. Keep
        ``name`` in the payload too, to tell the rare collision from a hit."""
        data = f"{name}\0{self.salt}".encode()
        return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"

    def get(self, key: str) -> dict[str, Any] | None:
        """The payload stored under ``key`` while every file it read is unchanged, or None."""
        from flowc.reading import read_limited

        try:
            entry = json.loads(read_limited(self.folder / key[:2] / f"{key}.json", _MAX_ENTRY))
            for dep, stat in entry.get("deps", {}).items():
                if _stat(dep) != stat:
                    return None
            payload = entry["payload"]
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None
        return payload if isinstance(payload, dict) else None

    def put(self, key: str, payload: dict[str, Any], deps: list[str]) -> None:
        folder = self.folder / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            marker = self.folder.parent / ".gitignore"
            if not marker.exists():
                marker.write_text(f"# created by {self.note}\n*\n")
            entry = {"payload": payload, "deps": {d: _stat(d) for d in deps}}
            write_atomic(folder / f"{key}.json", json.dumps(entry))
        except OSError:  # a cache that cannot be written is only slower
            pass
