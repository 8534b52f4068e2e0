"""A lint cache entry that cannot be read is a miss: ignored, then rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from lint_labels import CORPUS

BAD = (CORPUS / "bad_one_branch.py").read_text()


@pytest.mark.parametrize(
    "garbage", [b"[]", b'{"findings": 3}', b"{not json", b'{"findings": [{"x": 1}]}', b"\xff\x00"]
)
def test_corrupt_entries_are_ignored_and_rebuilt(cli, tmp_path: Path, garbage: bytes) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.flowc.lint]\n")
    (tmp_path / "bad.py").write_text(BAD)
    first = cli("lint", str(tmp_path))
    entries = list((tmp_path / ".flowc_cache" / "lint").rglob("*.json"))
    assert first.exit_code == 1 and entries
    for entry in entries:
        entry.write_bytes(garbage)
    again = cli("lint", str(tmp_path))
    assert again.exit_code == 1 and again.stdout == first.stdout, again.output
    assert all(entry.read_bytes() != garbage for entry in entries)  # rebuilt
    assert cli("lint", str(tmp_path)).stdout == first.stdout
