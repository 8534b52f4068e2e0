"""Lint one file: run the compiler's walk once, then every selected rule over its facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowc.lint.model import Finding

if TYPE_CHECKING:
    from flowc.compiler.analysis import Note
    from flowc.compiler.discovery import ModuleInfo, Project

__all__ = ["Facts", "LintResult", "analyse", "lint_source", "parse_noqa"]

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?", re.I)


@dataclass
class Facts:
    """The facts of one file's walk, gathered over all its flows, for the rules to read."""

    path: str
    source: str
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    module: ModuleInfo | None = None
    project: Project | None = None
    deps: list[str] = field(default_factory=list)


@dataclass
class LintResult:
    path: str
    findings: list[Finding]
    warnings: list[str] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)


def analyse(source: str, path: str, real: str | None) -> Facts:
    """One walk of each flow in ``source``; raises ``CompileError`` on a syntax error."""
    from flowc.compiler.discovery import Project
    from flowc.compiler.expand import site_ids
    from flowc.compiler.interpret import Interpreter

    project = Project()
    main = project.load_main(source, path, real)
    facts = Facts(path, source, module=main, project=project)
    seen: set[tuple[str, int, int]] = set()
    for definition in main.flows:
        interp = Interpreter(project, definition, {})
        try:
            interp.run()
        except Exception:  # the walk keeps what it found; the compiler reports where it stopped
            pass
        ids = site_ids(interp.by_key)
        track = interp.track
        for key, entry in track.found.items():
            task, function, where, line, col = track.sites[key]
            if (where, line, col) in seen:
                continue
            seen.add((where, line, col))
            facts.unresolved.append(
                {
                    **entry,
                    "node": ids[key],
                    "task": task,
                    "function": function,
                    "path": where,
                    "line": line,
                    "col": col,
                }
            )
        facts.notes.extend(track.notes)
    facts.deps = sorted(k for k, v in project.cache.items() if v is not None and v is not main)
    return facts


def parse_noqa(source: str) -> dict[int, set[str] | None]:
    """``{line: codes}`` of each ``# noqa`` comment (``None``: every code)."""
    found: dict[int, set[str] | None] = {}
    if "noqa" not in source and "NOQA" not in source:
        return found
    for number, text in enumerate(source.splitlines(), 1):
        if "#" not in text:
            continue
        match = _NOQA.search(text)
        if match is None:
            continue
        codes = match.group("codes")
        found[number] = (
            None if codes is None else {c.upper() for c in re.split(r"[\s,]+", codes) if c}
        )
    return found


def lint_source(
    source: str,
    path: str = "<string>",
    *,
    select: Iterable[str] | None = None,
    real: str | None = None,
) -> LintResult:
    """Lint ``source``: findings of the selected rules (all when ``select`` is None)."""
    from flowc.compiler.diagnostics import CompileError
    from flowc.lint.rules import RULES, known_code

    chosen = [r for r in RULES if select is None or r.code in set(select)]
    try:
        facts = analyse(source, path, real)
    except CompileError as exc:
        errors = [Finding("E999", d.message, path, d.line, d.col) for d in exc.diagnostics]
        return LintResult(path, errors)
    findings: list[Finding] = []
    for rule in chosen:
        findings.extend(f for f in rule().check(facts) if f.path == path)
    noqa = parse_noqa(source)
    warnings: list[str] = []
    for line, codes in noqa.items():
        for code in sorted(codes or ()):
            if not known_code(code):
                warnings.append(f"{path}:{line}: unknown rule code {code!r} in a noqa comment")
    kept = []
    for finding in dict.fromkeys(findings):
        codes = noqa.get(finding.line, set())
        if codes is None or finding.code in codes:
            continue
        kept.append(finding)
    kept.sort(key=lambda f: (f.line, f.col, f.code))
    return LintResult(path, kept, warnings, facts.deps)
