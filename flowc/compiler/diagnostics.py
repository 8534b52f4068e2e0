"""Diagnostics and the compiler's one exception: what the compiler tells the user about a file."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from flowc.exceptions import FlowcError

__all__ = ["CompileError", "Diagnostic"]


class Diagnostic(BaseModel):
    """One finding about the source: ``path:line:col: message`` (1-based line and column).

    Line 0 is the file as a whole (missing, a directory, a FIFO, too large): ``path: message``.
    """

    path: str
    line: int
    col: int
    code: str
    severity: Literal["error", "warning", "info"]
    message: str

    def format(self) -> str:
        if self.line <= 0:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class CompileError(FlowcError, ValueError):
    """The input cannot be compiled at all: a syntax error, unreadable bytes, no such file."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))
