"""The few Prefect settings flowc honours, read from the environment (``prefect.settings``).

Prefect reads its settings from profiles and its server; flowc has neither, so a setting here
is its ``PREFECT_*`` environment variable or flowc's default. ``PREFECT_HOME`` is flowc's own
home directory (``$FLOWC_HOME``, default ``~/.flowc``): documented flows that keep lock files
or results "under Prefect's home" keep them with flowc's other state.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowc.files import flowc_home

__all__ = [
    "PREFECT_HOME",
    "PREFECT_LOCAL_STORAGE_PATH",
    "PREFECT_RESULTS_LOCAL_STORAGE_PATH",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT",
    "PREFECT_TASKS_REFRESH_CACHE",
    "Setting",
]

_TRUE = {"1", "true", "yes", "on", "t", "y"}


class Setting:
    """One setting: ``.value()`` reads it now (the environment may change between runs)."""

    def __init__(self, name: str, default: Callable[[], Any], parse: Callable[[str], Any]) -> None:
        self.name = name
        self._default = default
        self._parse = parse

    def value(self) -> Any:
        raw = os.environ.get(self.name)
        if raw is None or raw == "":
            return self._default()
        return self._parse(raw)

    def __repr__(self) -> str:
        return f"Setting({self.name!r})"


def _flag(raw: str) -> bool:
    return raw.strip().lower() in _TRUE


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _storage_path() -> Path:
    return flowc_home() / "storage"


PREFECT_HOME = Setting("FLOWC_HOME", flowc_home, lambda _: flowc_home())
PREFECT_RESULTS_PERSIST_BY_DEFAULT = Setting(
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT", lambda: False, _flag
)
PREFECT_TASKS_REFRESH_CACHE = Setting("PREFECT_TASKS_REFRESH_CACHE", lambda: False, _flag)
PREFECT_RESULTS_LOCAL_STORAGE_PATH = Setting(
    "PREFECT_RESULTS_LOCAL_STORAGE_PATH", _storage_path, _path
)
PREFECT_LOCAL_STORAGE_PATH = PREFECT_RESULTS_LOCAL_STORAGE_PATH
