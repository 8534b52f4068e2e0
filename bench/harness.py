"""The benchmark harness: run flowc and its baseline interleaved, compare medians, report.

The machine the suite runs on is small and noisy, so no figure is meaningful on its own. Each
benchmark therefore measures flowc *and* a baseline doing the same work without flowc, in the
same process, alternating them (flowc, baseline, flowc, baseline, ...) so that a slow patch of
the machine hits both. It reports the median of each, their ratio (flowc / baseline) and
whether the benchmark's target is met.

A benchmark is declared with :class:`Benchmark`; its ``prepare`` step imports what it needs and
returns a :class:`Workload`: two callables that each take one sample (seconds, or bytes) of
flowc and of the baseline. ``prepare`` raises :class:`Skip` when the benchmark cannot run here.
A miss is a finding, not a failure; only a benchmark that crashes makes the run fail. Each
benchmark runs on a helper thread with a time limit, so one that hangs is reported as such
instead of hanging the suite.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

__all__ = [
    "Benchmark",
    "Result",
    "Skip",
    "Target",
    "Workload",
    "format_table",
    "run_all",
    "timed_pair",
    "write_json",
]

Unit = Literal["s", "B"]


class Skip(Exception):
    """Raised by ``prepare`` when a benchmark cannot run here; the message says why."""


@dataclass(frozen=True)
class Target:
    """What a benchmark must meet.

    ``kind`` is ``"ratio"`` (flowc / baseline at most ``limit``), ``"flowc"`` (flowc's own
    figure at most ``limit``, in the benchmark's unit) or ``"info"`` (reported, not judged).
    """

    kind: Literal["ratio", "flowc", "info"]
    limit: float | None = None

    def describe(self, unit: Unit) -> str:
        if self.kind == "info" or self.limit is None:
            return "-"
        if self.kind == "ratio":
            return f"<= {self.limit:.1f}x"
        return f"<= {self.limit:,.0f} B" if unit == "B" else f"<= {self.limit:g} s"

    def met(self, flowc: float, ratio: float | None) -> bool | None:
        """True or False against the limit; None for an informational benchmark."""
        if self.kind == "info" or self.limit is None:
            return None
        if self.kind == "ratio":
            # Judged as printed (two decimals): "2.00x" never reads as a miss of "<= 2.0x".
            return ratio is not None and round(ratio, 2) <= self.limit
        return flowc <= self.limit


@dataclass
class Workload:
    """What ``prepare`` hands the harness: one-sample callables for flowc and the baseline.

    ``warmup`` runs once, untimed, before the first sample (first pool start, lazy imports,
    bytecode caches); by default it takes one sample of each side and throws it away.
    Measuring code may append to ``problems`` (each one makes the verdict MISS) and ``notes``
    (printed under the table).
    """

    flowc: Callable[[], float]
    baseline: Callable[[], float]
    warmup: Callable[[], None] | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: runs last, whatever happened (temporary files, say).
    cleanup: Callable[[], None] | None = None


@dataclass(frozen=True)
class Benchmark:
    """One named comparison of flowc against a baseline."""

    name: str
    #: one line: what is measured, against what.
    summary: str
    prepare: Callable[[], Workload]
    target: Target
    unit: Unit = "s"
    repeats: int = 9
    quick_repeats: int = 3
    #: printed under the table whenever the benchmark runs (e.g. a reduced size).
    note: str = ""
    #: seconds after which the benchmark is reported as hung and abandoned.
    time_limit: float = 120.0


@dataclass
class Result:
    """The figures of one benchmark (or why there are none)."""

    name: str
    unit: Unit
    target: Target
    status: Literal["ok", "skipped", "error"] = "ok"
    flowc_samples: list[float] = field(default_factory=list)
    baseline_samples: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0
    #: it overran its time limit; its thread may still be blocked.
    hung: bool = False

    @property
    def flowc(self) -> float | None:
        return statistics.median(self.flowc_samples) if self.flowc_samples else None

    @property
    def baseline(self) -> float | None:
        return statistics.median(self.baseline_samples) if self.baseline_samples else None

    @property
    def ratio(self) -> float | None:
        if self.flowc is None or not self.baseline:
            return None
        return self.flowc / self.baseline

    @property
    def verdict(self) -> str:
        if self.status == "skipped":
            return "SKIP"
        if self.status == "error" or self.flowc is None:
            return "ERROR"
        if self.problems:
            return "MISS"
        met = self.target.met(self.flowc, self.ratio)
        if met is None:
            return "info"
        return "PASS" if met else "MISS"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "unit": self.unit,
            "flowc_median": self.flowc,
            "baseline_median": self.baseline,
            "ratio": self.ratio,
            "target": {"kind": self.target.kind, "limit": self.target.limit},
            "verdict": self.verdict,
            "samples": {"flowc": self.flowc_samples, "baseline": self.baseline_samples},
            "problems": self.problems,
            "notes": self.notes,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------- workloads


def timed_pair(
    flowc: Callable[[], Any], baseline: Callable[[], Any], check: bool = True
) -> Workload:
    """A timing workload: each sample is the wall-clock seconds of one call.

    The warm-up calls both once and, with ``check``, insists they return the same value, so
    a benchmark never times a flowc run that silently did something else than its baseline.
    """

    def warmup() -> None:
        got, expected = flowc(), baseline()
        if check and got != expected:
            raise RuntimeError(
                f"flowc and its baseline disagree: {_short(got)} != {_short(expected)}"
            )

    return Workload(flowc=_timer(flowc), baseline=_timer(baseline), warmup=warmup)


def _timer(fn: Callable[[], Any]) -> Callable[[], float]:
    def sample() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return sample


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- running


def run_one(bench: Benchmark, quick: bool) -> Result:
    """Run one benchmark on a helper thread, giving up on it after ``bench.time_limit``.

    A flow run that never finishes (a lost wake-up in a pool, say) would otherwise hang the
    whole suite. A benchmark that overruns is reported as an error with ``hung`` set; its
    thread is left behind (it is a daemon), and ``python -m bench`` then exits without
    waiting for it.
    """
    result = Result(bench.name, bench.unit, bench.target)
    thread = threading.Thread(
        target=_measure, args=(bench, quick, result), name=f"bench-{bench.name}", daemon=True
    )
    thread.start()
    thread.join(bench.time_limit)
    if not thread.is_alive():
        return result
    return Result(
        bench.name,
        bench.unit,
        bench.target,
        status="error",
        reason=f"hung: no result after {bench.time_limit:.0f} s",
        seconds=bench.time_limit,
        hung=True,
    )


def _measure(bench: Benchmark, quick: bool, result: Result) -> None:
    """Prepare, warm up, then take the samples interleaved: flowc, baseline, flowc, ..."""
    started = time.perf_counter()
    work: Workload | None = None
    try:
        work = bench.prepare()
        if work.warmup is not None:
            work.warmup()
        else:
            work.flowc()
            work.baseline()
        for _ in range(bench.quick_repeats if quick else bench.repeats):
            # Collect the previous sample's garbage now, so neither side pays for the other's.
            gc.collect()
            result.flowc_samples.append(work.flowc())
            gc.collect()
            result.baseline_samples.append(work.baseline())
        result.problems.extend(work.problems)
        result.notes.extend([bench.note] if bench.note else [])
        result.notes.extend(work.notes)
    except Skip as exc:
        result.status, result.reason = "skipped", str(exc)
    except Exception as exc:
        result.status = "error"
        result.reason = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    finally:
        if work is not None and work.cleanup is not None:
            work.cleanup()
    result.seconds = time.perf_counter() - started


def run_all(benchmarks: Sequence[Benchmark], quick: bool, out: TextIO) -> list[Result]:
    """Run ``benchmarks`` in order, printing each line of the table as it is measured."""
    print(_header(), file=out, flush=True)
    results = []
    for bench in benchmarks:
        result = run_one(bench, quick)
        results.append(result)
        print(format_row(result), file=out, flush=True)
    notes = [(r.name, text) for r in results for text in (r.problems + r.notes)]
    if notes:
        print("\nnotes:", file=out)
        for name, text in notes:
            print(f"  {name}: {text}", file=out)
    return results


# --------------------------------------------------------------------------- reporting

_COLUMNS = ("benchmark", "flowc", "baseline", "ratio", "target", "verdict")
_WIDTHS = (22, 11, 11, 8, 12, 7)


def _line(cells: Sequence[str]) -> str:
    name, *rest = cells
    parts = [name.ljust(_WIDTHS[0])]
    parts += [cell.rjust(width) for cell, width in zip(rest[:-1], _WIDTHS[1:-1], strict=True)]
    parts.append("  " + rest[-1])
    return " ".join(parts).rstrip()


def _header() -> str:
    return _line(_COLUMNS) + "\n" + "-" * (sum(_WIDTHS) + len(_WIDTHS) + 1)


def format_value(value: float | None, unit: Unit) -> str:
    if value is None:
        return "-"
    if unit == "B":
        return f"{value:,.0f} B"
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1.0:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def format_row(result: Result) -> str:
    if result.status in ("skipped", "error"):
        label = "skipped" if result.status == "skipped" else "ERROR"
        return f"{result.name.ljust(_WIDTHS[0])} {label}: {result.reason}"
    ratio = "-" if result.ratio is None else f"{result.ratio:.2f}x"
    return _line(
        (
            result.name,
            format_value(result.flowc, result.unit),
            format_value(result.baseline, result.unit),
            ratio,
            result.target.describe(result.unit),
            result.verdict,
        )
    )


def format_table(results: Sequence[Result]) -> str:
    return "\n".join([_header(), *(format_row(r) for r in results)])


def write_json(path: str, results: Sequence[Result], quick: bool) -> None:
    document = {
        "schema": "flowc.bench/1",
        "quick": quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "benchmarks": [r.as_dict() for r in results],
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2)
        fh.write("\n")
