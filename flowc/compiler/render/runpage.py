"""``flowc run FILE --html PAGE``: the run just made, drawn on its flow's graph, as one page.

The run side hands over its ``flowc.run/1`` report as a dict; the file is then compiled (read
with libcst, never imported again) and the report laid over its plan exactly as
``flowc graph FILE --run REPORT.json --format html`` does, so both routes give the same page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowc.compiler.render.command import compile_target, write_atomic
from flowc.compiler.render.html import to_html
from flowc.compiler.render.runs import RunOverlay, flow_for, report_from

__all__ = ["run_page", "write_run_page"]


def run_page(report: dict[str, Any], target: str, params: Sequence[str] = ()) -> str:
    """The HTML page of ``report``, a run of ``target`` (``FILE[:FLOW]``) with ``params``."""
    where = Path(f"<run of {target}>")
    # through JSON, as a report file would be: whatever the run left in it becomes plain data
    raw = json.loads(json.dumps(report, default=str))
    parsed = report_from(raw, where)
    compiled = compile_target(target, params)
    flow = flow_for(parsed, compiled, where)
    plan = compiled.plan.model_copy(update={"flows": [flow]})
    overlay = RunOverlay.build(plan, parsed)
    return to_html(plan.flows, runs=overlay)


def write_run_page(
    report: dict[str, Any], target: str, output: Path, params: Sequence[str] = ()
) -> None:
    """:func:`run_page` written atomically to ``output``."""
    write_atomic(output, run_page(report, target, params))
