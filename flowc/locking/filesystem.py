"""Locks kept as files, shared by every process of one machine
(``prefect.locking.filesystem.FileSystemLockManager``).

A lock is a file ``<directory>/<key>.lock`` holding ``{"holder": ..., "expiration": ...}``.
It is created with its content in one step (written aside, then hard-linked into place, which
fails if the lock exists), so a contender never reads a half-written lock and two contenders
never both win. Waiting polls, as Prefect's does: locks are held for a transaction's length.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["FileSystemLockManager"]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,200}\Z")
_POLL_SECONDS = 0.05


class FileSystemLockManager:
    """Named locks as files in ``lock_files_directory`` (created on first use)."""

    def __init__(self, lock_files_directory: str | os.PathLike[str]) -> None:
        self.lock_files_directory = Path(lock_files_directory).expanduser().resolve()

    def _path(self, key: str) -> Path:
        # Keys become file names: one with a path separator (or odd characters) is hashed.
        if _PLAIN_KEY.match(key) and not key.startswith("."):
            name = key
        else:
            name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.lock_files_directory / f"{name}.lock"

    def _read(self, key: str) -> dict[str, Any] | None:
        return self._read_path(self._path(key))

    def _read_path(self, path: Path) -> dict[str, Any] | None:
        """The lock's content; None if there is no lock (an expired one is removed)."""
        try:
            info = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            info = {"holder": None, "expiration": None}  # unreadable: held by someone
        expiration = info.get("expiration") if isinstance(info, dict) else None
        if isinstance(expiration, (int, float)) and expiration < time.time():
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            return None
        return info if isinstance(info, dict) else {"holder": None}

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        """Take the lock for ``holder``, waiting up to ``acquire_timeout`` (None: forever)."""
        self.lock_files_directory.mkdir(parents=True, exist_ok=True)
        deadline = None if acquire_timeout is None else time.monotonic() + acquire_timeout
        expiration = None if hold_timeout is None else time.time() + hold_timeout
        content = json.dumps({"holder": holder, "expiration": expiration}).encode()
        path = self._path(key)
        while True:
            if self._try_create(path, content):
                return True
            if self.is_lock_holder(key, holder):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)

    def _try_create(self, path: Path, content: bytes) -> bool:
        fd, temporary = tempfile.mkstemp(prefix=".lock.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            try:
                os.link(temporary, path)
            except FileExistsError:
                self._read_path(path)  # removes the lock if it has expired
                return False
            return True
        finally:
            os.unlink(temporary)

    def release_lock(self, key: str, holder: str) -> None:
        info = self._read(key)
        if info is None:
            raise ValueError(f"No lock for transaction with key {key}")
        if info.get("holder") != holder:
            raise ValueError(f"No lock held by {holder} for transaction with key {key}")
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def is_locked(self, key: str, use_cache: bool = False) -> bool:
        return self._read(key) is not None

    def is_lock_holder(self, key: str, holder: str) -> bool:
        info = self._read(key)
        return info is not None and info.get("holder") == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """Wait until nobody holds the lock; False if ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_locked(key):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_SECONDS)
        return True

    def __repr__(self) -> str:
        return f"FileSystemLockManager(lock_files_directory={str(self.lock_files_directory)!r})"
