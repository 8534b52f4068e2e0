"""Lint files and folders: collect ``*.py`` files, apply settings, use the cache, fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flowc.lint.config import Settings, find_settings, matches
from flowc.lint.model import Finding

__all__ = ["Options", "Report", "collect", "lint_paths", "selected"]


@dataclass
class Options:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    cache: bool = True
    fix: bool = False
    want_fixes: bool = False


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fixed: int = 0
    files: int = 0


def _prefixed(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(p.upper()) for p in prefixes)


def selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """``select``/``ignore`` by code or prefix (``FC``, ``FC00``, ``FC001``; ``ALL``)."""
    if code in ("E999", "E902"):
        return True
    chosen = not select or "ALL" in select or _prefixed(code, select)
    return chosen and not _prefixed(code, ignore)


def _unreadable(path: Path, reason: str) -> Finding:
    """ruff's E902: a path that cannot be linted is a finding (exit 1), never a silent pass."""
    return Finding("E902", reason, str(path), 1, 1)


def collect(paths: list[Path], report: Report) -> list[tuple[Path, Settings]]:
    out: list[tuple[Path, Settings]] = []
    for path in paths:
        if not path.exists():
            kind = "file or directory" if not path.is_symlink() else "target of the symbolic link"
            report.findings.append(_unreadable(path, f"no such {kind}"))
            continue
        settings = find_settings(path)
        if not path.is_dir():  # named explicitly: linted even when excluded, as ruff does
            out.append((path, settings))
            continue
        for file in sorted(path.rglob("*.py")):
            parts = file.relative_to(path).parts
            if any(p.startswith(".") or p in ("__pycache__", ".venv") for p in parts[:-1]):
                continue
            here = find_settings(file)
            if any(matches(file, pattern, here.root) for pattern in here.exclude):
                continue
            out.append((file, here))
    return out


@dataclass
class _Fixed:
    """A file's fixed bytes, waiting until every file has been checked to be written."""

    path: Path
    data: bytes
    count: int


def _lint_one(path: Path, settings: Settings, options: Options, report: Report) -> _Fixed | None:
    from flowc.lint.cache import Cache
    from flowc.reading import SourceReadError, read_limited

    shown = str(path)
    try:
        data = read_limited(path)
    except SourceReadError as exc:
        report.findings.append(_unreadable(path, exc.reason))
        return None
    cache = None
    key = ""
    if options.cache and not options.fix and not options.want_fixes:
        root = settings.root or Path.cwd()
        cache = Cache.at(root, settings.key() + repr((options.select, options.ignore)))
        key = cache.key(shown, data)
        hit = cache.get(key)
        if hit is not None:
            found, warnings = hit
            report.findings.extend(found)
            report.warnings.extend(warnings)
            return None
    findings, warnings, deps = _analyse(shown, data, path, settings, options)
    pending = None
    if options.fix:
        from flowc.lint.fix import explain_unfixed, fix_file

        fixed = fix_file(data, findings)
        if fixed is not None:
            data, count = fixed
            pending = _Fixed(path, data, count)
            findings, warnings, deps = _analyse(shown, data, path, settings, options)
        findings = explain_unfixed(data, findings)
    elif options.want_fixes:
        from flowc.lint.fix import attach_fixes

        findings = attach_fixes(data, findings)
    if cache is not None:
        cache.put(key, findings, warnings, deps)
    report.findings.extend(findings)
    report.warnings.extend(warnings)
    return pending


def _analyse(
    shown: str, data: bytes, path: Path, settings: Settings, options: Options
) -> tuple[list[Finding], list[str], list[str]]:
    from flowc.compiler.diagnostics import CompileError
    from flowc.compiler.discovery import decode
    from flowc.lint.engine import lint_source

    try:
        source = decode(data, shown)
    except CompileError as exc:
        d = exc.diagnostics[0]
        return [Finding("E999", d.message, shown, d.line, d.col)], [], []
    select = options.select or settings.select
    ignore = (*settings.ignore, *options.ignore)
    for pattern, codes in settings.per_file_ignores:
        if matches(path, pattern, settings.root):
            ignore = (*ignore, *codes)
    try:
        result = lint_source(source, shown, real=str(path))
    except RecursionError:
        return [Finding("E999", "too deeply nested to analyse", shown, 1, 1)], [], []
    kept = [f for f in result.findings if selected(f.code, select, ignore)]
    return kept, result.warnings, result.deps


def lint_paths(paths: list[Path], options: Options) -> Report:
    """Lint every file; with ``fix``, write the fixed files only once all have been checked."""
    from flowc.lint.fix import write_fixed

    report = Report()
    fixed: list[_Fixed] = []
    for path, settings in collect(paths, report):
        report.files += 1
        done = _lint_one(path, settings, options, report)
        if done is not None:
            fixed.append(done)
    for item in fixed:
        try:
            write_fixed(item.path, item.data)
        except OSError as exc:  # the file stays as it was; its findings were fixed in memory
            report.warnings.append(f"{item.path}: cannot write the fixes: {exc.strerror or exc}")
            continue
        report.fixed += item.count
    return report
