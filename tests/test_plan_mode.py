"""Plan mode records exactly what dynamic execution records, run for run.

Every flow of the compiler's agreement corpus (Prefect-style flows with static fan-out) and the
seed examples that compile without graph breaks run twice through ``flowc run``'s own loader:
dynamically and from their compiled plan — on threads and on processes, where chains are fused
and maps batched. Per node id, the task, kind, final state, attempt count, result and upstream
node ids must be the same; and the node ids must be the ids the compiler gives the runs.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from flowc.cli.run_args import prepare_run
from flowc.compiler import compile_file
from flowc.planfacts import FlowFacts
from flowc.runplan import facts_of
from flowc.runtime import loader
from flowc.runtime.taskrun import TaskRun

ROOT = Path(__file__).parent
AGREEMENT = ROOT / "compiler" / "agreement"
CASES = [
    "etl:etl",
    "fan:fan",
    "nested:parent",
    "etl_records:etl_records",
    "map_range:map_range",
    "unmapped_config:unmapped_config",
    "quoted:quoted",
    "wait_for_forms:wait_for_forms",
    "containers:containers",
    "loop_append:loop_append",
    "zip_enumerate:zip_enumerate",
    "chain:chain",
    "fstrings:fstrings",
    "map_results:map_results",
    "branches:branches",
    "helper_funcs:helper_funcs",
    "nested_subflows:outer_pipeline",
    "subflow_states:subflow_states",
    "task_in_task:task_in_task",
    "async_gather:async_gather",
    "with_options_retries:with_options_retries",
    "sibling:sibling",
    "small_values:small_values",
    "kwargs_helpers:kwargs_helpers",
    "unpacking:unpacking",
    "runtime_wait_for_single:runtime_wait_for_single",
    "runtime_param_keys:runtime_param_keys",
]


def _flow_plan(path: Path, flow: str) -> FlowFacts:
    return facts_of(compile_file(path, flow=flow).flow(flow))


def _run(target: str, runner: str | None, plan: Any, address: str | None = None) -> list[TaskRun]:
    workers = "2" if runner and not address else None
    request = prepare_run(target, [], runner, workers, None, address)
    request = dataclasses.replace(request, plan=plan)
    return list(loader.run_file(request).flow_run.records)


def _outcome(run: TaskRun) -> str:
    state = run.state
    if state.is_completed():
        return repr(state.data)
    return state.name


def _signature(records: list[TaskRun]) -> dict[str, tuple[Any, ...]]:
    signature: dict[str, tuple[Any, ...]] = {}
    for run in records:
        assert run.node is not None and run.node not in signature, run.node
        signature[run.node] = (
            run.task.name,
            run.kind,
            run.state.name,
            run.run_count,
            _outcome(run),
            sorted(str(up.node) for up in run.upstreams.edges()),
            sorted(str(up.node) for up in run.wait_for),
        )
    return signature


def _without_columns(node_id: str) -> str:
    """``use@37:13#0`` -> ``use@37``: the runtime numbers one line's call sites together."""
    return re.sub(r"(@\d+):\d+", r"\1", node_id.rpartition("#")[0])


@pytest.mark.parametrize("case", CASES)
def test_node_ids_are_the_compilers(case: str) -> None:
    stem, flow = case.split(":")
    path = AGREEMENT / f"{stem}.py"
    plan = compile_file(path, flow=flow, expand=True).flow(flow)
    records = _run(f"{path}:{flow}", None, None)
    compiled = [node.id for node in plan.nodes]
    recorded = [str(run.node) for run in records]
    if sys.version_info >= (3, 11) or not any(re.search(r"@\d+:\d+", i) for i in compiled):
        assert sorted(recorded) == sorted(compiled)
    else:  # 3.10 has no columns: one line's call sites of one task share a site
        assert Counter(map(_without_columns, recorded)) == Counter(map(_without_columns, compiled))


@pytest.mark.parametrize("runner", ["threads", "processes"])
@pytest.mark.parametrize("case", CASES)
def test_plan_mode_records_what_dynamic_execution_records(case: str, runner: str) -> None:
    stem, flow = case.split(":")
    path = AGREEMENT / f"{stem}.py"
    plan = _flow_plan(path, flow)
    # Forced, as ``--plan on`` would be, even where a task runs only on a branch over a
    # result (map_results): holding runs until a result is taken is safe for any flow.
    target = f"{path}:{flow}"
    dynamic = _signature(_run(target, runner, None))
    planned = _signature(_run(target, runner, plan))
    assert planned == dynamic


@pytest.mark.parametrize("case", CASES)
def test_plan_mode_on_dask_records_what_dynamic_execution_records(
    case: str, dask_address: str
) -> None:
    """On Dask, runs are placed before their upstreams finish (the cluster runs the graph)."""
    stem, flow = case.split(":")
    path = AGREEMENT / f"{stem}.py"
    plan = _flow_plan(path, flow)
    target = f"{path}:{flow}"
    dynamic = _signature(_run(target, "dask", None, dask_address))
    planned = _signature(_run(target, "dask", plan, dask_address))
    assert planned == dynamic


def test_runs_on_the_critical_path_go_first_on_a_busy_pool() -> None:
    """One thread, five independent runs and a chain of four submitted after them: plan mode
    starts the chain's runs ahead of the side runs (longest remaining path first), dynamic
    mode in submission order."""
    import flowc
    from flowc.runtime.planexec import PlanOptions, plan_mode
    from flowc.task_runners import ThreadPoolTaskRunner

    order: list[str] = []

    @flowc.task
    def work(name: str, *upstream: Any) -> str:
        order.append(name)
        return name

    @flowc.flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def busy() -> str:
        side = [work.submit(f"side{i}") for i in range(5)]
        chain = work.submit("chain0")
        for i in range(1, 4):
            chain = work.submit(f"chain{i}", chain)
        flowc.wait(side)
        return chain.result()

    busy()
    assert order[:5] == [f"side{i}" for i in range(5)]
    order.clear()
    with plan_mode(PlanOptions()):
        busy()
    assert order[:3] == ["chain0", "chain1", "chain2"]
    assert sorted(order) == sorted([f"side{i}" for i in range(5)] + [f"chain{i}" for i in range(4)])


NESTED = """
from dataclasses import dataclass

from prefect import flow, task


@dataclass
class Box:
    item: object
    label: str


@task
def start() -> int:
    return 1


@task
def plain(x, more):
    return x + sum(more["values"])


@task
def boxed(box):
    return box.item * 10


@task
def fails(x):
    raise ValueError(f"no {x}")


@task
def after(x):
    return x


@flow
def nested_chain() -> list:
    a = start.submit()
    b = plain.submit(a, {"values": [a, 2]})     # the upstream nested in plain containers
    c = boxed.submit(Box(b, "b"))               # and inside the user's own object
    d = fails.submit(c)
    e = after.submit(d)                         # NotReady: the chain stops at the failure
    return [c.result(), d.wait(), e.wait()]
"""


def test_fused_chain_passes_results_however_nested(tmp_path: Path) -> None:
    path = tmp_path / "nested_chain.py"
    path.write_text(NESTED)
    plan = _flow_plan(path, "nested_chain")
    target = f"{path}:nested_chain"
    dynamic = _signature(_run(target, "processes", None))
    planned = _signature(_run(target, "processes", plan))
    assert planned == dynamic
    by_task = {entry[0]: entry for entry in planned.values()}
    assert by_task["boxed"][4] == "40" and by_task["after"][2] == "NotReady"


@pytest.mark.parametrize("case", CASES)
def test_plan_mode_on_ray_records_what_dynamic_execution_records(case: str, ray_session) -> None:
    """On Ray, as on Dask: groups as one call, other runs placed before their upstreams end."""
    stem, flow = case.split(":")
    path = AGREEMENT / f"{stem}.py"
    plan = _flow_plan(path, flow)
    target = f"{path}:{flow}"
    dynamic = _signature(_run(target, "ray", None))
    planned = _signature(_run(target, "ray", plan))
    assert planned == dynamic


SEED = ROOT.parent / "examples" / "seed"


@pytest.mark.parametrize("stem", ["hello_world", "access_results", "raise_on_failure"])
def test_seed_examples_record_the_same_runs_from_their_plan(stem: str) -> None:
    path = SEED / f"{stem}.py"
    plan = facts_of(compile_file(path).flow(None))
    dynamic = _signature(_run(str(path), "threads", None))
    planned = _signature(_run(str(path), "threads", plan))
    assert planned == dynamic


@pytest.mark.timeout(300)  # the subprocess's own, generous timeout fires first
def test_a_dynamic_flow_run_does_not_load_the_optimizer() -> None:
    """Asking "plan mode?" must not import NetworkX into every flow run."""
    import subprocess

    code = (
        "import sys, flowc\n"
        "@flowc.task\ndef t(x): return x\n"
        "@flowc.flow\ndef f(): return t.submit(1).result()\n"
        "assert f() == 1\n"
        "print(sorted(m for m in ('networkx', 'flowc.optimize') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


FAULTS = """
import os
from flowc import flow, task
from flowc.futures import wait

@task
def load(i: int) -> int:
    if i == 3 and os.environ.get("FLOWC_TEST_IN_DRIVER") != str(os.getpid()):
        os._exit(1)  # kills the worker process running it
    return i

@task
def lock(i: int):
    import threading
    return threading.Lock() if i == 5 else i

@task
def double(x) -> int:
    return 2 * x

@flow
def faults(n: int = 80):
    loaded = load.map(range(n))
    kept = lock.map(range(n))
    doubled = [*double.map(loaded), *double.map(kept)]
    wait(doubled)
    return [f.state.name for f in doubled]
"""


def test_plan_mode_gives_dynamic_modes_states_when_a_worker_dies_or_a_result_cannot_return(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose worker died, or whose results could not come back, is not a failure of
    every run in it: each member runs again on its own, as without the plan."""
    import os

    monkeypatch.setenv("FLOWC_TEST_IN_DRIVER", str(os.getpid()))
    path = tmp_path / "faults.py"
    path.write_text(FAULTS)
    plan = _flow_plan(path, "faults")
    dynamic = _signature(_run(f"{path}:faults", "processes", None))
    planned = _signature(_run(f"{path}:faults", "processes", plan))
    assert planned == dynamic
    states = Counter(state for _, _, state, *_ in planned.values())
    assert (states["Crashed"], states["NotReady"], states["Failed"]) == (1, 2, 1), states


def test_runs_of_one_call_site_take_its_priority_from_the_graph_of_sites() -> None:
    """On threads only priority is left to do: it is found on the call sites (three nodes
    here, however many items), and every run of a site gets its site's."""
    import flowc
    from flowc.runtime.planexec import PlanOptions, plan_mode

    @flowc.task
    def inc(x: int) -> int:
        return x + 1

    @flowc.task
    def total(xs: list[int]) -> int:
        return sum(xs)

    @flowc.flow
    def two_stage(n: int) -> int:
        a = inc.map(range(n))
        b = inc.map(a)
        return total.submit(b).result()

    with flowc.capture() as runs, plan_mode(PlanOptions()) as options:
        assert two_stage(300) == sum(range(2, 302))
    records = runs.last.records
    by_task = {name: {r.priority for r in records if r.task.name == name} for name in ("inc",)}
    first, second = records[:300], records[300:600]
    assert {r.priority for r in first} == {3.0} and {r.priority for r in second} == {2.0}
    assert records[-1].priority == 1.0 and by_task["inc"] == {2.0, 3.0}
    assert options.applied == [[("priority", "601 runs ordered by critical path over 3 sites")]]


def test_a_loop_chaining_one_site_s_runs_is_prioritised_run_by_run() -> None:
    import flowc
    from flowc.runtime.planexec import PlanOptions, plan_mode

    @flowc.task
    def step(x: int) -> int:
        return x + 1

    @flowc.flow
    def chain() -> int:
        x = step.submit(0)
        for _ in range(3):
            x = step.submit(x)
        return x.result()

    with flowc.capture() as runs, plan_mode(PlanOptions()) as options:
        assert chain() == 4
    assert [r.priority for r in runs.last.records] == [4.0, 3.0, 2.0, 1.0]
    assert options.applied[0][0] == ("priority", "4 runs ordered by critical path")


@pytest.mark.timeout(120)
def test_an_error_while_dispatching_held_runs_ends_them_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fault in flowc's own planning must not leave the flow waiting on runs nobody will
    ever dispatch: they end Crashed, and the error reaches the flow."""
    import flowc
    from flowc.runtime import planexec
    from flowc.runtime.planexec import PlanOptions, plan_mode

    def broken(*_args: Any) -> None:
        raise RuntimeError("planning failed")

    monkeypatch.setattr(planexec, "_dispatch_optimised", broken)

    @flowc.task
    def inc(x: int) -> int:
        return x + 1

    @flowc.flow
    def two() -> int:
        return sum(inc.map(range(3)).result())

    with flowc.capture() as runs, plan_mode(PlanOptions()):
        state = two(return_state=True)
    assert state.is_failed() and "planning failed" in str(state.message)
    assert {run.state.type.value for run in runs.last.records} == {"CRASHED"}


BUSY = """
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner


@task
def work(name, *upstream):
    return name


@flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
def busy():
    side = work.map([f"side{i}" for i in range(5)])
    a = work.submit("chain0")
    b = work.submit("chain1", a)
    c = work.submit("chain2", b)
    return [f.result() for f in side], c.result()
"""


def test_on_threads_runs_take_their_site_s_priority_from_the_plan_and_are_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is grouped on threads, so the compiled plan's per-site priorities are all plan
    mode adds: runs are dispatched as submitted, each with its site's priority."""
    from flowc.runtime import planexec

    def held(*_args: Any) -> None:
        raise AssertionError("runs were held for a flush")

    monkeypatch.setattr(planexec, "_dispatch_optimised", held)
    path = tmp_path / "busy.py"
    path.write_text(BUSY)
    facts = facts_of(compile_file(path).flow("busy"))
    assert dict(facts.priorities or ()) == {
        "work@13": 1.0,
        "work@14": 3.0,
        "work@15": 2.0,
        "work@16": 1.0,
    }
    records = _run(f"{path}:busy", "threads", facts)
    assert {run.node: run.priority for run in records} == {
        **{f"work@13#{i}": 1.0 for i in range(5)},
        "work@14#0": 3.0,
        "work@15#0": 2.0,
        "work@16#0": 1.0,
    }
    assert all(run.state.is_completed() for run in records)


def test_a_loop_of_submits_leaves_priorities_to_the_runs(tmp_path: Path) -> None:
    """A submit in a loop may wait on its own earlier runs: their priorities differ run by
    run, so the plan gives none and plan mode orders the held runs themselves."""
    path = tmp_path / "loop.py"
    path.write_text(
        BUSY.replace(
            '    a = work.submit("chain0")\n    b = work.submit("chain1", a)\n'
            '    c = work.submit("chain2", b)\n',
            '    c = work.submit("chain0")\n    for i in range(1, 3):\n'
            '        c = work.submit(f"chain{i}", c)\n',
        )
    )
    facts = facts_of(compile_file(path).flow("busy"))
    assert facts.priorities is None and facts.blocker is None
    records = _run(f"{path}:busy", "threads", facts)
    chain = [run.priority for run in records if str(run.parameters["name"]).startswith("chain")]
    assert chain == [3.0, 2.0, 1.0]


STAGES = """
from prefect import flow, task


@task
def inc(x):
    return x + 1


@flow
def stages(n: int = 4):
    a = inc.map(range(n))
    b = inc.map(a)
    return [f.result() for f in b]
"""


@pytest.mark.parametrize(
    ("body", "reorders"),
    [
        # every inc of the first map is queued before any of the second becomes ready
        ("", False),
        # a middle stage becomes ready while runs of the last, lower, stage wait
        ("    c = inc.map(b)\n", True),
        # a later site of higher priority than the waiting second map
        ("    x = inc.submit(1)\n    y = inc.submit(x)\n    z = inc.submit(y)\n", True),
    ],
)
def test_the_plan_says_whether_priority_can_reorder_ready_runs(
    tmp_path: Path, body: str, reorders: bool
) -> None:
    """Where first come, first served already starts the longest path first, a thread pool
    in plan mode queues its runs as dynamic mode does, with no priority queue."""
    path = tmp_path / "stages.py"
    path.write_text(STAGES.replace("    return [f", body + "    return [f"))
    facts = facts_of(compile_file(path).flow("stages"))
    assert facts.priorities is not None
    assert facts.reorders is reorders
    records = _run(f"{path}:stages", "threads", facts)
    assert all(run.state.is_completed() for run in records)
    # Priorities that order nothing are not looked up (runs keep the default, 0).
    priorities = dict(facts.priorities) if reorders else {}
    assert all(
        run.priority == priorities.get(str(run.node).partition("#")[0], 0.0) for run in records
    )


LOOPED = """
from prefect import flow, task


@task
def inc(x):
    return x + 1


@task
def total(xs):
    return sum(xs)


@flow
def looped(n: int = 5):
    futures = []
    for i in range(n):
        a = inc.submit(i)
        futures.append(inc.submit(a))
    return total.submit(futures).result()
"""


def test_a_loop_of_independent_submits_is_dispatched_as_submitted_on_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each iteration's runs wait only on that iteration's: the compiler says no site's runs
    wait on each other, so the plan gives per-site priorities and nothing is held. The sites
    are reached again and again, between each other's runs, so a priority queue orders them."""
    from flowc.runtime import planexec

    def held(*_args: Any) -> None:
        raise AssertionError("runs were held for a flush")

    monkeypatch.setattr(planexec, "_dispatch_optimised", held)
    path = tmp_path / "looped.py"
    path.write_text(LOOPED)
    facts = facts_of(compile_file(path).flow("looped"))
    assert dict(facts.priorities or ()) == {"inc@19": 3.0, "inc@20": 2.0, "total@21": 1.0}
    assert facts.reorders
    records = _run(f"{path}:looped", "threads", facts)
    assert all(run.state.is_completed() for run in records)
    assert records[-1].state.result() == sum(range(2, 7))
    assert {run.node.partition("#")[0]: run.priority for run in records if run.node} == {
        "inc@19": 3.0,
        "inc@20": 2.0,
        "total@21": 1.0,
    }


def test_a_plan_read_back_from_json_keeps_looped_submits_to_the_runs(tmp_path: Path) -> None:
    """What the compiler saw of loops is not in the JSON: read back, a plan cannot tell a loop
    of independent submits from one chaining them, and gives no priorities."""
    from flowc.plan import Plan

    path = tmp_path / "looped.py"
    path.write_text(LOOPED)
    plan = compile_file(path).plan
    assert facts_of(plan.flow("looped")).priorities is not None
    read_back = Plan.model_validate_json(plan.model_dump_json(by_alias=True))
    facts = facts_of(read_back.flow("looped"))
    assert facts.priorities is None and facts.reorders
