"""What the linter reports: findings, fixes and edits (plain data, cheap to import and cache)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Edit", "Finding", "Fix"]


@dataclass(frozen=True)
class Edit:
    """Replace the text from ``(row, column)`` to ``(end_row, end_column)`` (1-based) by
    ``content``; an insertion has equal start and end."""

    content: str
    row: int
    column: int
    end_row: int
    end_column: int


@dataclass(frozen=True)
class Fix:
    applicability: str
    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Finding:
    """One problem: ``path:line:col: CODE message`` (1-based line and column)."""

    code: str
    message: str
    path: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)
