"""Which paths ``flowc lint`` reads, and what it says about those it cannot read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lint_labels import CORPUS

from flowc.reading import MAX_SOURCE_BYTES

BAD = (CORPUS / "bad_one_branch.py").read_text()


def test_a_missing_path_is_an_error_not_a_pass(cli, tmp_path: Path) -> None:
    missing = tmp_path / "nosuch.py"
    text = cli("lint", "--no-cache", str(missing))
    assert text.exit_code == 1
    assert text.stdout == f"{missing}:1:1: E902 no such file or directory\nFound 1 error.\n"
    as_json = cli("lint", "--no-cache", "--format", "json", str(missing))
    assert as_json.exit_code == 1
    (item,) = json.loads(as_json.stdout)
    assert item["code"] == "E902" and item["filename"] == str(missing)
    assert cli("lint", "--no-cache", "--select", "FC002", str(missing)).exit_code == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_device_and_huge_files_are_refused_without_reading(cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)  # opening it would block until a writer comes: never opened
    zero = tmp_path / "zero.py"
    zero.symlink_to("/dev/zero")  # reading it never ends
    huge = tmp_path / "huge.py"
    huge.write_bytes(b"x = 1\n" * (MAX_SOURCE_BYTES // 6 + 1))
    (tmp_path / "bad.py").write_text(BAD)
    result = cli("lint", "--no-cache", str(tmp_path))
    assert result.exit_code == 1
    out = result.stdout
    assert f"{fifo}:1:1: E902 is a FIFO (named pipe), not a regular file" in out
    assert f"{zero}:1:1: E902 is a device, not a regular file" in out
    assert f"{huge}:1:1: E902 is larger than {MAX_SOURCE_BYTES:,} bytes" in out
    assert "bad.py:18:11: FC001" in out  # the others are still linted
    named = cli("lint", "--no-cache", str(fifo))
    assert named.exit_code == 1 and "E902 is a FIFO" in named.stdout


def test_generator_with_a_condition_on_state_does_not_resolve_every_future(
    cli, tmp_path: Path
) -> None:
    """Only the futures that pass the test are resolved: the others may still be pending."""
    file = tmp_path / "partial.py"
    file.write_text(
        "from prefect import flow, task\n\n\n@task\ndef sq(x):\n    return x * x\n\n\n"
        "@flow\ndef f():\n    futs = sq.map(range(4))\n"
        "    return sum(f.result() for f in futs if f.state.is_completed())\n"
    )
    result = cli("lint", "--no-cache", str(file))
    assert result.exit_code == 1
    assert f"{file}:11:12: FC001 future of 'sq' is not resolved on every path" in result.stdout
    unconditional = file.read_text().replace(" if f.state.is_completed()", "")
    file.write_text(unconditional)
    assert cli("lint", "--no-cache", str(file)).exit_code == 0
