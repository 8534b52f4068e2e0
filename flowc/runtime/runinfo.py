"""Shared reading of run attributes for ``flowc.runtime.flow_run`` / ``task_run`` / ``deployment``.

Prefect's ``prefect.runtime`` modules answer attribute reads (``flow_run.name``) from the
current run, and let a test pretend to be in a run by setting
``PREFECT__RUNTIME__<MODULE>__<NAME>``; the override is cast to the type of the real value.
The three modules differ only in their fields, so the lookup and the override live here once.
The fields read the current run through :mod:`flowc.runtime.context` only, so they answer the
same wherever the run's context is set (the flow body, a worker thread, a worker process).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from typing import Any

__all__ = ["FieldReader", "to_utc"]


def _parse_datetime(text: str) -> datetime.datetime:
    return to_utc(datetime.datetime.fromisoformat(text))


def to_utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


#: how an override (always a string) becomes the type the real attribute has.
_CASTS: dict[type, Callable[[str], Any]] = {
    bool: lambda text: text.lower() == "true",
    int: int,
    float: float,
    str: str,
    type(None): str,
    datetime.datetime: _parse_datetime,
}


class FieldReader:
    """The module ``__getattr__`` of one ``runtime`` module: fields plus env overrides."""

    def __init__(self, module: str, prefix: str, fields: dict[str, Callable[[], Any]]) -> None:
        self.module = module
        self.prefix = prefix
        self.fields = fields

    def __call__(self, name: str) -> Any:
        env_key = f"{self.prefix}{name.upper()}"
        read = self.fields.get(name)
        if read is None:
            if env_key in os.environ:
                return os.environ[env_key]
            raise AttributeError(f"module {self.module!r} has no attribute {name!r}")
        value = read()
        if env_key not in os.environ:
            return value
        cast = _CASTS.get(type(value))
        if cast is None:
            raise ValueError(
                f"{self.module}.{name} cannot be overridden with the environment variable "
                f"{env_key} (its value is a {type(value).__name__}); patch the attribute instead"
            )
        return cast(os.environ[env_key])

    def names(self) -> list[str]:
        return sorted(self.fields)
