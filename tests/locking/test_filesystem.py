"""File locks: one holder at a time, across processes, released or expired."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from flowc.locking.filesystem import FileSystemLockManager


def test_one_holder_at_a_time(tmp_path):
    locks = FileSystemLockManager(tmp_path / "locks")
    assert locks.acquire_lock("k", "a")
    assert locks.is_locked("k") and locks.is_lock_holder("k", "a")
    assert not locks.acquire_lock("k", "b", acquire_timeout=0.2)
    assert locks.acquire_lock("k", "a")  # the holder again
    locks.release_lock("k", "a")
    assert not locks.is_locked("k") and locks.acquire_lock("k", "b")


def test_an_expired_lock_is_free(tmp_path):
    locks = FileSystemLockManager(tmp_path / "locks")
    assert locks.acquire_lock("k", "a", hold_timeout=-1)
    assert not locks.is_locked("k")
    assert locks.acquire_lock("k", "b")


def test_keys_that_are_not_file_names_stay_inside_the_directory(tmp_path):
    locks = FileSystemLockManager(tmp_path / "locks")
    assert locks.acquire_lock("../../escape/key", "a")
    assert [p.parent for p in (tmp_path / "locks").glob("*.lock")] == [tmp_path / "locks"]
    assert not (tmp_path / "escape").exists()


def test_releasing_a_lock_held_by_another_is_refused(tmp_path):
    import pytest

    locks = FileSystemLockManager(tmp_path / "locks")
    locks.acquire_lock("k", "a")
    with pytest.raises(ValueError, match="No lock held by b"):
        locks.release_lock("k", "b")


_HOLDER = """
import sys
from flowc.locking.filesystem import FileSystemLockManager

locks = FileSystemLockManager(sys.argv[1])
assert locks.acquire_lock("shared", "child")
print("held", flush=True)
sys.stdin.readline()
locks.release_lock("shared", "child")
"""


def test_a_lock_is_seen_by_other_processes(tmp_path):
    script = tmp_path / "holder.py"
    script.write_text(textwrap.dedent(_HOLDER))
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "locks")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        locks = FileSystemLockManager(tmp_path / "locks")
        assert locks.is_locked("shared") and not locks.is_lock_holder("shared", "parent")
        assert not locks.acquire_lock("shared", "parent", acquire_timeout=0.2)
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.flush()
        assert locks.acquire_lock("shared", "parent", acquire_timeout=300)
    finally:
        child.communicate(timeout=300)
