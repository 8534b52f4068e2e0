"""What ``flowc run`` shows: a live per-task view while the flow runs, then a summary.

It reads only what the runtime records anyway — the root flow run's ``records`` (one
:class:`~flowc.runtime.taskrun.TaskRun` per task run, subflows included) — and never slows the
run down: the live view is redrawn from those records a few times a second by rich's own
thread, and is shown only on a terminal. Building the tables is separate from printing them,
so they are testable without one.

It also owns how the user's own exceptions are shown: with their code's frames only, never
flowc's (a task that fails in a worker process keeps its worker-side traceback).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from flowc.runtime.flowrun import UnresolvedFuturesWarning
from flowc.runtime.states import State, StateType

if TYPE_CHECKING:
    from flowc.runtime.flowrun import FlowRun
    from flowc.runtime.report import RunCapture
    from flowc.runtime.taskrun import TaskRun

__all__ = [
    "LIVE_COLUMNS",
    "artifacts_table",
    "failure_detail",
    "format_user_exception",
    "live_category",
    "live_view",
    "progress_by_task",
    "result_text",
    "state_text",
    "summary_table",
    "watch",
]

#: The live view's columns, in order: every state falls in exactly one.
LIVE_COLUMNS = ("running", "completed", "failed", "other")
#: Final state names in the order the summary shows them; others follow, sorted.
STATE_ORDER = ("Completed", "Cached", "Failed", "TimedOut", "Crashed", "NotReady", "Cancelled")
MAX_LIVE_ROWS = 20
MAX_RESULT_CHARS = 500
MAX_ARTIFACT_CHARS = 60

_STYLES = {
    StateType.COMPLETED: "green",
    StateType.FAILED: "red",
    StateType.CRASHED: "red",
    StateType.CANCELLED: "yellow",
}
_FLOWC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------- live view


def live_category(state: State) -> str:
    if state.type is StateType.RUNNING:
        return "running"
    if state.type is StateType.COMPLETED:
        return "completed"
    if state.type in (StateType.FAILED, StateType.CRASHED):
        return "failed"
    return "other"


def progress_by_task(records: Sequence[TaskRun]) -> dict[str, collections.Counter[str]]:
    """Per task name (in order of first run), how many runs are in each live category."""
    counts: dict[str, collections.Counter[str]] = {}
    for run in list(records):
        counter = counts.get(run.task_name)
        if counter is None:
            counter = counts[run.task_name] = collections.Counter()
        counter[live_category(run.state)] += 1
    return counts


def live_view(flow_run: FlowRun | None, now: float | None = None) -> RenderableType:
    """The table the live display redraws: one row per task, then an overall line."""
    if flow_run is None:
        return Text("loading…", style="dim")
    counts = progress_by_task(flow_run.records)
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("task")
    for column in LIVE_COLUMNS:
        table.add_column(column, justify="right")
    rows = list(counts.items())
    for name, counter in rows[-MAX_LIVE_ROWS:]:
        table.add_row(name, *(_count(counter[column]) for column in LIVE_COLUMNS))
    total: collections.Counter[str] = collections.Counter()
    for counter in counts.values():
        total.update(counter)
    elapsed = (now or time.time()) - (flow_run.start or now or time.time())
    parts = ", ".join(f"{total[column]} {column}" for column in LIVE_COLUMNS)
    hidden = len(rows) - MAX_LIVE_ROWS
    overall = Text(
        f"flow run {flow_run.run_name!r}: {sum(total.values())} task runs — {parts} "
        f"— {_duration(elapsed)}" + (f" ({hidden} more tasks not shown)" if hidden > 0 else "")
    )
    return Group(table, overall)


def _count(value: int) -> str:
    return str(value) if value else ""


@contextlib.contextmanager
def watch(
    runs: RunCapture, out: Console, err: Console, live: bool, view: bool = True
) -> Iterator[None]:
    """Around a load and run: the live view (if ``live`` on a terminal), warnings, run logs.

    ``view=False`` keeps the logs and warnings but leaves the terminal to another display
    (plan mode's progress bars).
    """
    with _run_logging(err, verbose=live), warnings_as_lines(err):
        if not (live and view and out.is_terminal):
            yield
            return
        display = Live(
            console=out,
            get_renderable=lambda: live_view(runs.started[-1] if runs.started else None),
            refresh_per_second=4,
            transient=True,
        )
        with display:
            yield


@contextlib.contextmanager
def warnings_as_lines(err: Console) -> Iterator[None]:
    """Each unresolved-futures warning as one yellow line, not Python's warning format."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", UnresolvedFuturesWarning)
        original = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, UnresolvedFuturesWarning):
                err.print(Text(f"warning: {message}", style="yellow"), soft_wrap=True)
            else:
                original(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


class _RunFormatter(logging.Formatter):
    """``12:00:01 | INFO | say_hello-3fa - message``: names the run, as Prefect's logs do."""

    def format(self, record: logging.LogRecord) -> str:
        run = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        text = f"{stamp} | {record.levelname:<7} | {run or record.name} - {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


@contextlib.contextmanager
def _run_logging(err: Console, verbose: bool) -> Iterator[None]:
    """Show ``get_run_logger()`` records (INFO; WARNING when quiet) unless logging is set up."""
    logger = logging.getLogger("flowc")
    if logger.handlers or logging.getLogger().handlers:
        yield
        return

    class _ToConsole(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            err.print(Text(self.format(record)), soft_wrap=True)

    handler = _ToConsole(logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(_RunFormatter())
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > handler.level:
        logger.setLevel(handler.level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# --------------------------------------------------------------------------- summary


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes:.0f}m{rest:02.0f}s"


def _state_names(records: Sequence[TaskRun]) -> list[str]:
    present = {run.state.name for run in records}
    ordered = [name for name in STATE_ORDER if name in present]
    return ordered + sorted(present - set(STATE_ORDER))


def summary_table(records: Sequence[TaskRun]) -> RenderableType:
    """Per task name: runs, how many ended in each state, and the time spent running."""
    records = list(records)
    if not records:
        return Text("no task runs", style="dim")
    names = _state_names(records)
    by_task: dict[str, list[TaskRun]] = {}
    for run in records:
        by_task.setdefault(run.task_name, []).append(run)
    table = Table(title="task runs", title_justify="left", header_style="bold")
    table.add_column("task")
    table.add_column("runs", justify="right")
    for name in names:
        table.add_column(name, justify="right", style=_name_style(name))
    table.add_column("time", justify="right")
    for task, runs in by_task.items():
        states = collections.Counter(run.state.name for run in runs)
        spent = sum(
            run.end - run.start for run in runs if run.start is not None and run.end is not None
        )
        table.add_row(task, str(len(runs)), *(_count(states[n]) for n in names), _duration(spent))
    return table


def artifacts_table(flow_run: FlowRun) -> RenderableType | None:
    """The artifacts the run made (key, type, the run that made it, description, data), if any."""
    from flowc.runtime.artifacts import artifacts_of

    artifacts = artifacts_of(flow_run)
    if not artifacts:
        return None
    # only runs that made an artifact asked for their id; reading ``id`` would make one
    made_by = {str(run.id): run.name for run in flow_run.records if run._id is not None}
    made_by.update((str(run.id), run.run_name) for run in flow_run.flow_runs)
    table = Table(title="artifacts", title_justify="left", header_style="bold")
    for column in ("key", "type", "made by", "description", "data"):
        table.add_column(column, overflow="ellipsis", no_wrap=column == "data")
    for artifact in artifacts:
        run = artifact.task_run or artifact.flow_run
        data = artifact.data
        shown = f"{data:g}%" if artifact.type == "progress" else str(data).strip()
        table.add_row(
            artifact.key or "-",
            artifact.type,
            made_by.get(run or "", run or "-"),
            artifact.description or "",
            _first_line(shown, MAX_ARTIFACT_CHARS),
        )
    return table


def _first_line(text: str, limit: int) -> str:
    line, _, rest = text.partition("\n")
    if len(line) > limit or rest:
        return line[:limit] + "…"
    return line


def _name_style(name: str) -> str:
    if name in ("Completed", "Cached"):
        return "green"
    if name in ("Failed", "TimedOut", "Crashed"):
        return "red"
    return "yellow"


def state_text(flow_run: FlowRun) -> Text:
    """``flow run 'hello-flow-1a2b3c' (hello-flow): Completed — All states completed.``"""
    state = flow_run.state
    text = Text(f"flow run {flow_run.run_name!r} ({flow_run.name}): ")
    text.append(state.name, style=_STYLES.get(state.type, "yellow") + " bold")
    if state.message:
        text.append(f" — {state.message}")
    return text


def result_text(value: Any, limit: int = MAX_RESULT_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters with a note of how long it was."""
    try:
        shown = repr(value)
    except Exception as exc:
        return f"<{type(value).__name__} whose repr() raised {type(exc).__name__}: {exc}>"
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}… ({len(shown)} characters)"


# --------------------------------------------------------------------------- user exceptions


def _is_user_frame(filename: str) -> bool:
    if filename.startswith("<frozen "):
        return False
    return not os.path.abspath(filename).startswith(_FLOWC_DIR + os.sep)


def _chain(exc: BaseException) -> list[tuple[BaseException, str | None]]:
    """The exception and its causes/contexts, oldest first, each with the line that links it."""
    chain: list[tuple[BaseException, str | None]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link: str | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current = current.__cause__
            link = "The above exception was the direct cause of the following exception:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
            link = "During handling of the above exception, another exception occurred:"
        else:
            current = None
    chain.reverse()
    # Each link belongs before the exception that follows it in reading order.
    return [(item, chain[i - 1][1] if i else None) for i, (item, _) in enumerate(chain)]


def _filter_traceback_text(text: str) -> str:
    """Drop flowc's frames from a traceback that arrives as text (from a worker process)."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if line.startswith('  File "'):
            filename = line[len('  File "') :].split('"', 1)[0]
            skipping = not _is_user_frame(filename)
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _format_one(exc: BaseException) -> str:
    remote = getattr(exc, "tb", None)
    if type(exc).__name__.endswith("RemoteTraceback") and isinstance(remote, str):
        return "Worker traceback:\n" + _filter_traceback_text(remote)
    frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__) if _is_user_frame(frame.filename)
    ]
    text = ""
    if frames:
        text = "Traceback (most recent call last):\n"
        text += "".join(traceback.StackSummary.from_list(frames).format())
    return text + "".join(traceback.format_exception_only(type(exc), exc))


def failure_detail(exc: BaseException) -> str | None:
    """What to show of a flow run's exception beyond its state line: the user's traceback,
    or nothing for flowc's own error about the run (a cluster that cannot be reached), which
    the state line already gives in full."""
    from flowc.exceptions import FlowcError

    if isinstance(exc, FlowcError) and not any(
        _is_user_frame(frame.filename) for frame in traceback.extract_tb(exc.__traceback__)
    ):
        return None
    return format_user_exception(exc)


def format_user_exception(exc: BaseException) -> str:
    """The exception as Python prints it, with only the user's frames (not flowc's)."""
    from flowc.server import ServerRequiredError

    if isinstance(exc, ServerRequiredError):  # not a bug to trace: a feature flowc lacks
        return f"{type(exc).__name__}: {exc}"
    parts: list[str] = []
    for item, link in _chain(exc):
        if link:
            parts.append(f"\n{link}\n\n")
        parts.append(_format_one(item))
    return "".join(parts).rstrip("\n")
