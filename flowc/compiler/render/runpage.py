"""``flowc run FILE --html PAGE``: the run just made, drawn on its flow's graph, as one page.

The run side hands over its ``flowc.run/1`` report as a dict and the file compiled (read with
libcst, never imported again); the report is laid over its plan exactly as
``flowc graph FILE --run REPORT.json --format html`` does, so both routes give the same page.
The CLI writes the page (:mod:`flowc.cli.reports`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowc.compiler.render.html import to_html
from flowc.compiler.render.runs import RunOverlay, flow_for, report_from
from flowc.compiler.targets import Compiled

__all__ = ["run_page"]


def run_page(report: dict[str, Any], target: str, compiled: Compiled) -> str:
    """The HTML page of ``report``, a run of ``target`` (``FILE[:FLOW]``), ``compiled``."""
    where = Path(f"<run of {target}>")
    # through JSON, as a report file would be: whatever the run left in it becomes plain data
    raw = json.loads(json.dumps(report, default=str))
    parsed = report_from(raw, where)
    flow = flow_for(parsed, compiled, where)
    plan = compiled.plan.model_copy(update={"flows": [flow]})
    overlay = RunOverlay.build(plan, parsed)
    return to_html(plan.flows, runs=overlay)
