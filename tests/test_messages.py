"""The one wording of a bad ``FILE[:FLOW]`` that every command prints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowc.messages import flow_listing, no_flow_named, path_problem


def test_a_readable_file_has_no_problem(tmp_path: Path) -> None:
    (tmp_path / "f.py").write_text("x = 1\n")
    assert path_problem(tmp_path / "f.py") is None


def test_missing_paths_and_dangling_links_are_no_such_file(tmp_path: Path) -> None:
    assert path_problem(Path("nosuch.py")) == "nosuch.py: No such file or directory"
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    assert path_problem(tmp_path / "dangling.py") == (
        f"{tmp_path / 'dangling.py'}: No such file or directory"
    )


def test_directories_fifos_and_devices_are_refused(tmp_path: Path) -> None:
    assert path_problem(tmp_path) == (
        f"{tmp_path}: Is a directory; give a Python file (FILE.py[:FLOW])"
    )
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.py")
        assert (
            path_problem(tmp_path / "pipe.py")
            == f"{tmp_path / 'pipe.py'}: is a FIFO (named pipe), not a regular file"
        )
    if Path("/dev/zero").exists():
        (tmp_path / "zero.py").symlink_to("/dev/zero")
        assert (
            path_problem(tmp_path / "zero.py")
            == f"{tmp_path / 'zero.py'}: is a device, not a regular file"
        )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_parent_says_why(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "f.py").write_text("")
    locked.chmod(0)
    try:
        assert path_problem(locked / "f.py") == f"{locked / 'f.py'}: Permission denied"
    finally:
        locked.chmod(0o700)


def test_flows_are_listed_by_name_with_a_differing_function_name() -> None:
    flows = [("etl", "etl"), ("my-flow", "my_flow"), ("Nightly report", "nightly")]
    assert flow_listing(flows) == "etl, my-flow, Nightly report (nightly)"
    assert no_flow_named("f.py", "x", flows) == (
        "f.py: no flow named 'x' (its flows: etl, my-flow, Nightly report (nightly))"
    )
    assert no_flow_named("f.py", "x", []) == (
        "f.py: no flow found (a flow is a function decorated with @flow)"
    )
