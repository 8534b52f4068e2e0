"""``flowc lint``: a 5,000-line generated file vs ``libcst.parse_module``; the cache; a process.

L1 lints the file (the compiler's walk and every rule) against a bare parse (target ratio
<= 2.5x). L2 lints a tree of files a second time with the cache against the first run
without it (target <= 0.1x). L3 runs ``flowc lint one_small_file.py`` as a whole process
(target <= 0.5 s).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.compiler import generate
from bench.harness import Benchmark, Target, Workload, timed_pair

LINES = 5_000
_CLI = (
    "import typer; from flowc.lint.cli import register; app = typer.Typer(); register(app); app()"
)


def _prepare_speed() -> Workload:
    import libcst

    from flowc.lint import lint_source

    source = generate(LINES)
    return timed_pair(
        lambda: lint_source(source, "gen.py") and None,
        lambda: libcst.parse_module(source) and None,
    )


def _tree() -> Path:
    root = Path(tempfile.mkdtemp(prefix="flowc-bench-lint-"))
    (root / "pyproject.toml").write_text("[tool.flowc.lint]\n")
    for i in range(20):
        (root / f"flow{i}.py").write_text(generate(250))
    return root


def _prepare_cache() -> Workload:
    from flowc.lint.runner import Options, lint_paths

    root = _tree()

    def cached() -> None:
        lint_paths([root], Options(cache=True))

    def cold() -> None:
        lint_paths([root], Options(cache=False))

    work = timed_pair(cached, cold, check=False)
    work.cleanup = lambda: shutil.rmtree(root, ignore_errors=True)
    return work


def _prepare_process() -> Workload:
    root = Path(tempfile.mkdtemp(prefix="flowc-bench-lint1-"))
    small = root / "small.py"
    small.write_text(generate(40))
    command = [sys.executable, "-c", _CLI, "lint", "--no-cache", "--exit-zero", str(small)]

    def run() -> None:
        subprocess.run(command, check=True, capture_output=True)

    def python() -> None:
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)

    work = timed_pair(run, python, check=False)
    work.cleanup = lambda: shutil.rmtree(root, ignore_errors=True)
    return work


BENCHMARKS = [
    Benchmark(
        "L1-lint",
        f"lint_source of a {LINES:,}-line flow file; vs libcst.parse_module",
        _prepare_speed,
        Target("ratio", 2.5),
        repeats=5,
        quick_repeats=2,
    ),
    Benchmark(
        "L2-lint-cache",
        "lint of 20 files with a warm cache; vs the same lint without cache",
        _prepare_cache,
        Target("ratio", 0.1),
        repeats=5,
        quick_repeats=2,
    ),
    Benchmark(
        "L3-lint-process",
        "`flowc lint small.py` as a process (no cache); vs `python -c pass`",
        _prepare_process,
        Target("flowc", 0.5),
        repeats=5,
        quick_repeats=2,
    ),
]
