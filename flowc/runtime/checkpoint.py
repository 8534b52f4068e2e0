"""The checkpoint store behind ``flowc run --checkpoint DIR`` and ``--resume DIR``.

A run with ``--checkpoint`` stores every completed task run's result; a later run with
``--resume`` on the same directory finds those results and does not run those task runs again.
The run may have been killed at any instant, SIGKILL included, so everything here is written
to survive being interrupted between any two system calls.

Layout::

    DIR/flowc-checkpoint.json      {"schema": "flowc.checkpoint/1", "flow": ..., "created": ...}
    DIR/<key[:2]>/<key>.pkl        one entry: header + cloudpickled result

Entries are sharded by the first two hex digits of their key so that no directory grows past
a few thousand files on a flow of a million task runs (directory lookups stay fast on every
filesystem). An entry file is ``MAGIC + sha256(payload) + payload``: a reader can tell a
damaged file (a disk error, a hand edit) from a result before unpickling anything from it.

Why entries are atomic: an entry is written to a temporary file in its own shard directory,
flushed and fsynced, then moved into place with ``os.replace``, which is atomic on POSIX and
Windows. A reader therefore sees either no entry or a whole one; a process killed mid-write
leaves at most a ``.<key>.*.tmp`` file, which :meth:`CheckpointStore.open` removes. The file
is fsynced *before* the rename so that after a power loss the entry is whole or absent, never
a renamed empty file. (The directory is not fsynced per entry: an entry lost to a power cut is
only a miss, and the task runs again.) One run at a time per directory: ``open`` removes every
temporary file it finds, including one a concurrent run is writing, whose ``put`` then fails
with a warning.

Why keys form a Merkle chain: a task run's key (:meth:`CheckpointStore.key`) hashes its node
id in the flow, its task's source (:func:`task_source_hash`) and its inputs (:func:`inputs_hash`),
where each upstream result among the inputs is stood for by *that upstream's key*, not by its
value. Large results are never hashed, results that live on a Dask or Ray cluster need not be
fetched, and a change anywhere upstream changes every key downstream of it.

What invalidates an entry: a change to the task's own source, to a constant input, or to any
upstream's key (hence to anything upstream). Not tracked: helper functions the task calls,
global state it reads, values captured in closures, files it opens. A directory written for
another flow is refused outright, as is a non-empty directory that is not a checkpoint at all:
the store never mixes its files into someone else's directory. Results are unpickled, which
can run code, so a created directory is private to its owner (mode ``0o700``).

Hashing inputs must give equal keys for equal inputs in *another process*, where
``PYTHONHASHSEED`` differs: so ``hash()`` and set iteration order are never used. Containers
(dicts, sets, lists, tuples) are hashed structurally, with the digests of dict items and set
members sorted; anything else is cloudpickled and its pickle hashed, with classes named rather
than pickled by value (cloudpickle tags a class it pickles by value with a random id). An
object pickled that way hashes equal when it is built the same way; where it is not (say a set
inside a custom object), the cost is a miss, never a wrong hit.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import inspect
import json
import logging
import os
import pickle
import re
import tempfile
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.exceptions import FlowcError
from flowc.runtime.inputs import replace_runs

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "MANIFEST_NAME",
    "SCHEMA",
    "CheckpointError",
    "CheckpointStore",
    "inputs_hash",
    "task_source_hash",
]

SCHEMA = "flowc.checkpoint/1"
MANIFEST_NAME = "flowc-checkpoint.json"

logger = logging.getLogger("flowc.runtime")

_MAGIC = b"FLOWCKP1"
_HEADER = len(_MAGIC) + hashlib.sha256().digest_size
_KEY = re.compile(r"[0-9a-f]{64}\Z")
_ENTRY = re.compile(r"[0-9a-f]{64}\.pkl\Z")
_SHARD = re.compile(r"[0-9a-f]{2}\Z")
_MANIFEST_TEMP_PREFIX = f".{MANIFEST_NAME}."
_TEMP_SUFFIX = ".tmp"


class CheckpointError(FlowcError):
    """A checkpoint directory cannot be used; the message names it and says why."""


class CheckpointStore:
    """Task-run results of one flow, kept in one directory, keyed by :meth:`key`.

    Made by :meth:`open` only, which checks that the directory belongs to the flow.
    """

    def __init__(self, directory: Path, flow: str, *, _token: object = None) -> None:
        if _token is not _OPEN_TOKEN:
            raise TypeError("use CheckpointStore.open(directory, flow, create=...)")
        self._directory = directory
        self._flow = flow
        self._shards: set[str] = set()
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
        path = Path(os.path.abspath(shown))
        if create:
            _prepare_for_writing(path, shown, flow)
        else:
            _check_for_resume(path, shown, flow)
        _remove_temporary_files(path)
        return cls(path, flow, _token=_OPEN_TOKEN)

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def flow(self) -> str:
        return self._flow

    # ----------------------------------------------------------------- keys

    def key(self, node_id: str, task_source: str, inputs: str) -> str:
        """The key of one task run; each part is length-prefixed, so no two splits collide."""
        digest = hashlib.sha256(SCHEMA.encode())
        for part in (node_id, task_source, inputs):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(b"%d:" % len(data))
            digest.update(data)
        return digest.hexdigest()

    # ----------------------------------------------------------------- entries

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a stored entry, else ``(False, None)``.

        A damaged or unreadable entry is a miss (the task simply runs again), reported once:
        a checkpoint must never be the reason a run fails.
        """
        path = self._entry_path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False, None
        except OSError as error:
            self._warn_once(f"read:{key}", "checkpoint entry %s cannot be read (%s)", path, error)
            return False, None
        try:
            return True, _load(data)
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
        path = self._entry_path(key)
        about = f"task {task!r}" if task is not None else f"checkpoint entry {key[:12]}"
        try:
            payload = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
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
            self._write_entry(path, payload)
        except OSError as error:
            self._warn_once(
                f"write:{task or key}",
                "%s: result not checkpointed, writing to %s failed (%s)",
                about,
                self._directory,
                error,
            )
            return False
        return True

    def __contains__(self, key: object) -> bool:
        """Whether an entry file exists; :meth:`get` still decides whether it is usable."""
        if not isinstance(key, str) or not _KEY.match(key):
            return False
        return self._entry_path(key).is_file()

    def __len__(self) -> int:
        return sum(1 for _ in self._entry_files())

    def __repr__(self) -> str:
        return f"<CheckpointStore {str(self._directory)!r} flow={self._flow!r}>"

    # ----------------------------------------------------------------- internals

    def _entry_path(self, key: str) -> Path:
        # Keys become file names: a malformed one is an engine bug, and must not escape DIR.
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"not a checkpoint key: {key!r}")
        return self._directory / key[:2] / f"{key}.pkl"

    def _write_entry(self, path: Path, payload: bytes) -> None:
        shard = path.parent
        if shard.name not in self._shards:
            _make_private_directory(shard)
            with self._lock:
                self._shards.add(shard.name)
        header = _MAGIC + hashlib.sha256(payload).digest()
        _write_atomically(path, header, payload)

    def _entry_files(self) -> Iterator[str]:
        for shard in _scan(self._directory):
            if _SHARD.match(shard.name) and shard.is_dir(follow_symlinks=False):
                yield from (e.name for e in _scan(Path(shard.path)) if _ENTRY.match(e.name))

    def _warn_once(self, token: str, message: str, *args: Any) -> None:
        with self._lock:
            if token in self._warned:
                return
            self._warned.add(token)
        logger.warning(message, *args)


_OPEN_TOKEN = object()


# --------------------------------------------------------------------------- directory checks


def _prepare_for_writing(path: Path, shown: str, flow: str) -> None:
    """Make ``path`` a checkpoint of ``flow``, or find it already is one; refuse anything else."""
    created = _make_checkpoint_directory(path, shown)
    manifest = path / MANIFEST_NAME
    if not created:
        if manifest.exists():
            _check_manifest(_read_manifest(path, shown), shown, flow)
            _require_writable(path, shown)
            return
        _require_empty(path, shown)
    document = {
        "schema": SCHEMA,
        "flow": flow,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    data = (json.dumps(document, indent=2) + "\n").encode()
    try:
        _write_atomically(manifest, data)
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
        return _make_private_directory(path)
    except OSError as error:
        raise CheckpointError(
            f"cannot create checkpoint directory {shown!r}: {_reason(error)}"
        ) from error


def _make_private_directory(path: Path) -> bool:
    """``mkdir`` with mode 0o700 whatever the umask; False if the directory already existed."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not path.is_dir():
            raise
        return False
    os.chmod(path, 0o700)  # the umask may have taken bits away (even the owner's)
    return True


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


def _check_for_resume(path: Path, shown: str, flow: str) -> None:
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
    _check_manifest(_read_manifest(path, shown), shown, flow)


def _read_manifest(path: Path, shown: str) -> dict[str, Any]:
    manifest = path / MANIFEST_NAME
    where = os.path.join(shown, MANIFEST_NAME)
    try:
        text = manifest.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CheckpointError(
            f"cannot resume: {shown!r} holds no flowc checkpoint ({MANIFEST_NAME} is missing)"
        ) from None
    except PermissionError as error:
        raise CheckpointError(
            f"cannot read checkpoint manifest {where!r}: permission denied"
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(f"cannot read checkpoint manifest {where!r}: {error}") from error
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


def _remove_temporary_files(path: Path) -> None:
    """Remove what writes killed mid-way left behind; best effort (resume may be read-only)."""
    for item in _scan(path):
        if _is_manifest_temp(item.name):
            _unlink_quietly(item.path)
        elif _SHARD.match(item.name) and item.is_dir(follow_symlinks=False):
            for entry in _scan(Path(item.path)):
                if entry.name.startswith(".") and entry.name.endswith(_TEMP_SUFFIX):
                    _unlink_quietly(entry.path)


def _is_manifest_temp(name: str) -> bool:
    return name.startswith(_MANIFEST_TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX)


def _scan(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as items:
            return list(items)
    except OSError:
        return []


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


def _write_atomically(path: Path, *chunks: bytes) -> None:
    """Write a file so that no reader, and no crash, ever sees it partly written.

    The temporary file sits in the target's directory: ``os.replace`` is atomic only within
    one filesystem.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        _unlink_quietly(temporary)
        raise


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


def _load(data: bytes) -> Any:
    if len(data) < _HEADER or not data.startswith(_MAGIC):
        raise ValueError("not a flowc checkpoint entry")
    payload = memoryview(data)[_HEADER:]
    if hashlib.sha256(payload).digest() != data[len(_MAGIC) : _HEADER]:
        raise ValueError("checksum mismatch")
    return pickle.loads(payload)


# --------------------------------------------------------------------------- task source


_source_lock = threading.Lock()
_source_by_function: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
#: callables that take no weak reference: kept alive with their hash (tasks live as long anyway).
_source_by_id: dict[int, tuple[Any, str]] = {}


def task_source_hash(fn: Callable[..., Any]) -> str:
    """The sha256 of a task function's source, so that editing the task invalidates its entries.

    Source is read once per function object: reading it goes through ``linecache`` and the
    file system, and a map over 100 000 items asks 100 000 times.
    """
    with _source_lock:
        try:
            cached = _source_by_function.get(fn)
        except TypeError:
            entry = _source_by_id.get(id(fn))
            cached = entry[1] if entry is not None and entry[0] is fn else None
    if cached is not None:
        return cached
    digest = _compute_source_hash(fn)
    with _source_lock:
        try:
            _source_by_function[fn] = digest
        except TypeError:
            _source_by_id[id(fn)] = (fn, digest)
    return digest


def _compute_source_hash(fn: Callable[..., Any]) -> str:
    target = inspect.unwrap(fn)
    try:
        source = inspect.getsource(target)
    except (OSError, TypeError):
        pass
    else:
        return hashlib.sha256(b"source\0" + source.encode("utf-8", "surrogatepass")).hexdigest()
    # No source file (exec, a REPL, a frozen app): the compiled code is the next best thing.
    code = getattr(target, "__code__", None)
    if code is None:
        call = type(target).__call__ if callable(target) else None
        code = getattr(call, "__code__", None)
    if isinstance(code, types.CodeType):
        return hashlib.sha256(b"code\0" + _code_digest(code)).hexdigest()
    name = f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', type(target))}"
    return hashlib.sha256(b"name\0" + name.encode()).hexdigest()


def _code_digest(code: types.CodeType) -> bytes:
    """Bytecode, constants (nested functions' code included) and names; not line numbers."""
    digest = hashlib.sha256(code.co_code)
    for names in (code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        digest.update(b"%d:" % len(names) + "\0".join(names).encode() + b"\0")
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            digest.update(b"C" + _code_digest(const))
        else:
            digest.update(b"K" + _digest(const, set()))
    return digest.digest()


# --------------------------------------------------------------------------- inputs


class _Upstream:
    """Stands for an upstream result in the inputs: its key, never its value."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


class _NotHashable(Exception):
    """The inputs have no stable hash (no upstream key, unpicklable, cyclic)."""


def inputs_hash(
    parameters: dict[str, Any], upstream_key: Callable[[TaskRun], str | None]
) -> str | None:
    """The sha256 of a task run's inputs, each upstream stood for by ``upstream_key(run)``.

    None when some upstream has no key, or the inputs cannot be pickled: that run is then
    simply not checkpointed.
    """

    def marker(run: TaskRun) -> _Upstream:
        key = upstream_key(run)
        if key is None:
            raise _NotHashable("an upstream has no checkpoint key")
        return _Upstream(key)

    try:
        replaced = replace_runs(parameters, marker)
        digest = _digest(replaced, set())
    except (_NotHashable, RecursionError):
        return None
    return hashlib.sha256(b"flowc.inputs/1\0" + digest).hexdigest()


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def _hex_float(value: float) -> bytes:
    return value.hex().encode()


#: Values hashed by content directly: the common case, and the cheapest.
_ATOMS: dict[type, Callable[[Any], bytes]] = {
    type(None): lambda _: b"n\0",
    bool: lambda v: b"b\0" + (b"1" if v else b"0"),
    int: lambda v: b"i\0" + hex(v).encode(),  # hex: str() refuses ints over 4300 digits
    float: lambda v: b"f\0" + _hex_float(v),
    complex: lambda v: b"c\0" + _hex_float(v.real) + b"," + _hex_float(v.imag),
    str: lambda v: b"s\0" + v.encode("utf-8", "surrogatepass"),
    bytes: lambda v: b"y\0" + v,
}


def _digest(value: Any, active: set[int]) -> bytes:
    """A Merkle digest: containers hash their members' digests (sorted where unordered).

    Every node's hashed text starts with a tag and a NUL, and members are fixed-size digests,
    so no two different trees hash the same text.
    """
    kind = type(value)
    atom = _ATOMS.get(kind)
    if atom is not None:
        return _sha(atom(value))
    if kind is _Upstream:
        return _sha(b"U\0", value.key.encode())
    if kind not in _CONTAINERS and not _is_named_tuple(value):
        return _opaque_digest(value)
    if id(value) in active:
        raise _NotHashable("the inputs contain a cycle")
    active.add(id(value))
    try:
        return _container_digest(value, active)
    finally:
        active.discard(id(value))


_CONTAINERS = frozenset({list, tuple, set, frozenset, dict, collections.OrderedDict})


def _is_named_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _container_digest(value: Any, active: set[int]) -> bytes:
    kind = type(value)
    if kind is dict:
        # Equal dicts are equal whatever their insertion order: so are their hashes.
        pairs = (_sha(b"p\0", _digest(k, active), _digest(v, active)) for k, v in value.items())
        return _sha(b"dict\0", *sorted(pairs))
    if kind is collections.OrderedDict:
        pairs = (_sha(b"p\0", _digest(k, active), _digest(v, active)) for k, v in value.items())
        return _sha(b"odict\0", *pairs)
    members = [_digest(item, active) for item in value]
    if kind is set or kind is frozenset:
        return _sha(kind.__name__.encode(), b"\0", *sorted(members))
    if kind is list or kind is tuple:
        return _sha(kind.__name__.encode(), b"\0", *members)
    name = f"{kind.__module__}.{kind.__qualname__}"
    return _sha(b"namedtuple:", name.encode(), b"\0", *members)


class _HashSink:
    """A file that hashes what is written to it: large inputs are never held pickled."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256(b"pickle\0")

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)


def _type_named(module: str, qualname: str) -> None:
    """Stands for a class in a pickle made only to be hashed (never loaded)."""


class _HashPickler(cloudpickle.CloudPickler):
    """Pickles classes by name: cloudpickle tags a class pickled by value with a random id,
    which would make the same input hash differently in every process."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type):
            return _type_named, (obj.__module__, obj.__qualname__)
        return super().reducer_override(obj)


def _opaque_digest(value: Any) -> bytes:
    sink = _HashSink()
    try:
        _HashPickler(sink, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception as error:
        raise _NotHashable(f"the inputs cannot be pickled: {error}") from error
    return sink.digest.digest()
