"""Result records under keys, on this machine (``prefect.results``: ``ResultStore``).

A task whose cache policy gives a key keeps its result here when it persists results, and a
later task run with the same key ends ``Cached`` with it; a transaction with a key writes its
record here when it commits. Prefect writes a JSON file per key under ``~/.prefect/storage``;
flowc keeps records in the format of its checkpoint store (:mod:`flowc.runtime.entries`):
authenticated, written all or nothing, under ``$FLOWC_HOME/storage`` by default (or the
``result_storage`` folder, or ``PREFECT_RESULTS_LOCAL_STORAGE_PATH``). A record's file is
named by a hash of its key; ``ResultStore.read(key)`` finds it as Prefect's does.

A record another user could have written, or one that fails its signature, is never loaded:
to the store it does not exist (and the task runs again), with one warning.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowc.runtime.entries import (
    EntryDirectory,
    UntrustedStoreError,
    decode_entry,
    decode_metadata,
    encode_entry,
    make_private_directory,
    untrusted_reason,
)

__all__ = ["ResultRecord", "ResultRecordMetadata", "ResultStore", "get_default_result_storage"]

logger = logging.getLogger("flowc.runtime")

_warned: set[str] = set()
_warned_lock = threading.Lock()


def get_default_result_storage() -> Path:
    """Where results go when nothing says otherwise: ``$FLOWC_HOME/storage``."""
    from flowc.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH

    return Path(PREFECT_RESULTS_LOCAL_STORAGE_PATH.value())


@dataclass
class ResultRecordMetadata:
    storage_key: str | None
    expiration: datetime.datetime | None = None
    serializer: str = "pickle"


@dataclass
class ResultRecord:
    """A stored result and what was kept with it."""

    result: Any
    metadata: ResultRecordMetadata = field(default_factory=lambda: ResultRecordMetadata(None))


def _folder_of(storage: Any) -> Path | None:
    if storage is None:
        return None
    from flowc.filesystems import LocalFileSystem

    if isinstance(storage, LocalFileSystem):
        return storage.path
    if isinstance(storage, (str, os.PathLike)):
        return Path(storage).expanduser()
    raise TypeError(
        f"result storage {storage!r}: flowc stores results in local folders only "
        "(a LocalFileSystem or a path); remote storage blocks need Prefect's server"
    )


class ResultStore:
    """Records by key in one folder, with an optional lock manager for SERIALIZABLE use."""

    def __init__(
        self,
        result_storage: Any = None,
        metadata_storage: Any = None,
        lock_manager: Any = None,
        cache_result_in_memory: bool = True,
        serializer: Any = None,
        storage_key_fn: Callable[[], str] | None = None,
        **_: Any,
    ) -> None:
        self.result_storage = result_storage
        self.metadata_storage = metadata_storage
        self.lock_manager = lock_manager
        self.cache_result_in_memory = cache_result_in_memory
        self.serializer = serializer or "pickle"
        self.storage_key_fn = storage_key_fn or (lambda: uuid.uuid4().hex)
        self._entries: EntryDirectory | None = None
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- where

    @property
    def directory(self) -> Path:
        """Where records go: the key storage if configured, else the result storage."""
        folder = _folder_of(self.metadata_storage) or _folder_of(self.result_storage)
        return folder if folder is not None else get_default_result_storage()

    def _open(self) -> EntryDirectory:
        """The folder, made private on first use; ``UntrustedStoreError`` if it is not safe."""
        with self._lock:
            if self._entries is not None:
                return self._entries
            root = Path(os.path.realpath(self.directory))
            try:
                root.parent.mkdir(parents=True, exist_ok=True)
                make_private_directory(root)
                info = os.stat(root)
            except OSError as error:
                raise UntrustedStoreError(
                    f"result storage {str(root)!r} cannot be used: {error.strerror or error}"
                ) from error
            reason = untrusted_reason(info)
            if reason is not None:
                raise UntrustedStoreError(
                    f"result storage {str(root)!r} is not used: {reason}, so its records "
                    "could be anyone's (loading one runs code)"
                )
            self._entries = EntryDirectory(root, suffix=".result")
            return self._entries

    @staticmethod
    def _name(key: str) -> str:
        data = key.encode("utf-8", "surrogatepass")
        return hashlib.sha256(b"flowc.result/1\0" + data).hexdigest()

    # ----------------------------------------------------------------- records

    def exists(self, key: str) -> bool:
        """Whether an unexpired record of this user's is stored under ``key``."""
        data = self._read_bytes(key)
        if data is None:
            return False
        try:
            meta = decode_metadata(data)
        except ValueError as error:
            _warn_once(f"corrupt:{key}", "result record %r is not used: %s", key, error)
            return False
        return not _expired(meta)

    def read(self, key: str, holder: str | None = None) -> ResultRecord:
        """The record under ``key``; ``ValueError`` if there is none (or none usable).

        If another holder has the key locked, waits until it is released: the record is then
        the one its transaction committed.
        """
        holder = holder or self.generate_default_holder()
        if self.lock_manager is not None and not self.is_lock_holder(key, holder):
            self.wait_for_lock(key)
        data = self._read_bytes(key)
        if data is None:
            raise ValueError(f"no result record under key {key!r} in {str(self.directory)!r}")
        try:
            meta, value = decode_entry(data)
        except Exception as error:
            raise ValueError(f"result record {key!r} cannot be used: {error}") from None
        return ResultRecord(value, _metadata(meta))

    def write(
        self,
        obj: Any,
        key: str | None = None,
        expiration: datetime.datetime | None = None,
        holder: str | None = None,
    ) -> None:
        """Store ``obj`` under ``key`` (a fresh one if None); raises if it cannot be stored."""
        self.persist_result_record(self.create_result_record(obj, key, expiration), holder)

    def create_result_record(
        self, obj: Any, key: str | None = None, expiration: datetime.datetime | None = None
    ) -> ResultRecord:
        return ResultRecord(obj, ResultRecordMetadata(key or self.storage_key_fn(), expiration))

    def persist_result_record(self, result_record: ResultRecord, holder: str | None = None) -> None:
        key = result_record.metadata.storage_key
        if key is None:
            raise ValueError("a result record needs a storage key to be persisted")
        holder = holder or self.generate_default_holder()
        if (
            self.lock_manager is not None
            and self.is_locked(key)
            and not self.is_lock_holder(key, holder)
        ):
            raise RuntimeError(
                f"Cannot write to result record with key {key} because it is locked by "
                "another holder."
            )
        expiration = result_record.metadata.expiration
        meta = {
            "key": key,
            "expiration": expiration.timestamp() if expiration is not None else None,
        }
        data = encode_entry(meta, result_record.result)
        self._open().write(self._name(key), data)

    def _read_bytes(self, key: str) -> bytes | None:
        try:
            entries = self._open()
        except UntrustedStoreError as error:
            _warn_once(f"store:{self.directory}", "%s", error)
            return None
        try:
            return entries.read(self._name(key))
        except OSError as error:
            _warn_once(
                f"read:{key}", "result record %r is not used: %s", key, error.strerror or error
            )
            return None

    # ----------------------------------------------------------------- locks

    def supports_isolation_level(self, level: Any) -> bool:
        from flowc.transactions import IsolationLevel

        level = IsolationLevel(level)
        if level is IsolationLevel.READ_COMMITTED:
            return True
        return self.lock_manager is not None

    def _locks(self) -> Any:
        if self.lock_manager is None:
            from flowc.exceptions import ConfigurationError

            raise ConfigurationError(
                "Result store is not configured with a lock manager. Please set a lock "
                "manager when creating the result store to enable locking."
            )
        return self.lock_manager

    def acquire_lock(
        self, key: str, holder: str | None = None, timeout: float | None = None
    ) -> bool:
        holder = holder or self.generate_default_holder()
        return bool(self._locks().acquire_lock(key, holder, timeout))

    def release_lock(self, key: str, holder: str | None = None) -> None:
        self._locks().release_lock(key, holder or self.generate_default_holder())

    def is_locked(self, key: str) -> bool:
        return bool(self._locks().is_locked(key))

    def is_lock_holder(self, key: str, holder: str | None = None) -> bool:
        return bool(self._locks().is_lock_holder(key, holder or self.generate_default_holder()))

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return bool(self._locks().wait_for_lock(key, timeout))

    @staticmethod
    def generate_default_holder() -> str:
        """This host, process and thread: who holds a lock taken without naming a holder."""
        thread = threading.current_thread()
        return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{thread.name}"

    def __repr__(self) -> str:
        return f"ResultStore(directory={str(self.directory)!r})"


def _expired(meta: dict[str, Any]) -> bool:
    expiration = meta.get("expiration")
    if not isinstance(expiration, (int, float)):
        return False
    return expiration <= datetime.datetime.now(datetime.timezone.utc).timestamp()


def _metadata(meta: dict[str, Any]) -> ResultRecordMetadata:
    expiration = meta.get("expiration")
    when = (
        datetime.datetime.fromtimestamp(expiration, tz=datetime.timezone.utc)
        if isinstance(expiration, (int, float))
        else None
    )
    return ResultRecordMetadata(meta.get("key"), when)


def _warn_once(token: str, message: str, *args: Any) -> None:
    with _warned_lock:
        if token in _warned:
            return
        _warned.add(token)
    logger.warning(message, *args)
