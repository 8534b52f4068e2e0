"""``flowc lint``/``rules``/``rule`` through typer's CliRunner on an app built by register()."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lint_labels import CORPUS

BAD = (CORPUS / "bad_one_branch.py").read_text()
GOOD = (CORPUS / "good_map_wait.py").read_text()
LEAK = (CORPUS / "bad_never_resolved.py").read_text()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.flowc.lint]\n")
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def test_text_output_and_exit_codes(cli, tree: Path) -> None:
    result = cli("lint", "--no-cache", str(tree))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{tree / 'bad.py'}:18:11: FC001 future of 'add'")
    assert lines[-1] == "Found 1 error."
    clean = cli("lint", "--no-cache", str(tree / "good.py"))
    assert clean.exit_code == 0 and clean.stdout == "All checks passed!\n"
    assert cli("lint", "--no-cache", "--exit-zero", str(tree)).exit_code == 0


def test_select_ignore(cli, tree: Path) -> None:
    assert cli("lint", "--no-cache", "--ignore", "FC001", str(tree)).exit_code == 0
    assert cli("lint", "--no-cache", "--select", "FC00", str(tree)).exit_code == 1
    assert cli("lint", "--no-cache", "--select", "FC002", str(tree)).exit_code == 0
    unknown = cli("lint", "--no-cache", "--select", "XY123", str(tree))
    assert unknown.exit_code == 2 and "unknown rule code 'XY123'" in unknown.output


def test_json_shape(cli, tree: Path) -> None:
    result = cli("lint", "--no-cache", "--format", "json", str(tree))
    (item,) = json.loads(result.stdout)
    assert set(item) >= {"code", "message", "filename", "location", "end_location", "fix", "url"}
    assert item["location"] == {"row": 18, "column": 11}
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"][0]["content"] == "    wait([fut])\n"
    assert item["url"].endswith("FC001")


def test_sarif(cli, tree: Path) -> None:
    sarif = json.loads(cli("lint", "--no-cache", "--format", "sarif", str(tree)).stdout)
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [f"FC00{i}" for i in range(1, 7)]
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["helpUri"]
    (res,) = run["results"]
    assert res["ruleId"] == "FC001" and rules[res["ruleIndex"]]["id"] == "FC001"
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 18 and region["startColumn"] == 11  # 1-based
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return


def test_github(cli, tree: Path) -> None:
    out = cli("lint", "--no-cache", "--format", "github", str(tree)).stdout
    assert out == (
        f"::error file={tree / 'bad.py'},line=18,col=11,title=FC001::future of 'add' is not "
        "resolved on every path: return it, call .result() or .wait(), or pass it to wait() "
        "on each path\n"
    )


def test_config_and_per_file_ignores(cli, tree: Path) -> None:
    (tree / "pyproject.toml").write_text(
        '[tool.flowc.lint]\nper-file-ignores = { "bad.py" = ["FC001"] }\n'
    )
    assert cli("lint", "--no-cache", str(tree)).exit_code == 0
    (tree / "pyproject.toml").write_text('[tool.flowc.lint]\nexclude = ["bad.py"]\n')
    assert cli("lint", "--no-cache", str(tree)).exit_code == 0
    (tree / "pyproject.toml").write_text('[tool.flowc.lint]\nselekt = ["FC001"]\n')
    broken = cli("lint", "--no-cache", str(tree))
    assert broken.exit_code == 2
    assert "selekt" in broken.output and "pyproject.toml" in broken.output


def test_syntax_error_does_not_stop_others(cli, tree: Path) -> None:
    (tree / "broken.py").write_text("def f(:\n")
    (tree / "latin.py").write_bytes(b"x = '\xff'\n")
    out = cli("lint", "--no-cache", str(tree)).stdout
    assert f"{tree / 'broken.py'}:1:7: E999 syntax error" in out
    assert f"{tree / 'latin.py'}:1:1: E999" in out
    assert "bad.py:18:11: FC001" in out


def test_fix_is_idempotent(cli, tmp_path: Path) -> None:
    file = tmp_path / "leak.py"
    source = LEAK.replace("from prefect.futures import as_completed, wait\n", "")
    file.write_text(source.replace("    add.submit(1)", "    fut = add.submit(1)"))
    first = cli("lint", "--no-cache", "--fix", str(file))
    assert first.exit_code == 0, first.output
    fixed = file.read_text()
    assert "from prefect.futures import wait\n" in fixed
    assert fixed.endswith("    fut = add.submit(1)  # expect: FC001\n    wait([fut])\n")
    second = cli("lint", "--no-cache", "--fix", str(file))
    assert second.exit_code == 0 and file.read_text() == fixed


def test_fix_inserts_before_returns(cli, tmp_path: Path) -> None:
    file = tmp_path / "early.py"
    file.write_text((CORPUS / "bad_one_branch.py").read_text())
    cli("lint", "--no-cache", "--fix", str(file))
    text = file.read_text()
    assert text.endswith("    if flag:\n        fut.result()\n    wait([fut])\n")
    assert cli("lint", "--no-cache", str(file)).exit_code == 0


def test_rules_and_rule(cli) -> None:
    listing = cli("rules").stdout
    for code in ("FC001", "FC002", "FC003", "FC004", "FC005", "FC006"):
        assert code in listing
    page = cli("rule", "FC001")
    assert page.exit_code == 0 and page.stdout.startswith("# FC001 unresolved-terminal-future")
    assert cli("rule", "FC999").exit_code == 2


def test_cache_second_run(cli, tree: Path) -> None:
    first = cli("lint", str(tree))
    assert (tree / ".flowc_cache" / "lint").is_dir()
    second = cli("lint", str(tree))
    assert second.stdout == first.stdout
    (tree / "bad.py").write_text(GOOD)
    assert cli("lint", str(tree)).exit_code == 0


@pytest.mark.timeout(300)  # the subprocess's own, generous timeout fires first
def test_subprocess_never_imports_checked_code(tmp_path: Path) -> None:
    file = tmp_path / "boom.py"
    file.write_text("raise SystemExit('imported!')\n" + LEAK)
    code = (
        "import typer; from flowc.lint.cli import register; app = typer.Typer(); "
        "register(app); app()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "lint", "--no-cache", str(file)],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 1, done.stderr
    assert "FC001" in done.stdout and "imported!" not in done.stdout + done.stderr
