"""``[tool.flowc.lint]`` in ``pyproject.toml``: select, ignore, exclude, per-file-ignores."""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass
from pathlib import Path

from flowc.exceptions import FlowcError

__all__ = ["ConfigError", "Settings", "find_settings", "matches"]

_KEYS = {"select", "ignore", "exclude", "per-file-ignores"}


class ConfigError(FlowcError, ValueError):
    """A broken ``[tool.flowc.lint]`` table: names the file and the key."""


@dataclass(frozen=True)
class Settings:
    root: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def key(self) -> str:
        return repr((self.select, self.ignore, self.per_file_ignores))


def _load_toml(path: Path) -> dict[str, object]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 needs the tomli backport
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None


def _codes(path: Path, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.flowc.lint] {key} must be a list of strings")
    return tuple(value)


_CACHE: dict[tuple[Path, int, int], Settings] = {}


def find_settings(start: Path) -> Settings:
    """The settings of the nearest ``pyproject.toml`` with a ``[tool.flowc.lint]`` table."""
    here = start.resolve()
    here = here if here.is_dir() else here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        try:
            st = candidate.stat()
        except OSError:
            continue
        key = (candidate, st.st_mtime_ns, st.st_size)
        if key in _CACHE:
            return _CACHE[key]
        if candidate.is_file():
            data = _load_toml(candidate)
            table = data.get("tool", {}).get("flowc", {}).get("lint")  # type: ignore[attr-defined]
            if table is None:
                continue
            settings = _parse(candidate, table)
            _CACHE[key] = settings
            return settings
    return Settings()


def _parse(path: Path, table: object) -> Settings:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.flowc.lint] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} in [tool.flowc.lint] "
            f"(known: {', '.join(sorted(_KEYS))})"
        )
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: [tool.flowc.lint] per-file-ignores must be a table")
    return Settings(
        root=path.parent,
        select=_codes(path, "select", table.get("select", [])),
        ignore=_codes(path, "ignore", table.get("ignore", [])),
        exclude=_codes(path, "exclude", table.get("exclude", [])),
        per_file_ignores=tuple(
            (pattern, _codes(path, f"per-file-ignores.{pattern!r}", codes))
            for pattern, codes in pfi.items()
        ),
    )


def matches(path: Path, pattern: str, root: Path | None) -> bool:
    """``pattern`` (a glob) matches the file's name, or its path relative to ``root``."""
    try:
        rel = path.resolve().relative_to(root).as_posix() if root else path.as_posix()
    except ValueError:
        rel = path.as_posix()
    return (
        fnmatch.fnmatch(path.name, pattern)
        or fnmatch.fnmatch(rel, pattern)
        or any(fnmatch.fnmatch(part, pattern) for part in Path(rel).parts[:-1])
    )
