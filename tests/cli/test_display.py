"""``flowc.cli.display``: tables, the live view, warnings, and user tracebacks."""

from __future__ import annotations

import io
import time
import warnings
from typing import Any

from rich.console import Console

import flowc
from flowc import flow, task
from flowc.cli import display
from flowc.runtime.calls import RemoteTraceback
from flowc.runtime.flowrun import UnresolvedFuturesWarning


def render(renderable: Any, width: int = 120) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


@task
def ok(x: int) -> int:
    return x


@task
def bad() -> None:
    raise ValueError("nope")


@flow
def mixed() -> str:
    ok.map([1, 2, 3]).wait()
    bad.submit().wait()
    return "x" * 2000


def run_mixed() -> Any:
    with flowc.capture() as runs:
        mixed()
    return runs.last


def test_summary_table_counts_by_final_state() -> None:
    text = render(display.summary_table(run_mixed().records))
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    assert "Completed" in header and "Failed" in header and "time" in header
    ok_row = next(line for line in text.splitlines() if " ok " in line)
    assert ok_row.split("│")[2].strip() == "3"  # runs
    assert ok_row.split("│")[3].strip() == "3"  # Completed
    bad_row = next(line for line in text.splitlines() if " bad " in line)
    assert [cell.strip() for cell in bad_row.split("│")[2:5]] == ["1", "", "1"]


def test_summary_table_without_runs() -> None:
    assert render(display.summary_table([])).strip() == "no task runs"


def test_live_view_categories() -> None:
    flow_run = run_mixed()
    counts = display.progress_by_task(flow_run.records)
    assert dict(counts["ok"]) == {"completed": 3}
    assert dict(counts["bad"]) == {"failed": 1}
    text = render(display.live_view(flow_run, now=(flow_run.start or 0) + 1.5))
    assert "running" in text and "other" in text
    assert "4 task runs — 0 running, 3 completed, 1 failed, 0 other — 1.50s" in text
    assert "loading" in render(display.live_view(None))


def test_live_display_only_on_a_terminal() -> None:
    err = Console(file=io.StringIO())
    plain = Console(file=io.StringIO(), width=100)
    with flowc.capture() as runs, display.watch(runs, plain, err, live=True):
        mixed()
    assert plain.file.getvalue() == ""  # type: ignore[attr-defined]

    terminal = Console(file=io.StringIO(), width=100, force_terminal=True)
    with flowc.capture() as runs, display.watch(runs, terminal, err, live=True):

        @flow
        def slowish() -> None:
            ok.submit(1).wait()
            time.sleep(0.6)

        slowish()
    assert "completed" in terminal.file.getvalue()  # type: ignore[attr-defined]

    quiet = Console(file=io.StringIO(), width=100, force_terminal=True)
    with flowc.capture() as runs, display.watch(runs, quiet, err, live=False):
        slowish()
    assert quiet.file.getvalue() == ""  # type: ignore[attr-defined]


def test_unresolved_futures_warning_is_one_line() -> None:
    err = Console(file=io.StringIO(), width=40, color_system=None)
    with display.warnings_as_lines(err):
        warnings.warn("first " * 20, UnresolvedFuturesWarning, stacklevel=1)
        warnings.warn("first " * 20, UnresolvedFuturesWarning, stacklevel=1)  # not deduplicated
    lines = err.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 2 and lines[0].startswith("warning: first first")
    assert warnings.showwarning is not display.warnings_as_lines  # restored


def test_other_warnings_keep_the_default_format(recwarn: Any) -> None:
    err = Console(file=io.StringIO())
    with display.warnings_as_lines(err):
        warnings.warn("plain", DeprecationWarning, stacklevel=1)
    assert err.file.getvalue() == ""  # type: ignore[attr-defined]


def test_result_text_truncates() -> None:
    assert display.result_text("abc") == "'abc'"
    long = display.result_text("x" * 2000)
    assert long.endswith("… (2002 characters)") and len(long) < 600

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert display.result_text(Broken()) == "<Broken whose repr() raised RuntimeError: no repr>"


def test_state_text() -> None:
    flow_run = run_mixed()
    assert render(display.state_text(flow_run)).strip() == (
        f"flow run {flow_run.run_name!r} (mixed): Completed"
    )


# --------------------------------------------------------------------------- user exceptions


def user_code(value: int) -> None:
    raise KeyError(value)


def test_format_user_exception_drops_flowc_frames() -> None:
    @flow
    def fails() -> None:
        user_code(3)

    state = fails(return_state=True)
    text = display.format_user_exception(state.exception())
    assert text.startswith("Traceback (most recent call last):")
    assert "in fails" in text and "in user_code" in text
    assert "flowc/runtime" not in text
    assert text.endswith("KeyError: 3")


def test_format_user_exception_chains() -> None:
    try:
        try:
            user_code(1)
        except KeyError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as exc:
        text = display.format_user_exception(exc)
    first, _, second = text.partition("The above exception was the direct cause")
    assert "KeyError: 1" in first and "RuntimeError: wrapped" in second


def test_format_user_exception_remote_traceback() -> None:
    remote = (
        "Traceback (most recent call last):\n"
        '  File "/somewhere/flowc/runtime/calls.py", line 93, in run_call\n'
        "    value = fn(*args, **kwargs)\n"
        "            ^^^^^^^^^^^^^^^^^^^\n"
        '  File "/home/me/flow.py", line 8, in boom\n'
        "    raise ValueError('x')\n"
        "ValueError: x\n"
    ).replace("/somewhere/flowc", display._FLOWC_DIR)
    exc = ValueError("x")
    exc.__cause__ = RemoteTraceback(remote)
    text = display.format_user_exception(exc)
    assert "calls.py" not in text and "fn(*args" not in text
    assert 'File "/home/me/flow.py", line 8, in boom' in text
    assert text.startswith("Worker traceback:")
    assert text.endswith("ValueError: x")


def test_format_exception_without_traceback() -> None:
    assert display.format_user_exception(ValueError("plain")) == "ValueError: plain"


def test_artifacts_table_lists_what_the_run_made() -> None:
    from flowc.artifacts import create_markdown_artifact, create_progress_artifact

    @task
    def report_task() -> None:
        create_markdown_artifact("# Sales\nmore lines", key="gtm-report", description="Quarterly")

    @flow
    def with_artifacts() -> None:
        report_task()
        create_progress_artifact(42.5, key="load")

    @flow
    def without_artifacts() -> None:
        ok(1)

    with flowc.capture() as runs:
        with_artifacts()
        without_artifacts()
    made, plain = runs.flow_runs
    text = render(display.artifacts_table(made))
    task_run_name = made.records[0].name
    assert "gtm-report" in text and "Quarterly" in text and task_run_name in text
    assert "# Sales…" in text and "more lines" not in text
    assert "load" in text and "42.5%" in text and made.run_name in text
    assert display.artifacts_table(plain) is None


def test_server_required_error_is_one_line() -> None:
    from flowc.server import ServerRequiredError, server_required

    try:
        server_required("my-flow.serve()")
    except ServerRequiredError as exc:
        text = display.format_user_exception(exc)
    assert text.count("\n") == 0
    assert text.startswith("ServerRequiredError: my-flow.serve() needs a Prefect server")
