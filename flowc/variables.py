"""``prefect.variables``: named JSON values shared by flow runs, stored on this machine.

Prefect keeps variables on its server; flowc keeps them in one JSON file under ``FLOWC_HOME``
(``variables.json``). Every change is a read-modify-write under a file lock and is written
atomically, so concurrent flow runs, threads and worker processes never lose an update or see
a half-written file. ``Variable.get/set/unset`` return coroutines when called from an async
flow or task, as Prefect's do; ``aget/aset/aunset`` are always async.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from pathlib import Path
from typing import Any, Generic, TypeVar

from flowc.filelock import locked
from flowc.files import flowc_home, write_atomic
from flowc.runtime.asyncdispatch import sync_or_async

__all__ = ["MAX_VARIABLE_NAME_LENGTH", "Variable", "variables_file"]

MAX_VARIABLE_NAME_LENGTH = 255
_NAME = re.compile(r"^[a-z0-9_-]+$")

T = TypeVar("T")


def variables_file() -> Path:
    return flowc_home() / "variables.json"


def _lock_file() -> Path:
    return flowc_home() / "variables.lock"


def _read() -> dict[str, Any]:
    path = variables_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not a flowc variables file ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a flowc variables file (expected a JSON object)")
    return data


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"Variable name must only contain lowercase letters, numbers, and dashes or "
            f"underscores (got {name!r})"
        )
    if len(name) > MAX_VARIABLE_NAME_LENGTH:
        raise ValueError(
            f"Variable name is {len(name)} characters long; the most is {MAX_VARIABLE_NAME_LENGTH}"
        )


def _check_value(name: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Variable {name!r}: its value must be JSON (str, int, float, bool, None, or "
            f"lists and dicts of them): {exc}"
        ) from None


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _save(stored: dict[str, Any]) -> None:
    write_atomic(variables_file(), json.dumps(stored, indent=2, sort_keys=True) + "\n")


def _set(
    name: str, value: Any, tags: list[str] | None = None, overwrite: bool = False
) -> Variable[Any]:
    _check_name(name)
    _check_value(name, value)
    tags = list(tags or [])
    with locked(_lock_file()):
        stored = _read()
        entry = stored.get(name)
        if entry is not None and not overwrite:
            raise ValueError(
                f"Variable {name!r} already exists. Use `overwrite=True` to update it."
            )
        now = _now()
        created = entry.get("created", now) if entry else now
        stored[name] = {"value": value, "tags": tags, "created": created, "updated": now}
        _save(stored)
    return Variable(name=name, value=value, tags=tags)


def _get(name: str, default: Any = None) -> Any:
    entry = _read().get(name)
    return entry["value"] if entry is not None else default


def _unset(name: str) -> bool:
    with locked(_lock_file()):
        stored = _read()
        if stored.pop(name, None) is None:
            return False
        _save(stored)
    return True


_set_dispatch = sync_or_async(_set)
_get_dispatch = sync_or_async(_get)
_unset_dispatch = sync_or_async(_unset)


@dataclasses.dataclass
class Variable(Generic[T]):
    """A variable as :meth:`set` returns it: its name, value and tags.

    ``Variable.set(name, value, tags=None, overwrite=False)`` stores a value (an existing name
    needs ``overwrite=True``, else ValueError, as in Prefect); ``Variable.get(name,
    default=None)`` reads it back, or ``default``; ``Variable.unset(name)`` deletes it and
    says whether it existed. ``Variable[str].get(...)`` works as in Prefect (typing only).
    """

    name: str
    value: Any
    tags: list[str] | None = None

    set = _set_dispatch
    get = _get_dispatch
    unset = _unset_dispatch
    aset = _set_dispatch.aio
    aget = _get_dispatch.aio
    aunset = _unset_dispatch.aio
