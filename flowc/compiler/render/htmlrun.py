"""A run report as the HTML view shows it: the flow's outcome, a timeline, per-task durations.

Like Dask's ``performance_report``, the page answers "what happened, and where did the time
go" without a server. A report records no worker per task run (threads and processes are
interchangeable slots), so unless a record names its ``worker`` the timeline packs runs into
lanes the way a pool of workers would have held them: a run takes the first lane free at its
start. The number of lanes is then the run's peak concurrency.
"""

from __future__ import annotations

import datetime
import heapq
import statistics
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from flowc.compiler.render.runs import STYLES, state_class
from flowc.compiler.render.view import site_of

if TYPE_CHECKING:
    from flowc.compiler.render.runs import RunOverlay, RunRecord

__all__ = ["MAX_BARS", "duration_stats", "lanes_for", "run_data"]

#: Timeline bars drawn at most; the page says how many were left out.
MAX_BARS = 5_000


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def lanes_for(spans: list[tuple[float, float]]) -> list[int]:
    """Per span (start, end), a lane such that no two spans of a lane overlap; fewest lanes."""
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    free: list[int] = []  # lanes free again, smallest first
    busy: list[tuple[float, int]] = []  # (end, lane)
    lanes = [0] * len(spans)
    count = 0
    for i in order:
        start, end = spans[i]
        while busy and busy[0][0] <= start:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            lane = heapq.heappop(free)
        else:
            lane, count = count, count + 1
        lanes[i] = lane
        heapq.heappush(busy, (end, lane))
    return lanes


def duration_stats(durations: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Per task: runs timed, min, median, mean, p95, max and total seconds; longest total first."""
    rows = []
    for task, values in durations.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        rows.append(
            {
                "task": task,
                "timed": len(ordered),
                "min": ordered[0],
                "median": statistics.median(ordered),
                "mean": statistics.fmean(ordered),
                "p95": p95,
                "max": ordered[-1],
                "total": sum(ordered),
            }
        )
    return sorted(rows, key=lambda row: -row["total"])


def _timeline(
    overlay: RunOverlay, origin: float
) -> tuple[list[dict[str, Any]], list[str], dict[str, list[float]]]:
    records: list[tuple[RunRecord, str | None, float, float]] = []
    durations: dict[str, list[float]] = defaultdict(list)
    sites = {node.id: site_of(node) for node in overlay.plan.flows[0].nodes}
    for record, placed in zip(overlay.report.records, overlay.placed, strict=True):
        start, end = _seconds(record.start), _seconds(record.end)
        if start is None:
            continue
        end = max(end if end is not None else start, start)
        durations[record.task].append(end - start)
        site = None if placed is None else sites.get(placed, placed)
        records.append((record, site, start, end))
    if any(record.worker for record, *_ in records):
        names = sorted({record.worker or "?" for record, *_ in records})
        lane_of = {name: i for i, name in enumerate(names)}
        lanes = [lane_of[record.worker or "?"] for record, *_ in records]
        labels = names
    else:
        lanes = lanes_for([(start, end) for _, _, start, end in records])
        labels = [f"lane {i + 1}" for i in range(max(lanes, default=-1) + 1)]
    bars = [
        {
            "name": record.name or record.task,
            "task": record.task,
            "node": site,
            "s": round((start - origin) * 1000, 3),
            "e": round((end - origin) * 1000, 3),
            "tries": record.run_count,
            "state": record.state,
            "stateName": record.state_name,
            "lane": lane,
        }
        for (record, site, start, end), lane in zip(records, lanes, strict=True)
    ]
    return bars, labels, durations


def run_data(overlay: RunOverlay) -> dict[str, Any]:
    """The ``run`` part of the page's data."""
    report = overlay.report
    starts = [s for s in (_seconds(r.start) for r in report.records) if s is not None]
    flow_start = _seconds(report.start)
    # the timeline spans the task runs: the flow's own start-up would squeeze them to a sliver
    origin = min(starts, default=flow_start or 0.0)
    bars, lanes, durations = _timeline(overlay, origin)
    stats = duration_stats(durations)
    failed: dict[str, int] = defaultdict(int)
    retries: dict[str, int] = defaultdict(int)
    for record in report.records:
        if record.state in ("failed", "cancelled"):
            failed[record.task] += 1
        if record.run_count and record.run_count > 1:
            retries[record.task] += record.run_count - 1
    for row in stats:
        row["failed"] = failed.get(row["task"], 0)
        row["retries"] = retries.get(row["task"], 0)
    end = _seconds(report.end)
    return {
        "flowRun": report.flow_run,
        "flow": report.flow,
        "state": state_class(report.state_type, report.state_name),
        "stateName": report.state_name,
        "message": report.message,
        "result": report.result,
        "start": report.start,
        "end": report.end,
        "duration": None
        if end is None or flow_start is None
        else round((end - flow_start) * 1000, 3),
        "firstTaskAfter": None if flow_start is None else round((origin - flow_start) * 1000, 3),
        "taskRuns": len(report.records),
        "mappedBy": overlay.mapped_by(),
        "unmatched": overlay.unmatched,
        "timeline": bars[:MAX_BARS],
        "timelineLeftOut": max(0, len(bars) - MAX_BARS),
        "lanes": lanes,
        "stats": stats,
        "artifacts": report.artifacts,
        "styles": {
            state: {"fill": style.fill, "stroke": style.stroke, "legend": style.legend}
            for state, style in STYLES.items()
        },
    }
