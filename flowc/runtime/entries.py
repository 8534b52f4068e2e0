"""One directory of result entries that only their owner can have written: the one on-disk
format of both the checkpoint store (``--checkpoint``) and the result store (cache policies,
transactions).

An entry holds a pickled value, and unpickling runs code: so an entry is used only when it is
certain this user wrote it. Three checks, each enough to stop a planted pickle on its own:

* the directory (and each shard, and each entry file) must belong to the user and be
  writable by nobody else — a directory another user owns, or one open to the world, is
  refused outright, because anyone could have put files in it;
* every entry is authenticated: ``MAGIC + HMAC-SHA256(key, MAGIC + body) + body``, with a
  32-byte secret kept 0600 in the user's flowc home (``$FLOWC_HOME/keys/entries.key``), never
  in the store itself, so a copied or crafted entry fails the check and is never unpickled;
* entry files are opened without following symbolic links and without blocking, and used
  only if they are regular files: a FIFO or a link to ``/dev/zero`` is refused, never read.

A body is ``length (4 bytes, big-endian) + metadata JSON + pickle``: the metadata (which
result key, when it expires, which task) can be read without unpickling.

Writes go through :func:`flowc.files.write_atomic` (durable): a reader sees no entry or a whole
one, whatever instant the writer was killed at. A shard folder that is a symbolic link (or is
not the user's) is not written through; the write fails with the reason.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import pickle
import stat
import struct
import tempfile
import threading
from pathlib import Path
from typing import Any

import cloudpickle

from flowc.exceptions import FlowcError
from flowc.files import flowc_home, write_atomic

__all__ = [
    "EntryDirectory",
    "UntrustedStoreError",
    "decode_entry",
    "encode_entry",
    "make_private_directory",
    "untrusted_reason",
]

MAGIC = b"FLOWCEN2"
_MAC_SIZE = hashlib.sha256().digest_size
_HEADER = len(MAGIC) + _MAC_SIZE
_LENGTH = struct.Struct(">I")
_KEY_SIZE = 32
TEMP_SUFFIX = ".tmp"


class UntrustedStoreError(FlowcError):
    """A store directory, an entry or flowc's key file could have been written by another user."""


# --------------------------------------------------------------------------- ownership


def untrusted_reason(info: os.stat_result) -> str | None:
    """Why a file or directory with this ``lstat`` could hold someone else's bytes, or None."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and info.st_uid != uid:
        return f"it is owned by uid {info.st_uid}, not by you (uid {uid})"
    if info.st_mode & 0o022:
        return f"it is writable by others (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def make_private_directory(path: Path) -> bool:
    """``mkdir`` with mode 0o700 whatever the umask; False if the directory already existed.

    An existing path that is a symbolic link or not a directory raises ``OSError``: a store
    never writes through a link someone left where its folder should be.
    """
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise OSError(errno.ELOOP, "a symbolic link, not followed", str(path)) from None
        if not stat.S_ISDIR(info.st_mode):
            raise
        return False
    os.chmod(path, 0o700)  # the umask may have taken bits away (even the owner's)
    return True


# --------------------------------------------------------------------------- the secret


_key_lock = threading.Lock()
_keys: dict[str, bytes] = {}


def secret_key() -> bytes:
    """This user's entry-signing secret, made on first use; the same in every process."""
    path = flowc_home() / "keys" / "entries.key"
    where = str(path)
    with _key_lock:
        cached = _keys.get(where)
        if cached is not None:
            return cached
        key = _read_key(path)
        if key is None:
            key = _create_key(path)
        _keys[where] = key
        return key


def _read_key(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UntrustedStoreError(
            f"flowc's key file {str(path)!r} cannot be read: {error.strerror or error}"
        ) from None
    try:
        info = os.fstat(fd)
        reason = untrusted_reason(info)
        if reason is None and info.st_mode & 0o077:
            reason = f"others can read it (mode {stat.S_IMODE(info.st_mode):04o})"
        if not stat.S_ISREG(info.st_mode):
            reason = "it is not a regular file"
        if reason is not None:
            raise UntrustedStoreError(
                f"flowc's key file {str(path)!r} cannot be trusted: {reason}; remove it "
                "(entries it signed will then run again)"
            )
        data = os.read(fd, _KEY_SIZE + 1)
    finally:
        os.close(fd)
    if len(data) != _KEY_SIZE:
        raise UntrustedStoreError(
            f"flowc's key file {str(path)!r} is damaged; remove it (entries it signed will "
            "then run again)"
        )
    return data


def _create_key(path: Path) -> bytes:
    """Write a new secret without ever replacing one another process made meanwhile."""
    try:
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        make_private_directory(path.parent)
        reason = untrusted_reason(os.lstat(path.parent))
        if reason is not None:
            raise UntrustedStoreError(f"flowc's key folder {str(path.parent)!r}: {reason}")
        fd, temporary = tempfile.mkstemp(prefix=".entries.key.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(_KEY_SIZE))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)  # never replaces: the first process's key wins
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise UntrustedStoreError(
            f"cannot create flowc's key file {str(path)!r}: {error.strerror or error}"
        ) from error
    key = _read_key(path)
    if key is None:
        raise UntrustedStoreError(f"flowc's key file {str(path)!r} vanished while created")
    return key


# --------------------------------------------------------------------------- the format


def encode_entry(metadata: dict[str, Any], value: Any) -> bytes:
    """The bytes of an entry; ``pickle.PicklingError`` (or any error of the value's own
    reducers) when the value cannot be pickled."""
    payload = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    meta = json.dumps(metadata, sort_keys=True).encode()
    body = _LENGTH.pack(len(meta)) + meta + payload
    mac = hmac.new(secret_key(), MAGIC + body, hashlib.sha256).digest()
    return MAGIC + mac + body


def decode_metadata(data: bytes) -> dict[str, Any]:
    """The authenticated metadata of an entry; ``ValueError`` if it is not one of ours."""
    if len(data) < _HEADER + _LENGTH.size or not data.startswith(MAGIC):
        raise ValueError("not a flowc entry (or one written by an older flowc)")
    body = memoryview(data)[_HEADER:]
    expected = hmac.new(secret_key(), MAGIC + body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, data[len(MAGIC) : _HEADER]):
        raise ValueError(
            "its signature does not match: not written by you with this flowc home "
            "(or altered since)"
        )
    (size,) = _LENGTH.unpack_from(body)
    meta = json.loads(bytes(body[_LENGTH.size : _LENGTH.size + size]))
    if not isinstance(meta, dict):
        raise ValueError("its metadata is not an object")
    return meta


def decode_entry(data: bytes) -> tuple[dict[str, Any], Any]:
    """``(metadata, value)`` of an authenticated entry; ``ValueError`` if it is not one."""
    meta = decode_metadata(data)
    (size,) = _LENGTH.unpack_from(data, _HEADER)
    return meta, pickle.loads(memoryview(data)[_HEADER + _LENGTH.size + size :])


# --------------------------------------------------------------------------- files

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def read_entry_file(path: Path) -> bytes | None:
    """The bytes of the entry file at ``path``; None if there is none.

    ``OSError`` for anything else than a regular file of this user that nobody else can
    write: a symbolic link, a FIFO (opened without blocking, so it never hangs), a device.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "it is a symbolic link, not followed") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file")
        reason = untrusted_reason(info)
        if reason is not None:
            raise OSError(errno.EPERM, reason)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class EntryDirectory:
    """Entries named by 64-hex-digit keys, sharded by their first two digits.

    Sharding keeps every directory to a few thousand files on a flow of a million task runs.
    The directory itself is checked by whoever opens it (:func:`untrusted_reason`).
    """

    def __init__(self, root: Path, suffix: str = ".pkl") -> None:
        self.root = root
        self.suffix = suffix
        self._shards: set[str] = set()
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{self.suffix}"

    def read(self, key: str) -> bytes | None:
        """The entry's bytes, None if absent; ``OSError`` if it must not be read."""
        return read_entry_file(self.path(key))

    def write(self, key: str, data: bytes) -> None:
        """Write an entry all or nothing; ``OSError`` (with the reason) if it cannot be."""
        path = self.path(key)
        shard = path.parent
        if shard.name not in self._shards:
            make_private_directory(shard)
            reason = untrusted_reason(os.lstat(shard))
            if reason is not None:
                raise OSError(errno.EPERM, f"shard folder {str(shard)!r}: {reason}")
            with self._lock:
                self._shards.add(shard.name)
        write_atomic(path, data, mode=0o600, durable=True)

    def exists(self, key: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(self.path(key)).st_mode)
        except OSError:
            return False

    def remove(self, key: str) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass

    def names(self) -> list[str]:
        found = []
        for shard in _scan(self.root):
            if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                for entry in _scan(Path(shard.path)):
                    name = entry.name
                    if name.endswith(self.suffix) and not name.startswith("."):
                        found.append(name[: -len(self.suffix)])
        return found

    def remove_temporary_files(self) -> None:
        """Remove what writers killed mid-way left; best effort (the store may be read-only)."""
        for shard in _scan(self.root):
            if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                for entry in _scan(Path(shard.path)):
                    if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                        try:
                            os.unlink(entry.path)
                        except OSError:
                            pass


def _scan(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as items:
            return list(items)
    except OSError:
        return []
