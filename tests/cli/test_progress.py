"""``flowc.cli.progress``: plan-mode progress against totals known before the run starts."""

from __future__ import annotations

import io
import re
import threading
import time
from typing import Any

import pytest
from rich.console import Console

from flowc import capture, flow, task
from flowc.cli.progress import plan_progress, progress_lines_snapshot, totals_from_counts

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@task
def ok(x: int) -> int:
    return x


@task
def bad() -> None:
    raise ValueError("nope")


@task
def after(x: Any) -> Any:
    return x


@task
def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@flow
def mixed() -> None:
    """3 ok runs, 1 failed run and 1 NotReady run (downstream of the failure)."""
    ok.map([1, 2, 3]).wait()
    after.submit(bad.submit()).wait()


@flow
def napping(count: int, seconds: float) -> None:
    nap.map([seconds] * count).wait()


def mixed_records() -> Any:
    with capture() as runs:
        mixed(return_state=True)
    return runs.last.records


def text_of(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


def last_line_with(output: str, needle: str) -> str:
    lines = [line for line in ANSI.sub("", output).splitlines() if needle in line]
    assert lines, f"{needle!r} not in output:\n{output}"
    return lines[-1]


# --------------------------------------------------------------------------- totals and lines


def test_totals_from_counts_sums_per_name_in_first_seen_order() -> None:
    totals = totals_from_counts([("fetch", 10), ("parse", 10), ("fetch", 5), ("sum", 1)])
    assert totals == {"fetch": 15, "parse": 10, "sum": 1}
    assert list(totals) == ["fetch", "parse", "sum"]
    assert totals_from_counts([]) == {}


def test_snapshot_counts_finished_failed_and_not_ready_runs() -> None:
    records = mixed_records()
    assert [r.state.name for r in records].count("NotReady") == 1
    totals = {"ok": 3, "bad": 1, "after": 1, "later": 5}
    line = progress_lines_snapshot(records, totals, elapsed=10.0)
    assert line == "progress: 5/10 task runs (50%) · 2 failed · 10.0s elapsed · ETA 10.0s"


def test_snapshot_before_anything_finished_has_no_eta_and_uses_thousands() -> None:
    line = progress_lines_snapshot([], {"fetch": 1000, "summarise": 1}, elapsed=2.0)
    assert line == "progress: 0/1,001 task runs (0%) · 2.0s elapsed"


def test_snapshot_when_all_done_has_no_eta_and_long_durations_read_as_minutes() -> None:
    records = mixed_records()
    line = progress_lines_snapshot(records, {"ok": 3, "bad": 1, "after": 1}, elapsed=75)
    assert line == "progress: 5/5 task runs (100%) · 2 failed · 1m15s elapsed"


def test_totals_grow_for_unknown_names_and_undercounted_ones() -> None:
    records = mixed_records()
    # "ok" was planned as 1 but ran 3 times; "bad" and "after" were not planned at all.
    line = progress_lines_snapshot(records, {"ok": 1}, elapsed=1.0)
    assert line.startswith("progress: 5/5 task runs (100%) · 2 failed")
    line = progress_lines_snapshot(records, {}, elapsed=1.0)
    assert line.startswith("progress: 5/5 task runs (100%)")


# --------------------------------------------------------------------------- modes


def test_lines_mode_writes_periodic_lines_and_a_final_one() -> None:
    err = Console(file=io.StringIO(), width=200)
    with capture() as runs, plan_progress(runs, {"nap": 4}, err, mode="lines", interval=0.05):
        napping(4, 0.4)
    lines = text_of(err).splitlines()
    assert len(lines) >= 3, lines
    assert all(line.startswith("progress: ") for line in lines)
    assert lines[-1].startswith("progress: 4/4 task runs (100%) · ")
    assert "ETA" not in lines[-1] and "failed" not in lines[-1]


def test_lines_mode_without_any_run_writes_nothing() -> None:
    err = Console(file=io.StringIO())
    with capture() as runs, plan_progress(runs, {"nap": 4}, err, mode="lines", interval=0.01):
        time.sleep(0.05)
    assert text_of(err) == ""


def test_bar_mode_ends_with_every_bar_at_its_total() -> None:
    err = Console(file=io.StringIO(), width=140, force_terminal=True)
    totals = {"ok": 3, "bad": 1, "after": 1}
    with capture() as runs, plan_progress(runs, totals, err, mode="bar"):
        mixed(return_state=True)
    output = text_of(err)
    assert "all tasks" in last_line_with(output, "5/5")
    assert "3/3" in last_line_with(output, "ok")
    assert "(1 failed)" in last_line_with(output, "bad") and "1/1" in last_line_with(output, "bad")
    assert "(1 failed)" in last_line_with(output, "after")
    assert "100%" in last_line_with(output, "all tasks")
    assert "(2 failed)" in last_line_with(output, "all tasks")


def test_bar_mode_grows_a_bar_for_an_unplanned_task() -> None:
    err = Console(file=io.StringIO(), width=140, force_terminal=True)
    with capture() as runs, plan_progress(runs, {"ok": 3}, err, mode="bar"):
        mixed(return_state=True)
    output = text_of(err)
    assert "5/5" in last_line_with(output, "all tasks")
    assert "1/1" in last_line_with(output, "bad") and "1/1" in last_line_with(output, "after")
    plain = ANSI.sub("", output)
    for done, total in re.findall(r"\b(\d+)/(\d+)\b", plain):
        assert int(done) <= int(total)


def test_bar_mode_shows_progress_while_running() -> None:
    err = Console(file=io.StringIO(), width=140, force_terminal=True)
    with capture() as runs, plan_progress(runs, {"nap": 6}, err, mode="bar"):
        napping(6, 0.4)
    counts = re.findall(r"(\d)/6", ANSI.sub("", text_of(err)))
    assert counts[-1] == "6" and len(set(counts)) > 1  # it moved, then ended full


def test_counts_accumulate_over_flow_runs_started_in_the_block() -> None:
    err = Console(file=io.StringIO(), width=140, force_terminal=True)
    with capture() as runs, plan_progress(runs, {"nap": 2, "ok": 3}, err, mode="bar"):
        napping(2, 0.01)
        mixed(return_state=True)
    output = text_of(err)
    assert "2/2" in last_line_with(output, "nap") and "3/3" in last_line_with(output, "ok")
    assert "7/7" in last_line_with(output, "all tasks")


def test_off_mode_writes_nothing_and_starts_no_thread() -> None:
    err = Console(file=io.StringIO(), force_terminal=True)
    with capture() as runs, plan_progress(runs, {"ok": 3}, err, mode="off"):
        assert "flowc-progress" not in _thread_names()
        mixed(return_state=True)
    assert text_of(err) == ""


def test_unknown_mode_is_an_error() -> None:
    err = Console(file=io.StringIO())
    with (
        capture() as runs,
        pytest.raises(ValueError, match="unknown progress mode"),
        plan_progress(runs, {}, err, mode="pie"),  # type: ignore[arg-type]
    ):
        pass


def _thread_names() -> list[str]:
    return [thread.name for thread in threading.enumerate()]


@pytest.mark.parametrize("mode", ["bar", "lines", "off"])
def test_an_exception_propagates_and_leaves_no_thread(mode: Any) -> None:
    @flow
    def failing() -> None:
        ok.submit(1).wait()
        raise KeyError("from the flow")

    err = Console(file=io.StringIO(), force_terminal=True)
    before = threading.active_count()
    with (
        pytest.raises(KeyError, match="from the flow"),
        capture() as runs,
        plan_progress(runs, {"ok": 1}, err, mode=mode, interval=0.01),
    ):
        assert ("flowc-progress" in _thread_names()) == (mode != "off")
        failing()
    assert threading.active_count() == before
    assert "flowc-progress" not in _thread_names()
    shown = ANSI.sub("", text_of(err))
    if mode == "bar":
        assert "1/1" in shown
    elif mode == "lines":  # a run shorter than one interval gets no line at all
        assert shown == "" or "1/1" in shown


def test_keyboard_interrupt_propagates_unchanged() -> None:
    err = Console(file=io.StringIO())
    interrupt = KeyboardInterrupt()
    with (
        pytest.raises(KeyboardInterrupt) as raised,
        capture() as runs,
        plan_progress(runs, {}, err, mode="lines", interval=0.01),
    ):
        raise interrupt
    assert raised.value is interrupt
    assert "flowc-progress" not in _thread_names()


def test_counts_many_runs_exactly() -> None:
    err = Console(file=io.StringIO(), width=200)
    with capture() as runs, plan_progress(runs, {"ok": 2000}, err, mode="lines", interval=0.01):

        @flow
        def many() -> None:
            ok.map(range(2000)).wait()

        many()
    assert text_of(err).splitlines()[-1].startswith("progress: 2,000/2,000 task runs (100%)")


def test_runs_cancelled_by_an_interrupt_are_not_counted_as_progress() -> None:
    from flowc.runtime import engine, states
    from flowc.runtime.inputs import Upstreams
    from flowc.runtime.taskrun import TaskRun

    records = mixed_records()
    cancelled = [TaskRun(records[0].task, "submit", None, {}, Upstreams(), [], None) for _ in "ab"]
    for run in cancelled:
        engine.finalize(run, states.Cancelled("The task run was cancelled before it started."))
    totals = {"ok": 5, "bad": 1, "after": 1}
    line = progress_lines_snapshot(records + cancelled, totals, elapsed=10.0)
    assert line.startswith("progress: 5/7 task runs (71%) · 2 failed · 2 cancelled")
