"""Property-based fuzzing of the compile-side commands over generated and mutated flows.

Each case is a flow file built from hostile pieces (nested loops of hundreds, recursion,
values that double, empty maps, names that shadow ``wait``, deep brackets), then perhaps
mutated (characters deleted or inserted, NUL bytes, tabs, CRLF, lines duplicated). For each:

- compiling (collapsed and expanded) and linting raise nothing but ``CompileError``;
- each case finishes: it runs under an alarm, and a case still running when it rings fails
  (a generous bound: the assertion is that the walk ends, not how fast);
- nothing of the file runs: it writes a marker file at import, in its flow and in its task;
- ``--fix`` output parses, and fixing it again changes nothing.
"""

from __future__ import annotations

import ast
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hypothesis
import hypothesis.strategies as st
import pytest

from flowc.compiler import CompileError, compile_file
from flowc.lint.engine import lint_source
from flowc.lint.fix import fix_file

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="needs SIGALRM to bound each case"
)

#: Seconds one case may take before it counts as a hang (a loaded 2-core machine included).
CASE_BOUND = 60

EXPRS = [
    "t.submit(a)",
    "t.map(xs)",
    "t.map([])",
    "t.map(range(n))",
    "t(a)",
    "[a, a]",
    "[v, v]",
    "sub(a)",
    "rec(n - 1)",
    "helper(a)",
    "wait([a])",
    "a.result()",
    "xs + xs",
    "{'k': a}",
    "[t.submit(x) for x in xs if x]",
    "sum(f.result() for f in t.map(xs) if f.state.is_completed())",
    "[[[[[[[[a]]]]]]]]",
    "fs.append(t.submit(a))",
    "open(MARKER, 'w')",
]
NAMES = ["a", "b", "xs", "v", "fs", "wait", "n"]
RANGES = ["range(300)", "range(3)", "xs", "fs", "range(n)", "[]"]


@st.composite
def statements(draw: st.DrawFn, depth: int = 0) -> str:
    kinds = ["assign", "expr", "if", "for", "while", "return", "try"]
    kind = draw(st.sampled_from(kinds if depth < 3 else ["assign", "expr"]))
    pad = "    " * (depth + 1)
    if kind == "assign":
        return f"{pad}{draw(st.sampled_from(NAMES))} = {draw(st.sampled_from(EXPRS))}\n"
    if kind == "expr":
        return f"{pad}{draw(st.sampled_from(EXPRS))}\n"
    if kind == "return":
        return f"{pad}return {draw(st.sampled_from(EXPRS))}\n"
    body = "".join(draw(st.lists(statements(depth + 1), min_size=1, max_size=3)))
    head = {
        "if": f"if {draw(st.sampled_from(NAMES))}:",
        "for": f"for {draw(st.sampled_from(NAMES))} in {draw(st.sampled_from(RANGES))}:",
        "while": "while a:",
        "try": "try:",
    }[kind]
    tail = f"{pad}except Exception:\n{pad}    pass\n" if kind == "try" else ""
    return f"{pad}{head}\n{body}{tail}"


def prelude(marker: Path) -> str:
    return (
        "from prefect import flow, task\nfrom prefect.futures import wait\n"
        f"MARKER = {str(marker)!r}\nopen(MARKER, 'w').write('module')\n\n\n"
        "@task\ndef t(x, y=None):\n    open(MARKER, 'w').write('task')\n    return x\n\n\n"
        "def helper(x):\n    return t.submit(x)\n\n\n"
        "@flow\ndef sub(x):\n    return t.submit(x)\n\n\n"
        "@flow\ndef rec(n: int = 150):\n    if n <= 0:\n        return 0\n"
        "    return t(n) + rec(n - 1)\n\n\n"
        "@flow\ndef f(a=1, b=2, xs=[1, 2], n=3):\n    open(MARKER, 'w').write('flow')\n"
        "    fs = []\n    v = t.submit(a)\n"
    )


MUTATION = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 8)),
    st.tuples(
        st.just("insert"),
        st.integers(0, 10**6),
        st.sampled_from(["\0", "\t", "(", "[" * 300, ":", "\r\n", "\\", "'", "é", " ", "\n"]),
    ),
    st.tuples(st.just("duplicate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("tabs"), st.just(0), st.just(0)),
    st.tuples(st.just("crlf"), st.just(0), st.just(0)),
)


def mutate(source: str, mutations: list[tuple[str, int, object]]) -> str:
    for kind, where, what in mutations:
        at = where % (len(source) + 1)
        if kind == "delete":
            source = source[:at] + source[at + int(what) :]  # type: ignore[call-overload]
        elif kind == "insert":
            source = source[:at] + str(what) + source[at:]
        elif kind == "duplicate":
            lines = source.splitlines(keepends=True)
            if lines:
                i = where % len(lines)
                lines.insert(i, lines[i])
            source = "".join(lines)
        elif kind == "tabs":
            source = source.replace("    ", "\t")
        else:
            source = source.replace("\r\n", "\n").replace("\n", "\r\n")
    return source


class Hang(Exception):
    pass


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in this thread if the block is still running after ``seconds``."""

    def ring(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _parses(data: bytes) -> bool:
    try:
        ast.parse(data)
    except (SyntaxError, ValueError):
        return False
    return True


def check(tmp_path: Path, source: str) -> None:
    """Every property of the module docstring, for one file."""
    marker = tmp_path / "RAN"
    marker.unlink(missing_ok=True)
    file = tmp_path / "flow.py"
    data = source.encode("utf-8", "surrogatepass")
    file.write_bytes(data)
    limit = sys.getrecursionlimit()
    with bounded(CASE_BOUND):
        for expand in (False, True):
            try:
                result = compile_file(file, expand=expand)
            except CompileError as exc:
                assert exc.diagnostics and exc.diagnostics[0].path == str(file)
            else:
                result.plan.to_json()
        text = data.decode("utf-8", "replace")
        findings = lint_source(text, str(file), real=str(file)).findings
        fixed = fix_file(data, findings)
        if fixed is not None:
            once, count = fixed
            assert count > 0 and _parses(once), once.decode("utf-8", "replace")
            again = lint_source(once.decode("utf-8"), str(file), real=str(file)).findings
            assert fix_file(once, again) is None, once.decode()
    assert sys.getrecursionlimit() == limit
    assert not marker.exists(), f"the file ran: {marker.read_text()}"


@hypothesis.settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(st.lists(statements(), min_size=1, max_size=6))
def test_generated_flows(tmp_path: Path, body: list[str]) -> None:
    check(tmp_path, prelude(tmp_path / "RAN") + "".join(body))


@hypothesis.settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    st.lists(statements(), min_size=1, max_size=4), st.lists(MUTATION, min_size=1, max_size=3)
)
def test_mutated_flows(tmp_path: Path, body: list[str], mutations: list) -> None:
    check(tmp_path, mutate(prelude(tmp_path / "RAN") + "".join(body), mutations))


def test_the_alarm_bounds_a_case() -> None:
    """The bound works: a case that would not end fails as a hang instead."""
    with pytest.raises(Hang), bounded(0.2):
        while True:
            pass
