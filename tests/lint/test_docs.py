from __future__ import annotations

from flowc.lint.docs import DOCS, page, write_pages
from flowc.lint.rules import RULES


def test_rule_pages_are_fresh() -> None:
    assert write_pages(check=True) == [], "run: python -m flowc.lint.docs"


def test_pages_carry_the_examples() -> None:
    for rule in RULES:
        text = (DOCS / f"{rule.code}.md").read_text()
        assert text == page(rule)
        assert rule.INVALID[0].rstrip() in text and rule.VALID[0].rstrip() in text
