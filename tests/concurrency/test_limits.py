"""``flowc.concurrency.limits``: limits from ``pyproject.toml`` and from Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.concurrency import (
    ConcurrencyConfigError,
    Limit,
    delete_limit,
    get_limit,
    list_limits,
    set_limit,
)


def write_pyproject(directory: Path, body: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text("[project]\nname = 'x'\n\n[tool.flowc.concurrency]\n" + body)
    return path


def test_no_limits_anywhere() -> None:
    assert list_limits() == []
    assert get_limit("database") is None


def test_pyproject_numbers_and_tables(tmp_path: Path) -> None:
    write_pyproject(
        Path.cwd(),
        'database = 2\n"rate-limited-api" = { limit = 5, slot_decay_per_second = 1.5 }\n'
        "gpu = { limit = 1, active = false }\n",
    )
    assert list_limits() == [
        Limit("database", 2),
        Limit("gpu", 1, 0.0, active=False),
        Limit("rate-limited-api", 5, 1.5),
    ]


def test_pyproject_is_found_from_a_subdirectory(monkeypatch: pytest.MonkeyPatch) -> None:
    write_pyproject(Path.cwd(), "database = 3\n")
    nested = Path.cwd() / "src" / "pkg"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert get_limit("database") == Limit("database", 3)


def test_a_changed_pyproject_is_read_again() -> None:
    path = write_pyproject(Path.cwd(), "database = 3\n")
    assert get_limit("database") == Limit("database", 3)
    path.write_text("[tool.flowc.concurrency]\ndatabase = 4\n# longer, so the file changed\n")
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert get_limit("database") == Limit("database", 4)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("database = -1\n", "'database' needs a whole number of slots >= 0, got -1"),
        ('database = "two"\n', "'database' must be a number of slots or a table"),
        ("database = { limit = 2, decay = 1 }\n", "unknown key(s) decay"),
        ("database = { limit = 2, slot_decay_per_second = -1 }\n", "slot_decay_per_second >= 0"),
        ("database = [\n", "cannot read it"),
    ],
)
def test_bad_pyproject_names_the_file_and_the_limit(body: str, message: str) -> None:
    path = write_pyproject(Path.cwd(), body)
    with pytest.raises(ConcurrencyConfigError) as caught:
        list_limits()
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_set_limit_is_stored_under_flowc_home_and_wins_over_pyproject(isolated_home: Path) -> None:
    write_pyproject(Path.cwd(), "database = 2\n")
    assert set_limit("database", 7) == Limit("database", 7)
    assert (isolated_home / "concurrency" / "limits.json").is_file()
    assert get_limit("database") == Limit("database", 7)
    assert delete_limit("database") is True
    assert delete_limit("database") is False
    assert get_limit("database") == Limit("database", 2)


def test_set_limit_checks_its_values() -> None:
    with pytest.raises(ConcurrencyConfigError, match="whole number of slots"):
        set_limit("database", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ConcurrencyConfigError, match="slot_decay_per_second"):
        set_limit("database", 1, slot_decay_per_second=-2)
    assert list_limits() == []
