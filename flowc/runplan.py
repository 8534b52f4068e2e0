"""Whether ``flowc run`` executes a flow from its plan, and which plan: the ``--plan`` option.

This module is the one place where the two halves meet for a run: it asks the compiler for
the file's plan (read with libcst, never imported) or reads a plan JSON written earlier by
``flowc compile``, and hands the runtime nothing but the :class:`~flowc.plan.FlowPlan`.

``--plan auto`` (the default) runs from the plan when the flow has no graph breaks, and
otherwise runs dynamically, saying why in one line.
``--plan on`` insists (a break is an error), ``--plan off`` never compiles, and
``--plan PLAN.json`` runs from a compiled plan — refused when it does not validate or was
compiled from another version of the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowc.content_cache import ContentCache
from flowc.planfacts import FlowFacts, pick_flow

if TYPE_CHECKING:
    from pydantic import ValidationError

    from flowc.plan import FlowPlan, Plan

__all__ = ["PlanChoice", "PlanError", "choose_plan", "facts_of", "plan_blocker", "read_plan"]

MODES = ("auto", "on", "off")
#: A plan file larger than this is refused before it is parsed: a wrong path (a log, a
#: device) must not exhaust memory.
MAX_PLAN_BYTES = 256 * 2**20
_MAX_ERRORS_SHOWN = 10
_CACHE_FORMAT = "flowc-plan-cache/2"


class PlanError(Exception):
    """A ``--plan`` that cannot be honoured; the message is for the user, as is."""


@dataclass(frozen=True)
class PlanChoice:
    """The plan to run from (None: run dynamically) and, if so, why not, in one line."""

    plan: FlowFacts | None
    note: str | None = None


def choose_plan(
    path: Path, flow: str | None, option: str, params: dict[str, Any] | None = None
) -> PlanChoice:
    """Decide for ``flowc run PATH[:FLOW] --plan OPTION`` (see the module docstring)."""
    if option == "off":
        return PlanChoice(None)
    if option not in MODES:
        plan = read_plan(Path(option), path)
        return _insist(facts_of(_select(plan, flow, option)), option)
    # Under auto, a file that does not compile or a flow the plan cannot name runs
    # dynamically without a note: loading it then reports the syntax error or lists the flows.
    try:
        flows = _compile(path, params)
    except Exception as exc:  # the compiler's own message: a syntax error, an unreadable file
        if option == "on":
            raise PlanError(str(exc)) from None
        return PlanChoice(None)
    try:
        facts = _select_facts(flows, flow, str(path))
    except PlanError:
        if option == "on":
            raise
        return PlanChoice(None)
    if option == "on":
        return _insist(facts, str(path))
    if facts.blocker is not None:
        return PlanChoice(None, f"running dynamically: {facts.blocker}")
    return PlanChoice(facts)


def facts_of(flow_plan: FlowPlan) -> FlowFacts:
    """What a run needs of ``flow_plan`` (see :mod:`flowc.planfacts`)."""
    sites: dict[str, str] = {}  # node id -> its call site's id (expanded runs share one)
    counts: dict[str, tuple[str, int]] = {}
    for node in flow_plan.nodes:
        site = node.site or node.id
        sites[node.id] = site
        task, count = counts.get(site, (node.task, 0))
        counts[site] = (task, count + (node.count or 0))
    # Runs of one site that wait on each other (a loop chaining its submits) differ in
    # priority run by run: only the runs themselves can order those. Where the compiler's
    # findings are not at hand (a plan read back from JSON), any submit made more than once
    # may be such a loop.
    chained = flow_plan.chained_sites
    if chained is None:
        looped = any(
            node.kind == "submit" and counts[sites[node.id]][1] != 1 for node in flow_plan.nodes
        )
    else:
        looped = bool(chained) or any(
            sites.get(edge.source) == sites.get(edge.target) for edge in flow_plan.edges
        )
    priorities = None if looped else _site_priorities(flow_plan, sites)
    return FlowFacts(
        flow_plan.name,
        flow_plan.qualname,
        plan_blocker(flow_plan),
        tuple(counts.values()),
        priorities,
        priorities is None or _priority_reorders(flow_plan, sites, dict(priorities)),
    )


def _priority_reorders(
    flow_plan: FlowPlan, sites: dict[str, str], priority: dict[str, float]
) -> bool:
    """Whether a priority queue could start some ready run before one that became ready
    earlier: only a run of higher priority than one already waiting can overtake it.

    Runs become ready when their site is reached in the body (a site without upstreams) or
    when their upstreams finish. Neither can overtake if each site is reached once, in an
    order of non-increasing priority, and every site that waits on another has no site of
    another priority after it (``a = inc.map(...)`` then ``add.map(a, ...)``: first come,
    first served already runs every ``inc`` first). Otherwise — a site reached again (a
    loop), a subflow, a later site of higher priority — the queue may reorder.
    """
    repeated = flow_plan.repeated_sites
    if repeated is None:  # not known: a submit made more than once was reached repeatedly
        repeated = frozenset(
            sites[node.id] for node in flow_plan.nodes if node.kind == "submit" and node.count != 1
        )
    if repeated:
        return True
    order: list[str] = []
    for node in flow_plan.nodes:
        site = sites[node.id]
        if node.kind == "subflow":
            return True
        if site in order:
            if order[-1] != site:  # reached again after another site: a loop
                return True
            continue
        order.append(site)
    waits = {sites[edge.target] for edge in flow_plan.edges if edge.target in sites}
    for position, site in enumerate(order):
        later = order[position + 1 :]
        if later and priority[later[0]] > priority[site]:
            return True
        if site in waits and any(priority[other] != priority[site] for other in later):
            return True
    return False


def _site_priorities(
    flow_plan: FlowPlan, sites: dict[str, str]
) -> tuple[tuple[str, float], ...] | None:
    """Each call site's longest path through the graph of call sites; None if that graph has
    a cycle (runs of two sites alternating in a loop)."""
    from flowc.optimize import RunGraph, prioritize

    graph = RunGraph()
    for site in dict.fromkeys(sites.values()):
        graph.add_node(site, cost=1.0)
    graph.add_edges_from(
        (sites[edge.source], sites[edge.target])
        for edge in flow_plan.edges
        if edge.source in sites
        and edge.target in sites
        and sites[edge.source] != sites[edge.target]
    )
    try:
        prioritize(graph)
    except ValueError:
        return None
    return tuple((str(site), float(attrs["priority"])) for site, attrs in graph.nodes.items())


def plan_blocker(flow_plan: FlowPlan) -> str | None:
    """Why this flow cannot run from its plan, or None.

    Only a graph break stops it: control flow that decides *which* tasks run on a result
    (the compiler marks the tasks under such a branch *conditional*).
    A call site whose count is known only at run time (a ``.map`` over a result) runs from
    the plan too — the body computes the count when it takes the result — and its runs add
    to the progress total as they appear.
    """
    for brk in flow_plan.breaks:
        return f"{flow_plan.file}:{brk.line}:{brk.col}: graph break: {brk.reason}"
    for node in flow_plan.nodes:
        if node.conditional:
            return (
                f"{flow_plan.file}:{node.line}:{node.col}: graph break: whether {node.id} runs "
                "depends on a task's result"
            )
    return None


def _insist(facts: FlowFacts, origin: str) -> PlanChoice:
    """``--plan on`` or a plan file: a graph break is an error; unknown counts are not."""
    if facts.blocker is not None:
        where, _, why = facts.blocker.partition(": graph break: ")
        raise PlanError(
            f"{where}: cannot run flow {facts.name!r} from its plan: graph break: {why}; "
            "run it with --plan off"
        )
    return PlanChoice(facts)


def _compile(path: Path, params: dict[str, Any] | None) -> list[FlowFacts]:
    """What a run needs of each flow of the file, from its plan by call site (whether it can
    run from it, each site's count for the progress totals: no per-run nodes).

    Kept in a cache (under ``FLOWC_HOME``) keyed by the file's path, the parameters and
    flowc's version, valid while the file and the modules it imports are unchanged (size and
    modification time, as Python checks its ``.pyc`` files): running an unchanged file again
    reads these facts instead of compiling it, and loads neither libcst nor pydantic.
    """
    cache = _plan_cache(params)
    name = str(path.resolve())
    key = cache.name_key(name) if cache is not None else ""
    if cache is not None:
        found = cache.get(key)
        if found is not None and found.get("file") == name:
            try:
                return [FlowFacts.from_dict(flow) for flow in found["flows"]]
            except (KeyError, TypeError, ValueError):
                pass  # not an entry this flowc wrote: compile again
    from flowc.compiler import compile_file

    before = _stat(path)
    result = compile_file(path, parameters=params or None)
    flows = [facts_of(flow) for flow in result.plan.flows]
    if cache is not None and before is not None and _stat(path) == before:
        payload = {"file": name, "flows": [facts.to_dict() for facts in flows]}
        cache.put(key, payload, [name, *result.deps])
    return flows


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _select_facts(flows: list[FlowFacts], flow: str | None, origin: str) -> FlowFacts:
    try:
        return pick_flow(flows, flow)
    except KeyError as exc:
        raise PlanError(f"{origin}: {exc.args[0]}") from None


def _plan_cache(params: dict[str, Any] | None) -> ContentCache | None:
    """Where compiled plans are kept, salted with flowc's version and the parameters."""
    from flowc import __version__
    from flowc.files import flowc_home

    if os.environ.get("FLOWC_NO_CACHE"):
        return None
    given = repr(sorted((params or {}).items(), key=lambda item: item[0]))
    return ContentCache(
        flowc_home() / "cache" / "plans", f"{_CACHE_FORMAT}|{__version__}|{given}", "flowc run"
    )


def _select(plan: Plan, flow: str | None, origin: str) -> FlowPlan:
    try:
        return plan.flow(flow)
    except KeyError as exc:
        raise PlanError(f"{origin}: {exc.args[0]}") from None


def read_plan(plan_path: Path, source_path: Path) -> Plan:
    """A plan JSON, validated, checked against the file it was compiled from, and sound.

    Every problem is a line naming the plan file (and the flow and node at fault); a plan
    with any is refused.
    """
    plan = _parse_plan(plan_path)
    try:
        source = source_path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{source_path}: cannot read the file: {exc.strerror or exc}") from None
    recompile = f"recompile it: flowc compile {source_path} -o {plan_path}"
    if not plan.source_sha256:
        raise PlanError(
            f"{plan_path}: no source_sha256: cannot tell which version of {source_path} it was "
            f"compiled from; {recompile}"
        )
    import hashlib

    if plan.source_sha256 != hashlib.sha256(source).hexdigest():
        raise PlanError(
            f"{plan_path}: compiled from a different version of {source_path}; {recompile}"
        )
    problems = plan.graph_problems() + _unknown_tasks(plan, source_path)
    if problems:
        shown = [f"{plan_path}: {problem}" for problem in problems[:_MAX_ERRORS_SHOWN]]
        if len(problems) > _MAX_ERRORS_SHOWN:
            shown.append(f"{plan_path}: ... and {len(problems) - _MAX_ERRORS_SHOWN} more problems")
        raise PlanError("\n".join(shown))
    return plan


def _parse_plan(plan_path: Path) -> Plan:
    if plan_path.exists() and not plan_path.is_file():
        raise PlanError(f"{plan_path}: not a regular file; give a plan written by flowc compile")
    try:
        with plan_path.open("rb") as handle:
            text = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanError(f"{plan_path}: cannot read the plan: {exc.strerror or exc}") from None
    if len(text) > MAX_PLAN_BYTES:
        raise PlanError(f"{plan_path}: larger than {MAX_PLAN_BYTES // 2**20} MiB; not a flowc plan")
    from pydantic import ValidationError

    from flowc.plan import Plan

    try:
        return Plan.from_json(text)
    except ValidationError as exc:
        raise PlanError(_validation_lines(plan_path, exc)) from None


def _unknown_tasks(plan: Plan, source_path: Path) -> list[str]:
    """Nodes naming a task (or subflow) that the source file does not call."""
    from flowc.compiler import compile_file

    try:
        compiled = compile_file(source_path).plan  # call sites suffice: no expansion
    except Exception:  # the file does not compile: loading it reports why
        return []
    known = {node.task for flow in compiled.flows for node in flow.nodes}
    return [
        f"flow {flow.name!r}: node {node.id!r}: unknown task {node.task!r} "
        f"({source_path} calls no such task)"
        for flow in plan.flows
        for node in flow.nodes
        if node.task not in known
    ]


def _validation_lines(plan_path: Path, exc: ValidationError) -> str:
    errors = exc.errors()
    lines = [f"{plan_path}: not a valid flowc plan ({len(errors)} problem(s)):"]
    for error in errors[:_MAX_ERRORS_SHOWN]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"  {where}: {error['msg']}")
    if len(errors) > _MAX_ERRORS_SHOWN:
        lines.append(f"  ... and {len(errors) - _MAX_ERRORS_SHOWN} more")
    return "\n".join(lines)
