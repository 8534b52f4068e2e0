"""The corpus labels: ``# expect: FC001`` on each line a rule must report."""

from __future__ import annotations

import re
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def expected(source: str) -> set[tuple[int, str]]:
    """``(line, code)`` of each ``# expect: FC001[, FC002]`` label."""
    out = set()
    for number, text in enumerate(source.splitlines(), 1):
        match = _EXPECT.search(text)
        if match:
            out.update((number, c) for c in re.split(r"[ ,]+", match.group(1).strip()) if c)
    return out
