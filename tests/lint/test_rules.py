"""Every rule's own VALID/INVALID examples, run as tests (Fixit style)."""

from __future__ import annotations

import pytest
from lint_labels import expected

from flowc.lint import lint_source
from flowc.lint.rules import RULES

VALID = [(r.code, i, ex) for r in RULES for i, ex in enumerate(r.VALID)]
INVALID = [(r.code, i, ex) for r in RULES for i, ex in enumerate(r.INVALID)]


@pytest.mark.parametrize(("code", "index", "source"), VALID, ids=[f"{c}-{i}" for c, i, _ in VALID])
def test_valid(code: str, index: int, source: str) -> None:
    assert lint_source(source, "example.py").findings == []


@pytest.mark.parametrize(
    ("code", "index", "source"), INVALID, ids=[f"{c}-{i}" for c, i, _ in INVALID]
)
def test_invalid(code: str, index: int, source: str) -> None:
    found = {(f.line, f.code) for f in lint_source(source, "example.py").findings}
    assert found == expected(source)
    assert any(c == code for _, c in found)


def test_every_rule_has_examples_and_metadata() -> None:
    names = set()
    for rule in RULES:
        assert rule.VALID and rule.INVALID, rule.code
        assert rule.name == rule.name.lower() and " " not in rule.name
        names.add(rule.name)
    assert len(names) == len(RULES)


def test_message_names_the_task() -> None:
    (finding,) = lint_source(RULES[0].INVALID[0], "x.py").findings
    assert finding.format() == (
        "x.py:12:5: FC001 future of 'add' is never resolved: return it, call .result() or "
        ".wait(), or pass it to wait()"
    )


def test_upstream_not_reported_again() -> None:
    source = (
        "from prefect import flow, task\n\n@task\ndef t(x=0):\n    return x\n\n"
        "@flow\ndef f():\n    a = t.submit()\n    b = t.submit(a)\n    c = t.submit(b)\n"
    )
    assert [f.line for f in lint_source(source, "x.py").findings] == [11]


def test_noqa() -> None:
    source = RULES[0].INVALID[0].replace("# expect: FC001", "# noqa: FC001")
    assert lint_source(source, "x.py").findings == []
    bare = RULES[0].INVALID[0].replace("# expect: FC001", "# noqa")
    assert lint_source(bare, "x.py").findings == []
    other = RULES[0].INVALID[0].replace("# expect: FC001", "# noqa: FC002")
    assert [f.code for f in lint_source(other, "x.py").findings] == ["FC001"]


def test_unknown_noqa_code_is_reported() -> None:
    source = RULES[0].INVALID[0].replace("# expect: FC001", "# noqa: FC999")
    result = lint_source(source, "x.py")
    assert [f.code for f in result.findings] == ["FC001"]
    assert result.warnings == ["x.py:12: unknown rule code 'FC999' in a noqa comment"]


def test_syntax_error_is_a_finding() -> None:
    (finding,) = lint_source("def f(:\n", "bad.py").findings
    assert finding.code == "E999" and finding.line == 1
    assert "syntax error" in finding.message
