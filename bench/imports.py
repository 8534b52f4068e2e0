"""The cost of ``import flowc`` in a fresh interpreter, and what it must not drag in.

Every CLI call and every script that uses flowc pays this once, so it must stay small, and
the heavy optional machinery (``libcst`` for the compiler, Dask, Ray) must load only when
used. Each sample is the wall-clock time of ``python -c "import flowc; <check>"`` minus that
of ``python -c "pass"`` run just before it, so interpreter start-up and shutdown cancel out;
the same subprocess reports which of the heavy modules ended up in ``sys.modules``. Bytecode
is cached (in a private temporary directory) as it is for an installed package.

The baseline is the same measurement of ``import concurrent.futures``, the standard-library
runtime flowc replaces: a reference point, since the target is absolute (at most 0.3 s, and
none of the heavy modules loaded).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import Benchmark, Target, Workload

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("libcst", "dask", "distributed", "ray")
CHECK = f"import sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"


def environment(cache_dir: str) -> dict[str, str]:
    """The subprocesses' environment: bytecode cached in ``cache_dir``.

    An installed package is imported from bytecode caches, as the standard library is here.
    The checkout may be used with ``PYTHONDONTWRITEBYTECODE`` set, which would have flowc
    compiled from source on every import; caching into a private directory instead measures
    an installed flowc, and writes nothing into the checkout.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def _python(code: str, env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    # Run from the project root so the checkout being benchmarked is the one imported.
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def _wall(code: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = _python(code, env)
    return time.perf_counter() - start, done.stdout


def import_sample(module: str, env: dict[str, str], problems: list[str]) -> Callable[[], float]:
    """One sample: seconds to import ``module`` in a fresh interpreter, start-up subtracted."""

    def sample() -> float:
        empty, _ = _wall("pass", env)
        loaded, stdout = _wall(f"import {module}; {CHECK}", env)
        heavy = stdout.split()
        if heavy:
            problem = f"import {module} loaded {', '.join(heavy)}"
            if problem not in problems:
                problems.append(problem)
        return max(loaded - empty, 0.0)

    return sample


def largest_imports(module: str, env: dict[str, str], count: int = 3) -> str:
    """The packages ``import module`` pulls in that cost the most (``-X importtime``)."""

    def cumulative(code: str) -> dict[str, int]:
        times = {}
        for line in _python(code, env, "-X", "importtime").stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, total, name = (part.strip() for part in line.split("|"))
            if total.isdigit():
                times[name] = int(total)
        return times

    startup = cumulative("pass")
    found = cumulative(f"import {module}")
    packages = [
        (us, name)
        for name, us in found.items()
        if "." not in name and name not in startup and not name.startswith(module)
    ]
    largest = sorted(packages, reverse=True)[:count]
    top = ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in largest)
    return f"largest imports it pulls in (cumulative): {top}"


def _prepare() -> Workload:
    cache_dir = tempfile.mkdtemp(prefix="flowc-bench-pycache-")
    env = environment(cache_dir)
    work = Workload(flowc=lambda: 0.0, baseline=lambda: 0.0)
    work.flowc = import_sample("flowc", env, work.problems)
    work.baseline = import_sample("concurrent.futures", env, work.problems)

    def warmup() -> None:
        # Bytecode caches written, files in the page cache; then the import profile as a note.
        work.flowc()
        work.baseline()
        work.notes.append(largest_imports("flowc", env))

    work.warmup = warmup
    work.cleanup = lambda: shutil.rmtree(cache_dir, ignore_errors=True)
    return work


BENCHMARKS = [
    Benchmark(
        "import-time",
        "import flowc in a fresh interpreter, no libcst/dask/distributed/ray; "
        "vs import concurrent.futures",
        _prepare,
        Target("flowc", 0.3),
        repeats=7,
        quick_repeats=3,
    ),
]
