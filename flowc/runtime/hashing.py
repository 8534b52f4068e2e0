"""Stable hashes of task sources and task inputs, equal in every process and every run.

Both stores key entries by hashes of what a task run was given: the checkpoint store
(``--checkpoint``) by its node, source and inputs with upstream results stood for by their
keys, the result store (cache policies) by Prefect's rules. A key is only useful if equal
inputs give an equal key in *another process*, where ``PYTHONHASHSEED`` differs: so ``hash()``
and set iteration order are never used. Containers (dicts, sets, lists, tuples) are hashed
structurally, with the digests of dict items and set members sorted; anything else is
cloudpickled and its pickle hashed, with classes named rather than pickled by value
(cloudpickle tags a class it pickles by value with a random id). An object pickled that way
hashes equal when it is built the same way; where it is not (say a set inside a custom
object), the cost is a miss, never a wrong hit.

:func:`hash_objects` is Prefect's recipe for cache keys: JSON first (pydantic models as their
serializers say, so a model holding an unpicklable field still hashes), then the structural
digest above.
"""

from __future__ import annotations

import collections
import hashlib
import inspect
import json
import pickle
import threading
import types
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cloudpickle

from flowc.runtime.inputs import replace_runs

if TYPE_CHECKING:
    from flowc.runtime.taskrun import TaskRun

__all__ = ["hash_objects", "inputs_hash", "task_source_hash"]


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


# --------------------------------------------------------------------------- Prefect's hash


def hash_objects(*args: Any, **kwargs: Any) -> str | None:
    """A hex digest of the arguments, or None when they cannot be hashed (as Prefect's).

    JSON with sorted keys first, so that values JSON can express hash the same however they
    were built; anything JSON refuses falls back to the structural digest.
    """
    try:
        text = json.dumps([list(args), kwargs], sort_keys=True, default=_json_default)
    except (TypeError, ValueError, RecursionError):
        pass
    else:
        return hashlib.sha256(b"json\0" + text.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        digest = _digest((args, kwargs), set())
    except (_NotHashable, RecursionError):
        return None
    return hashlib.sha256(b"digest\0" + digest).hexdigest()


def _json_default(value: Any) -> Any:
    """Pydantic models, dataclasses, dates, paths, UUIDs... as pydantic would write them."""
    if isinstance(value, (set, frozenset)):
        # JSON would keep their iteration order, which differs between processes.
        raise TypeError("sets are hashed structurally")
    if isinstance(value, BaseException):
        return {"__exc_type__": _qualified(type(value)), "message": str(value)}
    import pydantic_core

    try:
        data = pydantic_core.to_jsonable_python(value)
    except (pydantic_core.PydanticSerializationError, TypeError, ValueError) as error:
        raise TypeError(str(error)) from None
    return {"__class__": _qualified(type(value)), "data": data}


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"
