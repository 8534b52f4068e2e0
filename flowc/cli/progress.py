"""Plan-mode progress: bars whose totals are known before the first task starts.

In plan mode ``flowc run`` knows from the compiled plan how many runs of each task the flow
will make, so it can show real progress (done/total, percentage, ETA) rather than the live
view's running counts. Like :func:`flowc.cli.display.watch`, it only *reads* what the
runtime records anyway — the root flow run's ``records`` — from a poller thread, and never
hooks the engine's hot path: a flow of 100,000 task runs must not pay for its progress bar.

Counting is incremental: each poll looks only at records created since the last poll and at
those that were not yet final then (runs finish out of order, so a single cursor would not
do), which is amortised O(new + unfinished) per poll.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from rich.console import Console
from rich.markup import escape

from flowc.runtime.states import StateType

if TYPE_CHECKING:
    from rich.progress import TaskID

    from flowc.runtime.report import RunCapture
    from flowc.runtime.taskrun import TaskRun

__all__ = ["plan_progress", "progress_lines_snapshot", "totals_from_counts"]

#: Seconds between redraws of the bars (~6 Hz: smooth, yet cheap).
BAR_PERIOD = 1 / 6
#: The poller sleeps at least this many times as long as its last poll took, so that on a
#: huge flow it never takes more than a small share of the interpreter from the run itself.
_IDLE_FACTOR = 20
OVERALL = "all tasks"

_FAILED_TYPES = (StateType.FAILED, StateType.CRASHED)


def totals_from_counts(nodes: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Expected runs per task name; a task called from several places in the plan is one bar."""
    totals: dict[str, int] = {}
    for name, count in nodes:
        totals[name] = totals.get(name, 0) + count
    return totals


# --------------------------------------------------------------------------- counting


def _is_failure(run: TaskRun) -> bool:
    """Failed, crashed and timed out runs, and those that never ran because of one (NotReady)."""
    state = run.state
    return state.type in _FAILED_TYPES or state.name == "NotReady"


class _Tally:
    """Per task name: runs seen, runs final and failures, over one or more record lists.

    Only the poller (or, after it has stopped, the thread that stopped it) calls
    :meth:`update`, so it needs no lock; the engine only ever appends to ``records``.
    """

    def __init__(self) -> None:
        self._cursors: list[_Cursor] = []
        self.seen: collections.Counter[str] = collections.Counter()
        self.done: collections.Counter[str] = collections.Counter()
        self.failed: collections.Counter[str] = collections.Counter()
        #: runs that ended without running (Ctrl-C): final, but not progress.
        self.cancelled: collections.Counter[str] = collections.Counter()

    def follow(self, records: Sequence[TaskRun]) -> None:
        self._cursors.append(_Cursor(records))

    def update(self) -> None:
        for cursor in self._cursors:
            cursor.update(self)

    def count(self, run: TaskRun) -> bool:
        """Count ``run`` if it is final; whether it was."""
        # TaskRun.is_final, not State.is_final: a NotReady run ends Pending, yet is done.
        if not run.is_final():
            return False
        if run.state.is_cancelled():
            self.cancelled[run.task_name] += 1
            return True
        self.done[run.task_name] += 1
        if _is_failure(run):
            self.failed[run.task_name] += 1
        return True

    def totals(self, planned: Mapping[str, int]) -> dict[str, int]:
        """Plan order, then unplanned names as first seen; a total is never below what ran,
        so a wrong or dynamic count grows the bar instead of overflowing it."""
        totals = {name: max(count, self.seen[name]) for name, count in planned.items()}
        for name, count in self.seen.items():
            if name not in totals:
                totals[name] = count
        return totals


class _Cursor:
    """Where counting one list of records stands: how far it has read, and which of the
    records read were not final yet (they finish out of order, so one index cannot say)."""

    def __init__(self, records: Sequence[TaskRun]) -> None:
        self._records = records
        self._next = 0
        self._unfinished: list[int] = []

    def update(self, tally: _Tally) -> None:
        records = self._records
        unfinished = [index for index in self._unfinished if not tally.count(records[index])]
        end = len(records)
        for index in range(self._next, end):
            run = records[index]
            tally.seen[run.task_name] += 1
            if not tally.count(run):
                unfinished.append(index)
        self._next = end
        self._unfinished = unfinished


# --------------------------------------------------------------------------- plain lines


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _line(tally: _Tally, planned: Mapping[str, int], elapsed: float) -> str:
    total = sum(tally.totals(planned).values())
    done = sum(tally.done.values())
    failed = sum(tally.failed.values())
    # Floor, so that 100% means every run is done rather than 99.6% rounded up.
    percent = 100 if total == 0 else done * 100 // total
    parts = [f"progress: {done:,}/{total:,} task runs ({percent}%)"]
    if failed:
        parts.append(f"{failed:,} failed")
    cancelled = sum(tally.cancelled.values())
    if cancelled:
        parts.append(f"{cancelled:,} cancelled")
    parts.append(f"{_duration(elapsed)} elapsed")
    if done and done < total and elapsed > 0:
        parts.append(f"ETA {_duration((total - done) * elapsed / done)}")
    return " · ".join(parts)


def progress_lines_snapshot(
    records: Sequence[TaskRun], totals: Mapping[str, int], elapsed: float
) -> str:
    """One plain line, e.g. 'progress: 412/1,001 task runs (41%) · 3 failed · 12.3s elapsed ·
    ETA 17.6s' (ETA from the rate so far; omitted before the first finished run).

    For logs and CI, where a redrawn bar would be noise."""
    tally = _Tally()
    tally.follow(records)
    tally.update()
    return _line(tally, totals, elapsed)


# --------------------------------------------------------------------------- bars


def _description(name: str, failed: int) -> str:
    text = escape(name)
    return f"{text}  [red]({failed:,} failed)[/red]" if failed else text


class _Bars:
    """A rich Progress with an overall bar first, then one bar per task in plan order."""

    def __init__(self, err: Console, planned: Mapping[str, int]) -> None:
        # Imported here: the plain-lines display (logs, CI) has no use for rich's bars.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
            auto_refresh=False,  # the poller redraws after each count: one thread, not two
        )
        self.overall = self.progress.add_task(OVERALL, total=sum(planned.values()))
        self.bars: dict[str, TaskID] = {}
        for name, total in planned.items():
            self.bars[name] = self.progress.add_task(_description(name, 0), total=total)

    def show(self, tally: _Tally, planned: Mapping[str, int]) -> None:
        totals = tally.totals(planned)
        for name, total in totals.items():
            bar = self.bars.get(name)
            if bar is None:
                bar = self.bars[name] = self.progress.add_task(name, total=total)
            self._set(bar, name, total, tally.done[name], tally.failed[name])
        overall = (sum(totals.values()), sum(tally.done.values()), sum(tally.failed.values()))
        self._set(self.overall, OVERALL, *overall)
        self.progress.refresh()

    def _set(self, bar: TaskID, name: str, total: int, done: int, failed: int) -> None:
        # One call, total first: a changed total resets rich's finish time, so a dynamic bar
        # that caught up once and then grew keeps its elapsed time running.
        self.progress.update(
            bar, total=total, completed=done, description=_description(name, failed)
        )


# --------------------------------------------------------------------------- the poller


class _Watcher:
    """Finds the root flow runs the way ``display.watch`` does (``runs.started``) and tallies
    their records together, so that counts only ever grow, even if a second one starts."""

    def __init__(self, runs: RunCapture) -> None:
        self._runs = runs
        self._followed = 0  # how many of runs.started the tally follows
        self.tally = _Tally()
        self._entered = time.monotonic()

    def poll(self) -> _Tally | None:
        started = self._runs.started
        for flow_run in started[self._followed : len(started)]:
            self.tally.follow(flow_run.records)
            self._followed += 1
        if not self._followed:
            return None
        self.tally.update()
        return self.tally

    def elapsed(self) -> float:
        """Since the first flow run started (loading is not progress), to the last one's end."""
        started = self._runs.started[: self._followed]
        first = started[0].start if started else None
        if first is None:
            return time.monotonic() - self._entered
        return max(0.0, (started[-1].end or time.time()) - first)


@contextlib.contextmanager
def _polling(tick: Callable[[], None], period: float) -> Iterator[None]:
    """Call ``tick`` every ``period`` seconds in a daemon thread; stop and join it on exit."""
    stop = threading.Event()

    def loop() -> None:
        wait = period
        while not stop.wait(wait):
            began = time.perf_counter()
            tick()
            wait = max(period, (time.perf_counter() - began) * _IDLE_FACTOR)

    thread = threading.Thread(target=loop, name="flowc-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def _bar_mode(watcher: _Watcher, totals: Mapping[str, int], err: Console) -> Iterator[None]:
    bars = _Bars(err, totals)

    def tick() -> None:
        tally = watcher.poll()
        if tally is not None:
            bars.show(tally, totals)

    bars.progress.start()
    try:
        with _polling(tick, BAR_PERIOD):
            yield
    finally:
        try:
            tick()  # the poller has stopped: the bars end exact
        finally:
            bars.progress.stop()  # shows the cursor again, whatever happened


@contextlib.contextmanager
def _lines_mode(
    watcher: _Watcher, totals: Mapping[str, int], err: Console, interval: float
) -> Iterator[None]:
    printed = False

    def emit() -> None:
        nonlocal printed
        tally = watcher.poll()
        if tally is not None:
            err.print(_line(tally, totals, watcher.elapsed()), highlight=False, markup=False)
            printed = True

    try:
        with _polling(emit, interval):
            yield
    finally:
        # The closing line only ends a series: a run shorter than one interval is summed up
        # by the summary table alone, as in the live view's terminal-less mode (and its runs
        # are not counted at all: that walk would cost a short run of many tasks its time).
        tally = watcher.poll() if printed else None
        if tally is not None and tally.seen:
            err.print(_line(tally, totals, watcher.elapsed()), highlight=False, markup=False)


@contextlib.contextmanager
def plan_progress(
    runs: RunCapture,
    totals: Mapping[str, int],
    err: Console,
    *,
    mode: Literal["bar", "lines", "off"],
    interval: float = 5.0,
) -> Iterator[None]:
    """Around a plan-mode run: progress against the plan's totals, drawn on ``err``.

    ``bar`` redraws rich bars a few times a second (for a terminal); ``lines`` prints a plain
    line every ``interval`` seconds and one at the end (for logs); ``off`` shows nothing.
    Exceptions from the block propagate unchanged, after the display is torn down.
    """
    if mode == "off":
        yield
        return
    watcher = _Watcher(runs)
    if mode == "bar":
        with _bar_mode(watcher, totals, err):
            yield
    elif mode == "lines":
        with _lines_mode(watcher, totals, err, interval):
            yield
    else:
        raise ValueError(f"unknown progress mode {mode!r}: expected 'bar', 'lines' or 'off'")
