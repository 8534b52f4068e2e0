"""The checkpoint store behind ``flowc run --checkpoint DIR`` and ``--resume DIR``.

A run with ``--checkpoint`` stores every completed task run's result; a later run with
``--resume`` on the same directory finds those results and does not run those task runs again.
The run may have been killed at any instant, SIGKILL included, so everything here is written
to survive being interrupted between any two system calls.

Layout::

    DIR/flowc-checkpoint.json      {"schema": "flowc.checkpoint/2", "flow": ..., "created": ...}
    DIR/<key[:2]>/<key>.pkl        one entry (see flowc.runtime.entries)

Entries are the result store's (:mod:`flowc.runtime.entries`): sharded by key, written all or
nothing, and authenticated, so that a resumed value is one this user wrote. A directory that
another user owns or that others can write is refused before anything in it is read: its
entries could be anyone's pickles. (A killed writer leaves at most a ``.<key>.*.tmp`` file,
which :meth:`CheckpointStore.open` removes. One run at a time per directory: ``open`` removes
every temporary file it finds, including one a concurrent run is writing, whose ``put`` then
fails with a warning.)

Why keys form a Merkle chain: a task run's key (:meth:`CheckpointStore.key`) hashes its node
id in the flow, its task's source (:func:`task_source_hash`) and its inputs (:func:`inputs_hash`),
where each upstream result among the inputs is stood for by *that upstream's key*, not by its
value. Large results are never hashed, results that live on a Dask or Ray cluster need not be
fetched, and a change anywhere upstream changes every key downstream of it.

What invalidates an entry: a change to the task's own source, to a constant input, or to any
upstream's key (hence to anything upstream). Not tracked: helper functions the task calls,
global state it reads, values captured in closures, files it opens. A directory written for
another flow is refused outright, as is a non-empty directory that is not a checkpoint at all:
the store never mixes its files into someone else's directory.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from flowc.exceptions import FlowcError
from flowc.files import write_atomic
from flowc.runtime.entries import (
    TEMP_SUFFIX,
    EntryDirectory,
    UntrustedStoreError,
    decode_entry,
    encode_entry,
    make_private_directory,
    untrusted_reason,
)
from flowc.runtime.hashing import inputs_hash, task_source_hash

__all__ = [
    "MANIFEST_NAME",
    "SCHEMA",
    "CheckpointError",
    "CheckpointStore",
    "check_directory",
    "inputs_hash",
    "task_source_hash",
]

SCHEMA = "flowc.checkpoint/2"
MANIFEST_NAME = "flowc-checkpoint.json"

logger = logging.getLogger("flowc.runtime")

_KEY = re.compile(r"[0-9a-f]{64}\Z")
_MANIFEST_TEMP_PREFIX = f".{MANIFEST_NAME}."


class CheckpointError(FlowcError):
    """A checkpoint directory cannot be used; the message names it and says why."""


class CheckpointStore:
    """Task-run results of one flow, kept in one directory, keyed by :meth:`key`.

    Made by :meth:`open` only, which checks that the directory belongs to the flow and to
    the user.
    """

    def __init__(self, directory: Path, flow: str, *, _token: object = None) -> None:
        if _token is not _OPEN_TOKEN:
            raise TypeError("use CheckpointStore.open(directory, flow, create=...)")
        self._directory = directory
        self._flow = flow
        self._entries = EntryDirectory(directory)
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, directory: str | os.PathLike[str], flow: str, *, create: bool) -> CheckpointStore:
        """The store in ``directory`` for ``flow``; see the module docstring for the rules.

        ``create=True`` (``--checkpoint``) makes the directory or continues a checkpoint of the
        same flow in it; ``create=False`` (``--resume``) requires an existing checkpoint of
        this flow. Every refusal is a :class:`CheckpointError` naming the directory.
        """
        shown = os.fspath(directory)
        path = Path(os.path.realpath(shown))
        if create:
            _prepare_for_writing(path, shown, flow)
        else:
            _check_for_resume(path, shown)
            _check_manifest(_read_manifest(path, shown), shown, flow)
        _require_key()
        store = cls(path, flow, _token=_OPEN_TOKEN)
        _remove_manifest_temporaries(path)
        store._entries.remove_temporary_files()
        return store

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def flow(self) -> str:
        return self._flow

    # ----------------------------------------------------------------- keys

    def key(self, node_id: str, task_source: str, inputs: str) -> str:
        """The key of one task run; each part is length-prefixed, so no two splits collide."""
        import hashlib

        digest = hashlib.sha256(SCHEMA.encode())
        for part in (node_id, task_source, inputs):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(b"%d:" % len(data))
            digest.update(data)
        return digest.hexdigest()

    # ----------------------------------------------------------------- entries

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a stored entry, else ``(False, None)``.

        A damaged, unreadable or untrusted entry is a miss (the task simply runs again),
        reported once: a checkpoint must never be the reason a run fails.
        """
        path = self._entry_path(key)
        try:
            data = self._entries.read(key)
        except OSError as error:
            self._warn_once(
                f"read:{key}", "checkpoint entry %s is not used: %s", path, _reason(error)
            )
            return False, None
        if data is None:
            return False, None
        try:
            return True, decode_entry(data)[1]
        except UntrustedStoreError as error:
            self._warn_once("key", "checkpoint entries are not used: %s", error)
            return False, None
        except Exception as error:
            self._warn_once(
                f"read:{key}", "checkpoint entry %s is corrupt, ignoring it (%s)", path, error
            )
            return False, None

    def put(self, key: str, value: Any, *, task: str | None = None) -> bool:
        """Store ``value`` under ``key``; False (with a warning) if it cannot be stored.

        ``task`` (a task name) groups the warnings: a result type that does not pickle, or a
        full disk, is reported once per task rather than once per run of a 10 000-way map.
        Never raises into the engine: a failed checkpoint only means the run is redone.
        """
        self._entry_path(key)
        about = f"task {task!r}" if task is not None else f"checkpoint entry {key[:12]}"
        try:
            data = encode_entry({"task": task} if task is not None else {}, value)
        except UntrustedStoreError as error:
            self._warn_once("key", "%s: result not checkpointed: %s", about, error)
            return False
        except Exception as error:
            self._warn_once(
                f"pickle:{task or key}",
                "%s: result not checkpointed, it cannot be pickled (%s: %s)",
                about,
                type(error).__name__,
                error,
            )
            return False
        try:
            self._entries.write(key, data)
        except OSError as error:
            self._warn_once(
                f"write:{task or key}",
                "%s: result not checkpointed, writing to %s failed (%s)",
                about,
                self._directory,
                _reason(error),
            )
            return False
        return True

    def __contains__(self, key: object) -> bool:
        """Whether an entry file exists; :meth:`get` still decides whether it is usable."""
        if not isinstance(key, str) or not _KEY.match(key):
            return False
        return self._entries.exists(key)

    def __len__(self) -> int:
        return sum(1 for key in self._entries.names() if _KEY.match(key))

    def __repr__(self) -> str:
        return f"<CheckpointStore {str(self._directory)!r} flow={self._flow!r}>"

    # ----------------------------------------------------------------- internals

    def _entry_path(self, key: str) -> Path:
        # Keys become file names: a malformed one is an engine bug, and must not escape DIR.
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"not a checkpoint key: {key!r}")
        return self._entries.path(key)

    def _warn_once(self, token: str, message: str, *args: Any) -> None:
        with self._lock:
            if token in self._warned:
                return
            self._warned.add(token)
        logger.warning(message, *args)


_OPEN_TOKEN = object()


# --------------------------------------------------------------------------- directory checks


def check_directory(directory: str | os.PathLike[str], *, resume: bool) -> None:
    """Refuse, before the flow's file is even imported, a directory that cannot serve.

    ``--resume`` needs an existing checkpoint; both need a directory that is the user's.
    (Which flow the checkpoint is of is checked when the run starts.)
    """
    shown = os.fspath(directory)
    path = Path(os.path.realpath(shown))
    if resume:
        _check_for_resume(path, shown)
        _read_manifest(path, shown)
        return
    if os.path.lexists(path):
        if not path.is_dir():
            raise CheckpointError(f"checkpoint directory {shown!r} exists and is not a directory")
        if (path / MANIFEST_NAME).exists():
            _require_trusted(path, shown)


def _prepare_for_writing(path: Path, shown: str, flow: str) -> None:
    """Make ``path`` a checkpoint of ``flow``, or find it already is one; refuse anything else."""
    created = _make_checkpoint_directory(path, shown)
    manifest = path / MANIFEST_NAME
    if not created:
        if os.path.lexists(manifest):
            _require_trusted(path, shown)
            _check_manifest(_read_manifest(path, shown), shown, flow)
            _require_writable(path, shown)
            return
        _require_empty(path, shown)
        _take_empty_directory(path, shown)
    document = {
        "schema": SCHEMA,
        "flow": flow,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    data = json.dumps(document, indent=2) + "\n"
    try:
        write_atomic(manifest, data, mode=0o600, durable=True)
        _fsync_directory(path)
    except OSError as error:
        raise CheckpointError(
            f"cannot write to checkpoint directory {shown!r}: {_reason(error)}"
        ) from error


def _make_checkpoint_directory(path: Path, shown: str) -> bool:
    """Create the directory (parents as ``mkdir -p`` would); True if it was created here."""
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"checkpoint directory {shown!r} exists and is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return make_private_directory(path)
    except OSError as error:
        raise CheckpointError(
            f"cannot create checkpoint directory {shown!r}: {_reason(error)}"
        ) from error


def _take_empty_directory(path: Path, shown: str) -> None:
    """An empty directory of the user's becomes private; one of another user's is refused."""
    info = os.stat(path)
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        _require_trusted(path, shown)
    if info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as error:
            raise CheckpointError(
                f"cannot make checkpoint directory {shown!r} private: {_reason(error)}"
            ) from error


def _require_trusted(path: Path, shown: str) -> None:
    """Refuse a directory whose files anyone but the user could have written."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise CheckpointError(
            f"cannot read checkpoint directory {shown!r}: {_reason(error)}"
        ) from error
    reason = untrusted_reason(info)
    if reason is not None:
        raise CheckpointError(
            f"checkpoint directory {shown!r} is not safe to use: {reason}, so its entries "
            "could be anyone's (they are pickles, and loading one runs code); use a "
            "directory of your own that only you can write"
        )


def _require_key() -> None:
    from flowc.runtime.entries import secret_key

    try:
        secret_key()
    except UntrustedStoreError as error:
        raise CheckpointError(str(error)) from None


def _require_empty(path: Path, shown: str) -> None:
    """Refuse a directory that holds anything but our own leftover manifest temp files."""
    try:
        names = [n for n in os.listdir(path) if not _is_manifest_temp(n)]
    except OSError as error:
        raise CheckpointError(
            f"cannot read checkpoint directory {shown!r}: {_reason(error)}"
        ) from error
    if names:
        raise CheckpointError(
            f"checkpoint directory {shown!r} is not empty and holds no flowc checkpoint "
            f"(no {MANIFEST_NAME}); refusing to write into it: choose a new or empty directory"
        )
    _require_writable(path, shown)


def _require_writable(path: Path, shown: str) -> None:
    # Checked up front: otherwise every task's put would fail, each with its own warning.
    if not os.access(path, os.W_OK | os.X_OK):
        raise CheckpointError(f"checkpoint directory {shown!r} is not writable: permission denied")


def _check_for_resume(path: Path, shown: str) -> None:
    try:
        if not path.exists():
            raise CheckpointError(f"cannot resume: checkpoint directory {shown!r} does not exist")
        if not path.is_dir():
            raise CheckpointError(f"cannot resume: {shown!r} is not a directory")
    except PermissionError as error:
        raise CheckpointError(
            f"cannot resume: cannot read checkpoint directory {shown!r}: permission denied"
        ) from error
    if not os.access(path, os.R_OK | os.X_OK):
        raise CheckpointError(
            f"cannot resume: cannot read checkpoint directory {shown!r}: permission denied"
        )
    _require_trusted(path, shown)


def _read_manifest(path: Path, shown: str) -> dict[str, Any]:
    manifest = path / MANIFEST_NAME
    where = os.path.join(shown, MANIFEST_NAME)
    from flowc.runtime.entries import read_entry_file

    try:
        raw = read_entry_file(manifest)
        if raw is None:
            raise FileNotFoundError(manifest)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise CheckpointError(
            f"cannot resume: {shown!r} holds no flowc checkpoint ({MANIFEST_NAME} is missing)"
        ) from None
    except PermissionError as error:
        raise CheckpointError(
            f"cannot read checkpoint manifest {where!r}: permission denied"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        detail = _reason(error) if isinstance(error, OSError) else str(error)
        raise CheckpointError(f"cannot read checkpoint manifest {where!r}: {detail}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckpointError(
            f"checkpoint manifest {where!r} is corrupt ({error}); "
            f"remove {shown!r} to start a new checkpoint"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("flow"), str):
        raise CheckpointError(
            f"checkpoint manifest {where!r} is corrupt (not a flowc checkpoint manifest); "
            f"remove {shown!r} to start a new checkpoint"
        )
    return document


def _check_manifest(document: dict[str, Any], shown: str, flow: str) -> None:
    schema = document.get("schema")
    if schema != SCHEMA:
        raise CheckpointError(
            f"checkpoint directory {shown!r} was written in format {schema!r}, "
            f"which this flowc does not read (it reads {SCHEMA!r})"
        )
    if document["flow"] != flow:
        raise CheckpointError(
            f"checkpoint directory {shown!r} holds checkpoints of flow "
            f"{document['flow']!r}, not {flow!r}"
        )


def _remove_manifest_temporaries(path: Path) -> None:
    """Remove manifest temp files a killed writer left; best effort (resume may be read-only)."""
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        if _is_manifest_temp(name):
            _unlink_quietly(os.path.join(path, name))


def _is_manifest_temp(name: str) -> bool:
    return name.startswith(_MANIFEST_TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _reason(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or str(error)


# --------------------------------------------------------------------------- files


def _fsync_directory(path: Path) -> None:
    """Make a rename in ``path`` durable; not possible (nor needed) on every platform."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
