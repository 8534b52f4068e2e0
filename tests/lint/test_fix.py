"""``flowc lint --fix`` keeps what the program means and the file as it was written.

Each case runs the real linter and fixer on a file on disk, then checks that the result
parses, keeps the file's indentation, newlines and encoding, calls Prefect's ``wait``, and
that a second ``--fix`` changes nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

HEAD = "from prefect import flow, task\n\n\n@task\ndef add(x):\n    return x\n\n\n"


def _fix_twice(cli, file: Path) -> bytes:
    cli("lint", "--no-cache", "--fix", str(file))
    fixed = file.read_bytes()
    again = cli("lint", "--no-cache", "--fix", str(file))
    assert file.read_bytes() == fixed, again.output
    return fixed


def _wait_binding(source: str) -> str:
    """Which module the name used by the inserted call is imported from."""
    tree = ast.parse(source)
    calls = [
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and "wait" in n.func.id
    ]
    (name,) = set(calls)
    for node in ast.walk(tree):
        stored = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        if (stored and node.id == name) or (isinstance(node, ast.arg) and node.arg == name):
            return f"{name} rebound by the program"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name and alias.name == "wait":
                    return f"{node.module}.wait"
    return f"unbound {name}"


def test_tab_indented_body_gets_a_tab(cli, tmp_path: Path) -> None:
    file = tmp_path / "tabs.py"
    file.write_text(
        HEAD + "@flow\ndef f(flag: bool):\n\tfut = add.submit(1)\n\tif flag:\n\t\treturn 1\n"
    )
    text = _fix_twice(cli, file).decode()
    ast.parse(text)
    assert "\t\twait([fut])\n\t\treturn 1\n" in text and text.endswith("\n\twait([fut])\n")


def test_module_level_wait_is_not_called(cli, tmp_path: Path) -> None:
    file = tmp_path / "shadow.py"
    file.write_text(HEAD + "wait = 3\n\n\n@flow\ndef f():\n    fut = add.submit(1)\n")
    text = _fix_twice(cli, file).decode()
    assert _wait_binding(text) == "prefect.futures.wait"
    assert "wait = 3\n" in text


def test_local_wait_is_not_called(cli, tmp_path: Path) -> None:
    file = tmp_path / "local.py"
    file.write_text(
        "from prefect.futures import wait\n"
        + HEAD
        + "@flow\ndef f():\n    wait = None\n    fut = add.submit(1)\n"
    )
    text = _fix_twice(cli, file).decode()
    assert _wait_binding(text) == "prefect.futures.wait"
    assert "    prefect_wait([fut])\n" in text
    assert cli("lint", "--no-cache", str(file)).exit_code == 0


def test_crlf_and_latin1_are_kept(cli, tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + HEAD + "@flow\ndef f():\n    s = 'caf\xe9'\n"
    source += "    fut = add.submit(s)\n"
    file = tmp_path / "latin.py"
    file.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    data = _fix_twice(cli, file)
    assert data != source.replace("\n", "\r\n").encode("latin-1")  # it was fixed
    assert b"caf\xe9" in data and data.count(b"\n") == data.count(b"\r\n")
    assert data.endswith(b"    wait([fut])\r\n")
    ast.parse(data)


def test_a_broken_file_is_reported_and_the_others_fixed(cli, tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(HEAD + "@flow\ndef f():\n    fut = add.submit(1)\n")
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n")
    result = cli("lint", "--no-cache", "--fix", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert f"{broken}:1:7: E999" in result.stdout
    assert broken.read_text() == "def f(:\n"
    assert good.read_text().endswith("    wait([fut])\n")


def test_unfixed_findings_say_why(cli, tmp_path: Path) -> None:
    file = tmp_path / "both.py"
    file.write_text(
        HEAD + "@flow\ndef f():\n    fut = add.submit(1)\n\n\n@flow\ndef g():\n    add.submit(2)\n"
    )
    result = cli("lint", "--no-cache", "--fix", str(file))
    assert result.exit_code == 1
    (line, summary) = result.stdout.splitlines()
    assert line.endswith("(no fix available: no name holds the future at the end of the function)")
    assert summary == "Found 2 errors (1 fixed, 1 remaining)."


def test_a_future_made_by_the_return_itself_is_not_fixed(cli, tmp_path: Path) -> None:
    """Found by the fuzz test: a wait() before the return cannot wait for what it makes."""
    file = tmp_path / "ret.py"
    source = HEAD + "@flow\ndef f():\n    fs = []\n    return fs.append(add.submit(1))\n"
    file.write_text(source)
    result = cli("lint", "--no-cache", "--fix", str(file))
    assert file.read_text() == source
    assert "(no fix available: the future is made by the return on line 12 itself)" in (
        result.stdout
    )
