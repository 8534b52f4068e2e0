from __future__ import annotations

from flowc.lint.docs import _GENERATED, DOCS, page, write_pages
from flowc.lint.rules import RULES


def test_rule_pages_are_fresh() -> None:
    assert write_pages(check=True) == [], "run: python -m flowc.lint.docs"


def test_pages_carry_the_examples() -> None:
    for rule in RULES:
        text = (DOCS / f"{rule.code}.md").read_text()
        assert text == page(rule) + "\n" + _GENERATED
        assert rule.VALID[0].rstrip() in text


def test_pages_show_what_the_user_reads() -> None:
    """No test labels nor generator comment in `flowc rule`; a fixable rule says what --fix
    does to each incorrect example, and that a fix is only sometimes available."""
    for rule in RULES:
        shown = page(rule)
        assert "# expect:" not in shown and "<!--" not in shown
    fc001 = page(RULES[0])
    assert "A fix is sometimes available" in fc001
    assert fc001.count("No fix is available") == 2
    assert "`flowc lint --fix` makes it:" in fc001 and "    wait([f])\n" in fc001
