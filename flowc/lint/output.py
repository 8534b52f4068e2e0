"""Findings as text, ruff-shaped JSON, SARIF 2.1.0, or GitHub Actions annotations."""

from __future__ import annotations

import json
from typing import Any

from flowc.lint.model import Finding

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "json", "sarif", "github")


def _summary(findings: list[Finding], fixed: int = 0) -> str:
    """ruff's last line: ``Found 3 errors (1 fixed, 2 remaining).`` after ``--fix``."""
    n = len(findings) + fixed
    if n == 0:
        return "All checks passed!"
    found = f"Found {n} error{'s' if n != 1 else ''}"
    return f"{found} ({fixed} fixed, {len(findings)} remaining)." if fixed else f"{found}."


def _fix(finding: Finding) -> dict[str, Any] | None:
    fix = finding.data.get("fix")
    if not fix:
        return None
    return {
        "applicability": fix["applicability"],
        "message": fix["message"],
        "edits": [
            {
                "content": e["content"],
                "location": {"row": e["row"], "column": e["column"]},
                "end_location": {"row": e["end_row"], "column": e["end_column"]},
            }
            for e in fix["edits"]
        ],
    }


def _url(code: str) -> str | None:
    from flowc.lint.rules import by_code

    rule = by_code(code)
    return rule.url() if rule else None


def render(findings: list[Finding], fmt: str, fixed: int = 0) -> str:
    """``findings`` in ``fmt``; ``fixed``: how many ``--fix`` fixed (told in the text summary)."""
    if fmt == "text":
        lines = [f.format() for f in findings]
        return "\n".join([*lines, _summary(findings, fixed)]) + "\n"
    if fmt == "github":
        return "".join(
            f"::error file={f.path},line={f.line},col={f.col},title={f.code}::{f.message}\n"
            for f in findings
        )
    if fmt == "json":
        return (
            json.dumps(
                [
                    {
                        "code": f.code,
                        "message": f.message,
                        "filename": f.path,
                        "location": {"row": f.line, "column": f.col},
                        "end_location": {"row": f.end_line or f.line, "column": f.end_col or f.col},
                        "fix": _fix(f),
                        "url": _url(f.code),
                        "noqa_row": f.line,
                    }
                    for f in findings
                ],
                indent=2,
            )
            + "\n"
        )
    if fmt == "sarif":
        return json.dumps(sarif(findings), indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


def sarif(findings: list[Finding]) -> dict[str, Any]:
    from flowc import __version__
    from flowc.lint.rules import RULES

    rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.explanation or r.summary},
            "helpUri": r.url(),
            "defaultConfiguration": {"level": "error"},
        }
        for r in RULES
    ]
    index = {r.code: i for i, r in enumerate(RULES)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": "error",
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path.replace("\\", "/")},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.col,
                            "endLine": f.end_line or f.line,
                            "endColumn": f.end_col or f.col,
                        },
                    }
                }
            ],
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flowc",
                        "version": __version__,
                        "informationUri": "https://flowc.dev/rules",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
