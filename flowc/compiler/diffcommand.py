"""The work behind ``flowc diff``: read each side (a file, or ``REV:PATH`` from git), compile both.

A side from git is read with ``git show`` and compiled from its text, never written out or
imported. ``REV:PATH`` is taken relative to the current directory first (what a user typing
``HEAD~1:flows/etl.py`` next to ``flows/etl.py`` means), then to the repository's top, as
``git show`` reads it. Every problem is a one-line :class:`CommandError` (exit 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from flowc.compiler.diff import PlanDiff, diff_plans, to_text
from flowc.compiler.targets import CommandError
from flowc.plan import Plan

__all__ = ["DIFF_FORMATS", "Side", "git_blob", "read_side", "render_diff", "run_diff"]

DIFF_FORMATS = ("text", "json", "mermaid", "html")
_SUFFIXES = {".json": "json", ".mmd": "mermaid", ".mermaid": "mermaid", ".html": "html"}


@dataclass(frozen=True)
class Side:
    """One version of the file: how the user named it, its text, and its plan."""

    label: str
    source: str
    plan: Plan


def git_blob(rev: str, path: str) -> str:
    """The text of ``path`` at ``rev``; relative to the current directory, else the top."""
    git = shutil.which("git")
    if git is None:
        raise CommandError(f"{rev}:{path}: git is not installed")
    directory, name = os.path.split(path)
    attempts = [(directory or ".", f"{rev}:./{name}"), (".", f"{rev}:{path}")]
    problem = ""
    for cwd, spec in attempts:
        if not os.path.isdir(cwd):  # a folder gone from the working tree: the top's turn
            continue
        try:
            done = subprocess.run(
                [git, "show", spec],
                cwd=cwd,
                capture_output=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            problem = str(exc)
            continue
        if done.returncode == 0:
            return done.stdout.decode("utf-8", errors="replace")
        lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        problem = problem or (lines[-1] if lines else f"git show exited {done.returncode}")
    problem = problem.removeprefix("fatal: ")
    raise CommandError(f"{rev}:{path}: cannot read it from git ({problem})")


def _split_rev(text: str) -> tuple[str, str] | None:
    """``REV:PATH`` when ``text`` is not an existing file and has a non-empty REV and PATH."""
    if Path(text).exists():
        return None
    rev, sep, path = text.partition(":")
    if not sep or not rev or not path or len(rev) == 1 and path.startswith("\\"):
        return None
    return rev, path


def _compile(source: str, path: str, label: str, params: dict[str, object]) -> Plan:
    from flowc.compiler import CompileError, compile_source

    try:
        return compile_source(source, path, parameters=params or None).plan
    except CompileError as exc:
        lines = [d.format() for d in exc.diagnostics] or [f"{label}: {exc}"]
        raise CommandError(*lines) from None


def read_side(spec: str, params: dict[str, object]) -> Side:
    """A side named by the user: an existing file, or ``REV:PATH``."""
    rev_path = _split_rev(spec)
    if rev_path is None:
        path = Path(spec)
        if not path.is_file():
            raise CommandError(f"{spec}: no such file (give FILE or REV:PATH)")
        try:
            source = path.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            raise CommandError(f"{spec}: cannot read the file: {exc.strerror or exc}") from None
        return Side(spec, source, _compile(source, spec, spec, params))
    rev, path_text = rev_path
    source = git_blob(rev, path_text)
    # compiled under the working-tree path, so sibling modules it imports are found
    return Side(spec, source, _compile(source, path_text, spec, params))


def run_diff(
    old: str, new: str | None, git_rev: str | None, values: dict[str, object] | None = None
) -> tuple[PlanDiff, Side, Side]:
    """Both sides read and compiled, and their diff; ``--git REV FILE`` is ``REV:FILE FILE``.

    ``values``: the flow parameters, parsed by the CLI (``flowc.cli.targets``).
    """
    values = values or {}
    if git_rev is not None:
        if new is not None:
            raise CommandError("--git REV takes one FILE: flowc diff --git REV FILE")
        old, new = f"{git_rev}:{old}", old
    elif new is None:
        raise CommandError("give two sides (flowc diff OLD NEW) or --git REV FILE")
    before, after = read_side(old, values), read_side(new, values)
    diff = diff_plans(
        before.plan,
        after.plan,
        before.source,
        after.source,
        old_label=before.label,
        new_label=after.label,
    )
    return diff, before, after


def diff_format(output: Path | None, fmt: str | None) -> str:
    """``--format`` when given, else the ``-o`` suffix, else text."""
    if fmt is not None:
        if fmt not in DIFF_FORMATS:
            raise CommandError(f"--format {fmt!r}: expected one of {', '.join(DIFF_FORMATS)}")
        return fmt
    if output is None:
        return "text"
    return _SUFFIXES.get(output.suffix.lower(), "text")


def render_diff(diff: PlanDiff, after: Side, fmt: str) -> str:
    """The diff as text, JSON, Mermaid (changes styled) or the HTML view (changes marked)."""
    if fmt == "text":
        return to_text(diff)
    if fmt == "json":
        return diff.to_json()
    from flowc.compiler.render.diffview import diff_html, diff_mermaid

    if fmt == "mermaid":
        return diff_mermaid(diff)
    return diff_html(diff, {flow.file: after.source for flow in after.plan.flows})
