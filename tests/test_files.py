"""``flowc.files``: one atomic write, whole or streamed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.files import open_atomic, write_atomic


def test_a_streamed_write_replaces_the_file_only_when_it_ends(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    with open_atomic(target) as handle:
        handle.write(b"new, ")
        assert target.read_text() == "old"  # nothing shows until the block ends
        handle.write(b"in parts")
    assert target.read_text() == "new, in parts"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_failed_streamed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), open_atomic(target) as handle:
        handle.write(b"half")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640
