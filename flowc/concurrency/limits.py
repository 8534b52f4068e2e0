"""Which named concurrency limits exist: ``[tool.flowc.concurrency]`` and a Python API.

Prefect keeps global concurrency limits on its server (``prefect gcl create``); flowc keeps
them locally. A project declares them in its ``pyproject.toml`` (the first one found from the
working directory upwards)::

    [tool.flowc.concurrency]
    database = 2                                                 # 2 slots held at once
    rate-limited-api = { limit = 5, slot_decay_per_second = 1 }  # rate limit: 1 slot/s back
    gpu = { limit = 1, active = false }                          # declared, not enforced

and code may set them with :func:`set_limit` (stored under ``FLOWC_HOME``, so every flow run
and worker process of the machine sees them; a limit set this way wins over the file's).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from flowc.exceptions import FlowcError
from flowc.filelock import locked
from flowc.files import flowc_home, write_atomic

__all__ = [
    "ConcurrencyConfigError",
    "Limit",
    "configured_limits",
    "delete_limit",
    "get_limit",
    "list_limits",
    "set_limit",
    "store_dir",
]


class ConcurrencyConfigError(FlowcError, ValueError):
    """A concurrency limit is declared with a value flowc cannot use."""


@dataclasses.dataclass(frozen=True)
class Limit:
    """A named limit: at most ``limit`` slots held at once; decaying ones are rate limits."""

    name: str
    limit: int
    slot_decay_per_second: float = 0.0
    active: bool = True

    def __post_init__(self) -> None:
        _check(self, "set_limit")


def _check(limit: Limit, where: str) -> None:
    if not isinstance(limit.limit, int) or isinstance(limit.limit, bool) or limit.limit < 0:
        raise ConcurrencyConfigError(
            f"{where}: concurrency limit {limit.name!r} needs a whole number of slots >= 0, "
            f"got {limit.limit!r}"
        )
    decay = limit.slot_decay_per_second
    if (
        isinstance(decay, bool)
        or not isinstance(decay, (int, float))
        or decay < 0
        or (not math.isfinite(decay))
    ):
        raise ConcurrencyConfigError(
            f"{where}: concurrency limit {limit.name!r} needs slot_decay_per_second >= 0, "
            f"got {decay!r}"
        )


def store_dir() -> Path:
    """Where the limits set from Python and the slots held live (under ``FLOWC_HOME``)."""
    return flowc_home() / "concurrency"


def _limits_file() -> Path:
    return store_dir() / "limits.json"


# --------------------------------------------------------------------------- pyproject.toml


def _pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


_parsed: dict[Path, tuple[float, dict[str, Limit]]] = {}


def _project_limits() -> dict[str, Limit]:
    path = _pyproject(Path(os.getcwd()))
    if path is None:
        return {}
    mtime = path.stat().st_mtime
    cached = _parsed.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    limits = _parse_pyproject(path)
    _parsed[path] = (mtime, limits)
    return limits


def _parse_pyproject(path: Path) -> dict[str, Limit]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConcurrencyConfigError(f"{path}: cannot read it: {exc}") from None
    table = document.get("tool", {}).get("flowc", {}).get("concurrency", {})
    where = f"{path}: [tool.flowc.concurrency]"
    if not isinstance(table, dict):
        raise ConcurrencyConfigError(f"{where} must be a table of limits")
    limits = {}
    for name, value in table.items():
        limits[name] = _limit_from_toml(name, value, where)
    return limits


def _limit_from_toml(name: str, value: Any, where: str) -> Limit:
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"limit": value}
    if not isinstance(value, dict) or "limit" not in value:
        raise ConcurrencyConfigError(
            f"{where}: {name!r} must be a number of slots or a table with 'limit' "
            f"(and optionally 'slot_decay_per_second', 'active'), got {value!r}"
        )
    unknown = sorted(set(value) - {"limit", "slot_decay_per_second", "active"})
    if unknown:
        raise ConcurrencyConfigError(
            f"{where}: {name!r} has unknown key(s) {', '.join(unknown)}; "
            "use limit, slot_decay_per_second, active"
        )
    limit = object.__new__(Limit)
    for field, default in (("slot_decay_per_second", 0.0), ("active", True)):
        object.__setattr__(limit, field, value.get(field, default))
    object.__setattr__(limit, "name", name)
    object.__setattr__(limit, "limit", value["limit"])
    _check(limit, f"{where}: {name!r}")
    return limit


# --------------------------------------------------------------------------- Python API


def _stored_limits() -> dict[str, Limit]:
    try:
        raw = json.loads(_limits_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConcurrencyConfigError(f"{_limits_file()}: cannot read it: {exc}") from None
    return {name: Limit(name=name, **fields) for name, fields in raw.items()}


def _save(limits: dict[str, Limit]) -> None:
    payload = {
        name: {
            "limit": limit.limit,
            "slot_decay_per_second": limit.slot_decay_per_second,
            "active": limit.active,
        }
        for name, limit in sorted(limits.items())
    }
    write_atomic(_limits_file(), json.dumps(payload, indent=2) + "\n")


def set_limit(
    name: str, limit: int, slot_decay_per_second: float = 0.0, active: bool = True
) -> Limit:
    """Create or replace the limit ``name`` for every flow run of this machine (``FLOWC_HOME``)."""
    created = Limit(name, limit, float(slot_decay_per_second), active)
    with locked(store_dir() / "limits.lock"):
        limits = _stored_limits()
        limits[name] = created
        _save(limits)
    return created


def delete_limit(name: str) -> bool:
    """Remove a limit set with :func:`set_limit`; False if there was none."""
    with locked(store_dir() / "limits.lock"):
        limits = _stored_limits()
        if limits.pop(name, None) is None:
            return False
        _save(limits)
    return True


def configured_limits() -> dict[str, Limit]:
    """Every limit by name: the project's ``pyproject.toml`` ones, then those set from Python."""
    return {**_project_limits(), **_stored_limits()}


def get_limit(name: str) -> Limit | None:
    return configured_limits().get(name)


def list_limits() -> list[Limit]:
    return sorted(configured_limits().values(), key=lambda limit: limit.name)
