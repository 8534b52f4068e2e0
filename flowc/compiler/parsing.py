"""Source text to a libcst tree: decoding by the file's declared encoding, and parsing.

CPython's own parser checks the text first: it is fast, places errors where the user made
them, and refuses what ``python FILE`` would refuse (NUL bytes, nesting past its limits) —
which libcst may accept or choke on. Every refusal is a :class:`CompileError` with one
diagnostic, never a traceback.
"""

from __future__ import annotations

import ast
import re
import tokenize
from io import BytesIO

import libcst as cst

from flowc.compiler.diagnostics import CompileError, Diagnostic

__all__ = ["decode", "parse"]


def decode(data: bytes, path: str) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise CompileError(
            [
                Diagnostic(
                    path=path,
                    line=1,
                    col=1,
                    code="E002",
                    severity="error",
                    message=f"cannot decode the file: {exc}",
                )
            ]
        ) from None


def _syntax_error(path: str, line: int, col: int, message: str) -> CompileError:
    return CompileError(
        [
            Diagnostic(
                path=path,
                line=line,
                col=col,
                code="E001",
                severity="error",
                message=f"syntax error: {message}",
            )
        ]
    )


def parse(source: str, path: str) -> cst.Module:
    """The libcst tree of ``source``, or CompileError for what CPython itself refuses.

    CPython's parser goes first: it is fast, locates errors where the user made them (libcst
    often reports the token after), and refuses what libcst may accept or choke on: NUL bytes,
    nesting past its limits. It only builds a tree; nothing is compiled or run.
    """
    refused = _python_syntax_error(source, path)
    if refused is not None:
        raise _syntax_error(path, *refused)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        message = str(exc.message).strip().splitlines()[0] if exc.message else "invalid syntax"
        line, col = exc.raw_line, exc.raw_column + 1
        where = re.search(r"error at (\d+):(\d+): ", message)
        if where is not None:
            line, col = int(where.group(1)), int(where.group(2)) + 1
            message = message[where.end() :]
        raise _syntax_error(path, line, col, message.removeprefix("parser error: ")) from None
    except (RecursionError, MemoryError) as exc:
        raise _syntax_error(
            path, 1, 1, f"too deeply nested to parse ({type(exc).__name__})"
        ) from None


def _python_syntax_error(source: str, path: str) -> tuple[int, int, str] | None:
    """Where and why CPython's parser refuses ``source``; None when it accepts it."""
    nul = source.find("\0")
    if nul >= 0:
        line = source.count("\n", 0, nul) + 1
        col = nul - (source.rfind("\n", 0, nul) + 1) + 1
        return (line, col, "source code cannot contain null bytes")
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return (exc.lineno or 1, exc.offset or 1, exc.msg or "invalid syntax")
    except (RecursionError, MemoryError) as exc:
        return (1, 1, f"too deeply nested to parse ({type(exc).__name__})")
    except ValueError as exc:
        return (1, 1, str(exc) or "invalid source")
    return None
