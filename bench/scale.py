"""Group S: plan mode against dynamic mode at scale, as a user runs them — whole processes.

The flow is a two-stage map, ``a = inc.map(range(n)); b = add.map(a, range(n));
sum(b.result())`` (2n task runs), run by ``flowc run FILE -p n=N --plan on`` and
``--plan off`` back to back, each in its own process: the compile, the runs and the report
are all in the figure, as a user sees them. Every run's printed result is checked.

* ``S<k>-<runner>`` (``k``: 1 the small size, 2 the large, 3 the full): wall time of plan mode
  against dynamic mode (target: plan no slower on threads, ``<= 1.0x``; plan at least 5x
  faster on processes, where it batches, ``<= 0.2x``); the notes give µs and peak bytes per
  run for both.
* ``S<k>-threads-memory``: the driver's peak memory, plan against dynamic (``<= 1.0x``).
* ``S-loop-threads`` (and ``-memory``): the same at the small size for submits made in a loop
  (``inc.submit(i)`` then ``inc.submit(a)`` per iteration, then a reduce), as Prefect users
  write them (``<= 1.0x``).
* ``S-growth-threads``: plan mode's per-run time at the largest size against the smallest
  (``<= 1.2x`` over x10, or x100 with ``--scale full``).
* ``S-graph-wide``: ``flowc graph`` of a 1,000,000-wide map against a 10-wide one (``<= 1.0x``).
* ``S-expand``: ``flowc graph --expand -f json`` of 200,000 runs, seconds (``<= 3 s``), with
  its peak memory in the notes (target 200 MB).

Plan mode is measured as a user rerunning a file sees it: its compiled plan cached (the
warm-up run compiles it; that cold figure is in the notes).
Sizes: 20,000 and 200,000 runs; 2,000,000 too with ``python -m bench S --scale full``.
``--quick`` takes 2,000 and 20,000 runs instead.
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

FLOW = """\
from prefect import flow, task


@task
def inc(x):
    return x + 1


@task
def add(x, y):
    return x + y


@flow
def two_stage(n: int = 10):
    a = inc.map(range(n))
    b = add.map(a, range(n))
    return sum(b.result())
"""

#: Submits in a loop, each iteration's two runs waiting only on each other, then a reduce
#: (``2n + 1`` task runs): what a Prefect user writes where the two-stage map is not at hand.
LOOP_FLOW = """\
from prefect import flow, task


@task
def inc(x):
    return x + 1


@task
def total(xs):
    return sum(xs)


@flow
def two_stage(n: int = 10):
    futures = []
    for i in range(n):
        a = inc.submit(i)
        futures.append(inc.submit(a))
    return total.submit(futures).result()
"""

#: Runs the flowc CLI and writes the process's peak resident memory (bytes) to the file
#: named by FLOWC_BENCH_PEAK when it exits, however it exits. The peak is the kernel's
#: high-water mark of this program's own memory (VmHWM): ``ru_maxrss`` would carry over the
#: parent's peak when the parent's memory was larger (Linux keeps it across exec).
_PEAK = """\
import os, resource, sys
from flowc.cli import main
def peak():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    main()
finally:
    with open(os.environ["FLOWC_BENCH_PEAK"], "w") as out:
        out.write(str(peak()))
"""

SUBPROCESS_TIMEOUT = 1800


def _quick() -> bool:
    return "--quick" in sys.argv[1:] or os.environ.get("FLOWC_BENCH_QUICK") == "1"


def _full() -> bool:
    return os.environ.get("FLOWC_BENCH_SCALE") == "full"


class _Workdir:
    """The flow file and the peak-memory file, in one temporary directory."""

    def __init__(self, flow: str = FLOW) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="flowc-bench-scale-"))
        self.flow = self.dir / "two_stage.py"
        self.flow.write_text(flow)
        self.peak_file = self.dir / "peak"
        #: flowc's plan cache for these runs only (see flowc.runplan)
        self.home = self.dir / "home"

    def flowc(self, *args: str) -> tuple[float, int, str]:
        """Run ``flowc ARGS``: (wall seconds, peak bytes, stdout)."""
        env = dict(os.environ, FLOWC_BENCH_PEAK=str(self.peak_file), FLOWC_HOME=str(self.home))
        env["COLUMNS"] = "120"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _PEAK, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=SUBPROCESS_TIMEOUT,
            cwd=self.dir,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"flowc {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return seconds, int(self.peak_file.read_text()), done.stdout

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _expected(n: int) -> int:
    return sum(2 * i + 1 for i in range(n))


def _run_pair(size: int, runner: str, memory: bool, loop: bool = False) -> Workload:
    """Plan against dynamic for ``size`` runs (``size // 2`` items per map, or iterations of
    the loop) on ``runner``."""
    work = _Workdir(LOOP_FLOW if loop else FLOW)
    n = size // 2
    expected = sum(i + 2 for i in range(n)) if loop else _expected(n)
    peaks: dict[str, list[int]] = {"on": [], "off": []}
    seconds: dict[str, list[float]] = {"on": [], "off": []}

    def sample(mode: str) -> Callable[[], float]:
        def run() -> float:
            took, peak, out = work.flowc(
                "run", str(work.flow), "-p", f"n={n}", "--plan", mode, "--runner", runner
            )
            if f"result: {expected}" not in out:
                workload.problems.append(f"--plan {mode}: wrong or missing result: {out[-200:]}")
            peaks[mode].append(peak)
            seconds[mode].append(took)
            notes()
            return float(peak) if memory else took

        return run

    def notes() -> None:
        cells = []
        for mode, label in (("on", "plan"), ("off", "dynamic")):
            if seconds[mode]:
                per_run = min(seconds[mode]) / size * 1e6
                per_peak = min(peaks[mode]) / size
                cells.append(f"{label} {per_run:,.0f} µs/run, peak {per_peak:,.0f} B/run")
        if cold:
            cells.append(f"first plan run (compiling, cold cache) {cold[0]:.2f} s")
        workload.notes[:] = ["; ".join(cells)]

    def warmup() -> None:
        """The first run of a file compiles it (cold); later ones read its cached plan."""
        took, _peak, _out = work.flowc(
            "run", str(work.flow), "-p", f"n={n}", "--plan", "on", "--runner", runner
        )
        cold[:] = [took]

    cold: list[float] = []
    workload = Workload(sample("on"), sample("off"), warmup=warmup, cleanup=work.cleanup, notes=[])
    return workload


def _growth(small: int, large: int) -> Workload:
    """Plan mode's per-run time at ``large`` runs against ``small`` runs (threads)."""
    work = _Workdir()

    def per_run(size: int) -> Callable[[], float]:
        def run() -> float:
            took, _peak, out = work.flowc(
                "run", str(work.flow), "-p", f"n={size // 2}", "--plan", "on"
            )
            if f"result: {_expected(size // 2)}" not in out:
                workload.problems.append(f"{size} runs: wrong or missing result")
            return took / size

        return run

    workload = Workload(per_run(large), per_run(small), warmup=lambda: None, cleanup=work.cleanup)
    return workload


def _graph_wide() -> Workload:
    """``flowc graph`` (JSON) of a 1,000,000-wide map against a 10-wide one."""
    work = _Workdir()

    def graph(n: int) -> Callable[[], float]:
        def run() -> float:
            out = str(work.dir / f"wide-{n}.json")
            took, _peak, _ = work.flowc(
                "graph", str(work.flow), "-p", f"n={n}", "-f", "json", "-o", out
            )
            return took

        return run

    return Workload(graph(1_000_000), graph(10), cleanup=work.cleanup)


def _expand(size: int) -> Workload:
    """``flowc graph --expand -f json`` of ``size`` runs: seconds, judged against 3 s."""
    work = _Workdir()
    n = size // 2

    def run() -> float:
        out = work.dir / "expanded.json"
        took, peak, _ = work.flowc(
            "graph", str(work.flow), "-p", f"n={n}", "--expand", "-f", "json", "-o", str(out)
        )
        written = out.read_text()
        if written.count('"id": "add@') != n:
            workload.problems.append(f"expected {n} runs of add@ listed")
        workload.notes[:] = [f"peak {peak / 2**20:,.0f} MB (target 200 MB), {len(written):,} B"]
        if peak > 200 * 2**20:
            workload.problems.append(f"peak memory {peak / 2**20:,.0f} MB > 200 MB")
        return took

    workload = Workload(run, lambda: 0.0, warmup=lambda: None, cleanup=work.cleanup, notes=[])
    return workload


def _sizes() -> list[int]:
    if _quick():
        return [2_000, 20_000]
    return [20_000, 200_000, 2_000_000] if _full() else [20_000, 200_000]


def _benchmarks() -> list[Benchmark]:
    out: list[Benchmark] = []
    sizes = _sizes()
    limit = 3600.0
    for rank, size in enumerate(sizes, 1):
        out.append(
            Benchmark(
                f"S{rank}-threads",
                f"flowc run --plan on vs --plan off, two-stage map, {size:,} runs, threads",
                lambda size=size: _run_pair(size, "threads", memory=False),  # type: ignore[misc]
                Target("ratio", 1.0),
                repeats=3,
                quick_repeats=1,
                time_limit=limit,
            )
        )
        out.append(
            Benchmark(
                f"S{rank}-threads-memory",
                f"peak memory of the same two processes, {size:,} runs, threads",
                lambda size=size: _run_pair(size, "threads", memory=True),  # type: ignore[misc]
                Target("ratio", 1.0),
                unit="B",
                repeats=1,
                quick_repeats=1,
                time_limit=limit,
            )
        )
    for rank, size in enumerate(sizes[:2], 1):
        out.append(
            Benchmark(
                f"S{rank}-processes",
                f"flowc run --plan on vs --plan off, two-stage map, {size:,} runs, processes",
                lambda size=size: _run_pair(size, "processes", memory=False),  # type: ignore[misc]
                Target("ratio", 0.2),
                repeats=1,
                quick_repeats=1,
                time_limit=limit,
            )
        )
    loop_size = sizes[0]
    out.append(
        Benchmark(
            "S-loop-threads",
            f"flowc run --plan on vs --plan off, submits in a loop, {loop_size:,} runs, threads",
            lambda: _run_pair(loop_size, "threads", memory=False, loop=True),
            Target("ratio", 1.0),
            repeats=3,
            quick_repeats=1,
            time_limit=limit,
        )
    )
    out.append(
        Benchmark(
            "S-loop-threads-memory",
            f"peak memory of the same two processes, submits in a loop, {loop_size:,} runs",
            lambda: _run_pair(loop_size, "threads", memory=True, loop=True),
            Target("ratio", 1.0),
            unit="B",
            repeats=3,
            quick_repeats=1,
            time_limit=limit,
        )
    )
    out.append(
        Benchmark(
            "S-growth-threads",
            f"plan mode µs/run at {sizes[-1]:,} runs vs at {sizes[0]:,} runs, threads",
            lambda: _growth(sizes[0], sizes[-1]),
            Target("ratio", 1.2),
            repeats=3,
            quick_repeats=1,
            time_limit=limit,
        )
    )
    out.append(
        Benchmark(
            "S-graph-wide",
            "flowc graph -f json of a 1,000,000-wide map vs a 10-wide one",
            _graph_wide,
            Target("ratio", 1.0),
            repeats=9,
            quick_repeats=1,
        )
    )
    out.append(
        Benchmark(
            "S-expand",
            "flowc graph --expand -f json of 200,000 runs (seconds; peak memory in the notes)",
            lambda: _expand(20_000 if _quick() else 200_000),
            Target("flowc", 3.0),
            repeats=3,
            quick_repeats=1,
            time_limit=600,
        )
    )
    return out


BENCHMARKS = _benchmarks()
