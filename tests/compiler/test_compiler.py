"""The compiler against golden plans, the real runtime, bad input and random programs."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from pathlib import Path

import pytest
from flowfiles import load_flow_file
from regen import FIXTURES, fixtures, golden

from flowc.compiler import CompileError, compile_file, compile_source


@pytest.mark.parametrize("expand", [False, True], ids=["plan", "expanded"])
@pytest.mark.parametrize("path", fixtures(), ids=lambda p: p.stem)
def test_golden_plans(path: Path, expand: bool) -> None:
    suffix = ".expanded.plan.json" if expand else ".plan.json"
    expected = path.with_name(path.stem + suffix).read_text()
    assert golden(path, expand) == expected, "run `python -m tests.compiler.regen` if intended"


def _load(path: Path):
    return load_flow_file(path, "fixture")


STATIC = [
    ("basics", "basics"),
    ("branches", "on_param"),
    ("subflows", "parent_flow"),
    ("async_flow", "async_flow"),
]


@pytest.mark.filterwarnings("ignore::flowc.runtime.flowrun.UnresolvedFuturesWarning")
@pytest.mark.parametrize(("stem", "fn"), STATIC)
def test_static_plan_matches_runtime(stem: str, fn: str) -> None:
    """The expanded plan has the runs and edges a real run records (by task name)."""
    import flowc

    path = FIXTURES / f"{stem}.py"
    module = _load(path)
    flow_obj = getattr(module, fn)
    with flowc.capture() as runs:
        outcome = flow_obj()
        if inspect.iscoroutine(outcome):
            asyncio.run(outcome)
    records = runs.last.records
    names = {id(r): r.task.name for r in records}
    got_runs = Counter(r.task.name for r in records if r.kind != "subflow")
    got_edges = Counter()
    for r in records:
        if r.kind == "subflow":
            continue
        for up in r.upstreams.edges():
            if up.kind != "subflow":
                got_edges[(names[id(up)], r.task.name, "data")] += 1
        for up in r.wait_for:
            got_edges[(names[id(up)], r.task.name, "wait_for")] += 1
    flow_plan = compile_file(path, flow=fn, expand=True).flow(fn)
    tasks = {n.id: n.task for n in flow_plan.nodes}
    want_runs = Counter(n.task for n in flow_plan.nodes if n.kind != "subflow")
    want_edges = Counter(
        (tasks[e.source], tasks[e.target], "wait_for" if e.kind == "wait_for" else "data")
        for e in flow_plan.edges
        if not tasks[e.source].startswith("flow:")
    )
    assert all(n.count == 1 and n.dynamic is None for n in flow_plan.nodes)
    assert want_runs == got_runs
    assert want_edges == got_edges


def test_compiling_never_executes(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = compile_file(FIXTURES / "side_effects.py")
    assert [n.id for n in result.flow("side").nodes] == ["t@16"]
    assert not (tmp_path / "SIDE_EFFECT_WRITTEN").exists()


def test_syntax_error_message() -> None:
    with pytest.raises(CompileError) as info:
        compile_source("x = 1\ny = = 2\n", "flow.py")
    (diag,) = info.value.diagnostics
    # CPython's parser places it at the second '=', where the mistake is.
    assert diag.format() == "flow.py:2:5: syntax error: invalid syntax"
    assert (diag.line, diag.col, diag.severity) == (2, 5, "error")


def test_bad_files(tmp_path) -> None:
    with pytest.raises(CompileError, match=r"missing\.py: no such file"):
        compile_file(tmp_path / "missing.py")
    with pytest.raises(CompileError, match=r": is a directory, not a Python file"):
        compile_file(tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"x = '\xff\xfe'\n")
    with pytest.raises(CompileError, match=r"bad\.py:1:1: cannot decode the file"):
        compile_file(bad)


def test_no_flow_is_info_and_unknown_flow_is_error() -> None:
    result = compile_source("x = 1\n")
    assert result.plan.flows == []
    assert [d.severity for d in result.diagnostics] == ["info"]
    with pytest.raises(CompileError, match="no flow named 'nope'"):
        compile_file(FIXTURES / "subflows.py", flow="nope")


def test_map_length_mismatch_and_parameters() -> None:
    src = (
        "from flowc import flow, task\n@task\ndef t(a, b):\n    return a\n"
        "@flow\ndef f(n: int = 2):\n    t.map([1, 2], [1, 2, 3])\n"
        "    for i in range(n):\n        t.submit(i, 1)\n"
    )
    result = compile_source(src, "m.py", parameters={"n": 5})
    assert [d.code for d in result.diagnostics] == ["E101"]
    assert result.flow().node("t@9").count == 5
    assert result.flow().node("t@7").count is None


def test_analysis_facts() -> None:
    src = (
        "from flowc import flow, task\n@task\ndef t(a):\n    return a\n"
        "@flow\ndef f():\n    a = t.submit(1)\n    b = t.submit(2)\n    a.result()\n"
    )
    facts = compile_source(src).analysis.flows["f"]
    assert [c.node for c in facts.unresolved()] == ["t@8"]
    assert [e.how for e in facts.exits] == ["end"]


# ------------------------------------------------------------------ fuzzing
hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

NAMES = ["a", "b", "xs", "t", "n"]
EXPRS = st.sampled_from(
    [
        "t.submit(a)",
        "t.map(xs)",
        "t(a)",
        "a.result()",
        "[t.submit(x) for x in xs]",
        "range(n)",
        "xs[0]",
        "a + 1",
        "unmapped(a)",
        "f'{a}'",
        "wait([a])",
        "len(xs)",
        "t.submit(a, wait_for=[b])",
        "getattr(t, 'x')",
        "lambda: 1",
        "{'k': a}",
        "(a, b)",
        "helper(a)",
        "sub(a)",
    ]
)


@st.composite
def statements(draw, depth=0):
    kind = draw(
        st.sampled_from(
            ["assign", "expr", "if", "for", "while", "return", "try"]
            if depth < 3
            else ["assign", "expr"]
        )
    )
    pad = "    " * (depth + 1)
    if kind == "assign":
        return f"{pad}{draw(st.sampled_from(NAMES))} = {draw(EXPRS)}\n"
    if kind == "expr":
        return f"{pad}{draw(EXPRS)}\n"
    if kind == "return":
        return f"{pad}return {draw(EXPRS)}\n"
    body = "".join(draw(st.lists(statements(depth + 1), min_size=1, max_size=3)))
    head = {
        "if": f"if {draw(EXPRS)}:",
        "for": f"for {draw(st.sampled_from(NAMES))} in {draw(EXPRS)}:",
        "while": "while a:",
        "try": "try:",
    }[kind]
    tail = f"{pad}except Exception:\n{pad}    pass\n" if kind == "try" else ""
    return f"{pad}{head}\n{body}{tail}"


PRELUDE = (
    "from prefect import flow, task, unmapped\nfrom prefect.futures import wait\n"
    "@task\ndef t(x, y=None):\n    return x\n"
    "def helper(x):\n    return t.submit(x)\n"
    "@flow\ndef sub(x):\n    return t.submit(x)\n"
    "@flow\ndef f(a=1, b=2, xs=[1, 2], n=3):\n"
)


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(st.lists(statements(), min_size=1, max_size=8), st.booleans())
def test_fuzz_random_flows_never_crash(body, expand) -> None:
    result = compile_source(PRELUDE + "".join(body), "fuzz.py", expand=expand)
    assert result.flow("f").name == "f"


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(st.integers(1, 150), st.sampled_from(["(", "[", "-", "not ", "f("]))
def test_fuzz_deep_nesting(depth, opener) -> None:
    close = {"(": ")", "[": "]", "-": "", "not ": "", "f(": ")"}[opener]
    src = PRELUDE + f"    x = {opener * depth}a{close * depth}\n    t.submit(x)\n"
    try:
        result = compile_source(src, "deep.py")
    except CompileError as exc:
        assert exc.diagnostics[0].format().startswith("deep.py:")
    else:
        assert result.flow("f").nodes
