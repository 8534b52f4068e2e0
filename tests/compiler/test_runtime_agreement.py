"""The compiled, expanded DAG equals what the runtime records, task run for task run.

Each flow under ``agreement/`` is written as a Prefect user writes it and has a static
fan-out. It is compiled (never run) and then run for real; the multiset of task runs per task
name, and of edges (source task, target task, kind) — futures (and States), values and
``wait_for``, subflow records included — must be the same. A ``.map`` whose length only the
run knows is compared per call site.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections import Counter
from pathlib import Path

import pytest
from flowfiles import load_flow_file

import flowc
from flowc.compiler import compile_file

HERE = Path(__file__).parent / "agreement"
CASES = [
    ("etl", "etl"),
    ("fan", "fan"),
    ("nested", "parent"),
    ("etl_records", "etl_records"),
    ("map_range", "map_range"),
    ("unmapped_config", "unmapped_config"),
    ("quoted", "quoted"),
    ("wait_for_forms", "wait_for_forms"),
    ("containers", "containers"),
    ("loop_append", "loop_append"),
    ("zip_enumerate", "zip_enumerate"),
    ("chain", "chain"),
    ("fstrings", "fstrings"),
    ("map_results", "map_results"),
    ("branches", "branches"),
    ("helper_funcs", "helper_funcs"),
    ("nested_subflows", "outer_pipeline"),
    ("subflow_states", "subflow_states"),
    ("task_in_task", "task_in_task"),
    ("async_gather", "async_gather"),
    ("with_options_retries", "with_options_retries"),
    ("sibling", "sibling"),
    ("small_values", "small_values"),
    ("kwargs_helpers", "kwargs_helpers"),
    ("unpacking", "unpacking"),
    ("subflow_tuple", "subflow_tuple"),
    # Two that once differed between the compiler and the runtime (fixed in the runtime).
    ("runtime_wait_for_single", "runtime_wait_for_single"),
    ("runtime_param_keys", "runtime_param_keys"),
]


def _load(path: Path):
    return load_flow_file(path, "agreement")


def _run(flow_obj) -> object:
    outcome = flow_obj()
    return asyncio.run(outcome) if inspect.iscoroutine(outcome) else outcome


def _data_kind(run, upstream) -> str:
    """``future`` for a future or State found in the arguments, ``value`` for a result's."""
    return "future" if id(upstream) in run.upstreams.runs else "value"


def _recorded(records) -> tuple[Counter, Counter]:
    runs = Counter(r.task.name for r in records)
    edges: Counter = Counter()
    for run in records:
        for up in run.upstreams.edges():
            edges[(up.task.name, run.task.name, _data_kind(run, up))] += 1
        for up in run.wait_for:
            edges[(up.task.name, run.task.name, "wait_for")] += 1
    return runs, edges


def _compiled(path: Path, flow: str) -> tuple[Counter, Counter]:
    plan = compile_file(path, flow=flow, expand=True).flow(flow)
    assert all(node.count == 1 and node.dynamic is None for node in plan.nodes), plan.nodes
    assert not plan.breaks
    tasks = {node.id: node.task for node in plan.nodes}
    runs = Counter(node.task for node in plan.nodes)
    edges = Counter((tasks[e.source], tasks[e.target], e.kind) for e in plan.edges)
    return runs, edges


@pytest.mark.parametrize(("stem", "flow_name"), CASES)
def test_expanded_plan_equals_recorded_run(stem: str, flow_name: str) -> None:
    path = HERE / f"{stem}.py"
    module = _load(path)
    with flowc.capture() as captured:
        _run(getattr(module, flow_name))
    assert _compiled(path, flow_name) == _recorded(captured.last.records)
    sys.modules.pop(f"agreement_{stem}", None)


def test_map_over_a_future_links_the_future_to_every_mapped_run() -> None:
    path = HERE / "map_over_future.py"
    plan = compile_file(path, flow="map_over_future", expand=True).flow("map_over_future")
    module = _load(path)
    with flowc.capture() as captured:
        _run(module.map_over_future)
    recorded: Counter = Counter()
    for run in captured.last.records:
        for up in run.upstreams.edges():
            site = run.node.partition("#")[0]  # the plan's node of a run-time-length map
            recorded[(up.node, site, _data_kind(run, up))] += 1
    planned = {(e.source, e.target, e.kind) for e in plan.edges}
    assert set(recorded) == planned
    assert recorded[("numbers@18#0", "inc@19", "future")] == 3
    assert recorded[("numbers@20#0", "inc@20", "value")] == 3
    sys.modules.pop("agreement_map_over_future", None)
