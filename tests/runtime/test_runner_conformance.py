"""One behaviour suite, run on every task runner (the ``make_runner`` fixture).

The engine owns the semantics, so every runner must give the same task runs, states,
results and failures; a runner only decides where a call executes. Tasks are module-level
so that process (and later Dask and Ray) workers can receive them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from flowc import allow_failure, capture, flow, task
from flowc.futures import wait


@task
def inc(x):
    return x + 1


@task
def add(x, y):
    return x + y


@task
def explode(message):
    raise ValueError(message)


@task
def nap(seconds, value=None):
    time.sleep(seconds)
    return value


@task
def where():
    return os.getpid(), threading.get_ident()


@task(retries=2)
def fails_until_marker(path):
    """Fails until it has seen itself fail twice (counted in a file: works across processes)."""
    with open(path, "a") as handle:
        handle.write("x")
    with open(path) as handle:
        count = len(handle.read())
    if count < 3:
        raise RuntimeError(f"attempt {count}")
    return count


#: A blocked call gives up after this many seconds, so a runner that waits for it fails an
#: assertion (its end is recorded) instead of hanging the suite.
RELEASE_WAIT = 90


@task(timeout_seconds=0.5)
def blocks_until_released(directory):
    """Blocks until ``release(directory)``, then records that it ended (times out long before)."""
    release_file = os.path.join(directory, "release")
    deadline = time.monotonic() + RELEASE_WAIT
    while not os.path.exists(release_file) and time.monotonic() < deadline:
        time.sleep(0.02)
    ended = os.path.join(directory, f"ended-{os.getpid()}-{threading.get_ident()}")
    with open(ended, "w"):
        pass


@task
def ended_calls(directory):
    """How many blocked calls have ended so far (a file each: works across processes)."""
    return sum(name.startswith("ended-") for name in os.listdir(directory))


def release(directory):
    with open(os.path.join(directory, "release"), "w"):
        pass


@task
async def async_double(x):
    await asyncio.sleep(0)
    return x * 2


def run_on(runner, body, *args):
    """Run ``body`` as a flow on ``runner``, returning (final state, its records)."""
    flow_fn = flow(name="conformance", task_runner=runner)(body)
    with capture() as runs:
        state = flow_fn(*args, return_state=True)
    return state, runs.last.records


def test_submit_and_result(make_runner):
    state, _ = run_on(make_runner(), lambda: inc.submit(1).result())
    assert state.result() == 2


def test_map_keeps_input_order(make_runner):
    state, records = run_on(make_runner(), lambda: inc.map(range(20)).result())
    assert state.result() == list(range(1, 21))
    assert len(records) == 20


def test_futures_in_arguments_become_values(make_runner):
    def body():
        a, b = inc.submit(1), inc.submit(10)
        return add.submit(a, [b][0]).result(), add.submit([a], [b]).result()

    state, records = run_on(make_runner(), body)
    assert state.result() == (13, [2, 11])
    assert [len(r.upstreams.runs) for r in records if r.task.name == "add"] == [2, 2]


def test_failure_keeps_exception_type_message_and_traceback(make_runner):
    def body():
        return explode.submit("kaboom")

    state, records = run_on(make_runner(), body)
    task_state = records[0].state
    assert task_state.is_failed()
    assert task_state.message == "Task run encountered an exception ValueError: kaboom"
    error = task_state.data
    assert isinstance(error, ValueError) and str(error) == "kaboom"
    import traceback

    text = "".join(traceback.format_exception(error))
    assert "explode" in text and "kaboom" in text


def test_downstream_of_failure_is_not_ready(make_runner):
    def body():
        return add.submit(explode.submit("x"), 1)

    _, records = run_on(make_runner(), body)
    assert [r.state.name for r in records] == ["Failed", "NotReady"]


def test_allow_failure_passes_exception(make_runner):
    @task
    def describe(value):
        return type(value).__name__

    def body():
        return describe.submit(allow_failure(explode.submit("x"))).result()

    state, _ = run_on(make_runner(), body)
    assert state.result() == "ValueError"


def test_retries(make_runner, tmp_path):
    marker = str(tmp_path / "attempts")
    state, records = run_on(make_runner(), lambda: fails_until_marker.submit(marker).result())
    assert state.result() == 3
    assert records[0].run_count == 3


def test_timeout_is_enforced_and_runner_keeps_working(make_runner, tmp_path):
    directory = str(tmp_path)

    def body():
        hung = blocks_until_released.submit(directory)
        hung.wait()
        try:  # all while the timed-out call is still blocked: none has ended
            return hung.state.name, inc.submit(1).result(), ended_calls.submit(directory).result()
        finally:
            release(directory)

    state, _ = run_on(make_runner(), body)
    assert state.result() == ("TimedOut", 2, 0)


def test_async_tasks_run(make_runner):
    state, _ = run_on(make_runner(), lambda: async_double.submit(21).result())
    assert state.result() == 42


def test_bounded_pool_runs_at_most_max_workers_at_once(make_runner):
    def body():
        futures = nap.map([0.3] * 4)
        wait(futures)

    _, records = run_on(make_runner(max_workers=2), body)
    events = sorted([(r.start, 1) for r in records] + [(r.end, -1) for r in records])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak <= 2


def test_single_worker_runs_a_diamond_in_dependency_order(make_runner):
    def body():
        top = nap.submit(0.05, 1)
        left, right = add.submit(top, 1), add.submit(top, 2)
        return add.submit(left, right).result()

    state, records = run_on(make_runner(max_workers=1), body)
    assert state.result() == 5
    top, left, right, bottom = records
    assert left.start >= top.end and right.start >= top.end
    assert bottom.start >= max(left.end, right.end)


def test_states_and_timestamps_recorded(make_runner):
    _, records = run_on(make_runner(), lambda: inc.submit(1).wait())
    (run,) = records
    assert run.state.is_completed() and run.run_count == 1
    assert run.start is not None and run.end is not None and run.end >= run.start


def test_runner_api_submit_and_map_inside_a_flow(make_runner):
    from flowc.runtime.context import current_flow_run

    def body():
        runner = current_flow_run().runner
        single = runner.submit(inc, {"x": 1})
        many = runner.map(inc, {"x": [1, 2]})
        return single.result(), many.result()

    state, _ = run_on(make_runner(), body)
    assert state.result() == (2, [2, 3])


def test_duplicate_is_fresh_unstarted_copy_with_same_configuration(make_runner):
    runner = make_runner(max_workers=3)
    twin = runner.duplicate()
    assert type(twin) is type(runner) and twin is not runner
    assert twin.max_workers == 3 and not twin.started


def test_placing_on_an_unstarted_runner_raises(make_runner):
    runner = make_runner()
    with pytest.raises(RuntimeError, match="must be started"):
        runner.place(None, None)


def test_runner_names_match_prefect(make_runner, runner_kind):
    expected = {"threads": "threadpool", "processes": "processpool", "dask": "dask", "ray": "ray"}
    expected = expected[runner_kind]
    assert make_runner().name == expected


# --------------------------------------------------------------------------- processes only


def _processes():
    from flowc.task_runners import ProcessPoolTaskRunner

    return ProcessPoolTaskRunner(max_workers=2)


@task
def dies():
    os._exit(7)


def test_process_runner_runs_tasks_in_other_processes():
    state, _ = run_on(_processes(), lambda: [where.submit().result()[0] for _ in range(4)])
    pids = set(state.result())
    assert os.getpid() not in pids


def test_process_runner_ships_closures_and_lambdas():
    offset = 100
    closure = task(lambda x: x + offset, name="closure")

    state, _ = run_on(_processes(), lambda: closure.map([1, 2]).result())
    assert state.result() == [101, 102]


def test_worker_death_crashes_that_run_only_and_the_flow_goes_on():
    def body():
        doomed = dies.submit()
        doomed.wait()
        return doomed.state, inc.map([1, 2]).result()

    state, records = run_on(_processes(), body)
    crashed, results = state.result()
    assert crashed.is_crashed() and "exit code 7" in crashed.message
    assert results == [2, 3]


def test_unpicklable_argument_fails_that_run_naming_the_argument():
    def body():
        lock = threading.Lock()
        bad = inc.submit(lock)
        bad.wait()
        return bad.state, inc.submit(1).result()

    state, _ = run_on(_processes(), body)
    failed, good = state.result()
    assert failed.is_failed()
    assert "argument 'x' cannot be pickled" in failed.message
    assert good == 2


def test_calls_abandoned_at_their_timeout_do_not_starve_the_pool(make_runner, tmp_path):
    """Two calls time out on a pool of two and stay blocked: later calls still run.

    A pool that kept the abandoned calls' workers would run the later calls only once the
    blocked calls ended, and they would then count two ended calls instead of none.
    """
    directory = str(tmp_path)

    def body():
        stuck = [blocks_until_released.submit(directory) for _ in range(2)]
        wait(stuck)
        try:
            later = inc.submit(1).result(), ended_calls.submit(directory).result()
        finally:
            release(directory)
        return [future.state.name for future in stuck], later

    state, _ = run_on(make_runner(max_workers=2), body)
    assert state.result() == (["TimedOut", "TimedOut"], (2, 0))


def _divide_helper(x):
    return 1 / x


@task
def divide(x):
    return _divide_helper(x)


def test_worker_traceback_names_the_real_files_and_lines(make_runner):
    import traceback

    _, records = run_on(make_runner(), lambda: divide.submit(0).wait())
    error = records[0].state.data
    text = "".join(traceback.format_exception(error))
    assert "<dynamic-code>" not in text
    assert __file__ in text and "return 1 / x" in text


# --------------------------------------------------------------------------- the whole run in
# the worker: what a Prefect user relies on where the task runs, on every runner


#: attempts per key, in the process that runs the task: a retry sees what its attempt left.
_WORKER_ATTEMPTS: dict[str, int] = {}


@task(retries=2)
def warms_up(key):
    """Fails until the process running it has seen it fail once: worker-local state."""
    _WORKER_ATTEMPTS[key] = _WORKER_ATTEMPTS.get(key, 0) + 1
    if _WORKER_ATTEMPTS[key] < 2:
        raise ConnectionError("cold cache")
    return os.getpid()


def test_retries_see_state_left_in_their_worker_by_earlier_attempts(make_runner):
    key = os.urandom(8).hex()
    state, records = run_on(make_runner(), lambda: warms_up.submit(key).result())
    assert state.is_completed()
    (run,) = records
    assert run.state.name == "Completed" and run.run_count == 2


@task
def square(x):
    return x * x


@task
def fan_out_inside(n):
    """Submits, maps and calls tasks itself, then sums their results."""
    mapped = square.map(range(n))
    single = square.submit(10)
    return sum(f.result() for f in mapped) + single.result() + square(3)


def test_task_that_submits_and_maps_tasks_records_them_with_their_parent(make_runner):
    state, records = run_on(make_runner(), lambda: fan_out_inside.submit(4).result())
    assert state.result() == (0 + 1 + 4 + 9) + 100 + 9
    parent = next(r for r in records if r.task.name == "fan_out_inside")
    nested = [r for r in records if r.task.name == "square"]
    assert sorted(r.kind for r in nested) == ["call", "map", "map", "map", "map", "submit"]
    assert all(r.parent is parent for r in nested)
    assert all(r.state.name == "Completed" and r.run_count == 1 for r in nested)
    assert all(r.start is not None and r.end is not None for r in nested)
    assert len({r.id for r in records}) == len(records) == 7


@task
def names_itself(message):
    from flowc import get_run_logger
    from flowc.runtime.context import current_flow_run, current_task_run

    get_run_logger().warning(message)
    return current_task_run().name, current_flow_run().run_name, current_flow_run().id


def test_run_logger_and_run_names_inside_the_worker(make_runner, caplog):
    message = f"hello from {os.urandom(4).hex()}"
    with caplog.at_level("WARNING", logger="flowc"):
        state, records = run_on(make_runner(), lambda: names_itself.submit(message).result())
    task_run_name, flow_run_name, flow_run_id = state.result()
    (run,) = records
    assert task_run_name == run.name
    assert flow_run_name == run.flow_run.run_name and flow_run_id == run.flow_run.id
    logged = [r for r in caplog.records if r.getMessage() == message]
    assert len(logged) == 1 and logged[0].task_run_name == run.name


@task(retries=1)
def dies_once(marker):
    """Kills the process running it on its first attempt; completes on the second."""
    if not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write("died")
        os._exit(1)
    return "survived"


@task
def always_dies(marker):
    os._exit(1)


def test_worker_killed_mid_attempt_is_retried_per_retries_else_crashed(
    make_runner, runner_kind, tmp_path
):
    if runner_kind == "threads":
        pytest.skip("os._exit in a thread would end the test process itself")
    if runner_kind == "dask":
        pytest.skip("Dask's scheduler re-runs a task whose worker died (allowed-failures)")

    def body():
        again = dies_once.submit(str(tmp_path / "once"))
        gone = always_dies.submit(str(tmp_path / "always"))
        return again.result(), gone.wait()

    state, records = run_on(make_runner(), body)
    again, gone = records
    assert again.state.name == "Completed" and again.run_count == 2
    assert gone.state.is_crashed() and gone.run_count == 1
    assert state.result()[0] == "survived"


class _Unrebuildable(Exception):
    """Pickles, but cannot be rebuilt on the driver: its __init__ needs two arguments."""

    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


@task
def takes(value):
    return "ran"


@task
def returns_lock():
    return threading.Lock()


@task
def raises_unrebuildable():
    raise _Unrebuildable(1, 2)


def test_what_cannot_be_pickled_fails_its_run_naming_the_type(make_runner, runner_kind):
    def body():
        futures = [
            takes.submit(threading.Lock()),
            returns_lock.submit(),
            raises_unrebuildable.submit(),
        ]
        wait(futures)
        return {"states": [f.state for f in futures]}

    state, _ = run_on(make_runner(), body)
    argument, result, exception = state.result()["states"]
    if runner_kind == "threads":  # nothing leaves the process
        assert argument.is_completed() and result.is_completed() and exception.is_failed()
        return
    assert argument.is_failed() and "argument 'value' cannot be pickled" in argument.message
    assert result.is_failed() and "result of type lock" in result.message
    assert exception.is_failed() and "_Unrebuildable" in exception.message


@task(retries=1)
def reports_itself(marker):
    """Makes artifacts and reads ``prefect.runtime`` where it runs; fails its first attempt."""
    from flowc import runtime
    from flowc.artifacts import (
        create_markdown_artifact,
        create_progress_artifact,
        update_progress_artifact,
    )

    progress = create_progress_artifact(0.0, key="progress")
    if not os.path.exists(marker):
        with open(marker, "w") as handle:
            handle.write("first")
        raise RuntimeError("first attempt")
    update_progress_artifact(progress, 100.0)
    create_markdown_artifact(f"made by {runtime.task_run.name}", key="note")
    return (
        runtime.task_run.name,
        runtime.task_run.run_count,
        runtime.task_run.parameters,
        runtime.flow_run.name,
        runtime.flow_run.id,
    )


def test_artifacts_and_run_information_inside_the_worker(make_runner, tmp_path):
    marker = str(tmp_path / "marker")

    def body(path):
        return reports_itself.submit(path).result()

    flow_fn = flow(name="conformance", task_runner=make_runner())(body)
    with capture() as runs:
        name, run_count, parameters, flow_run_name, flow_run_id = flow_fn(marker)
    report = runs.report()
    (run,) = runs.last.records
    assert (name, run_count, parameters) == (run.name, 2, {"marker": marker})
    assert (flow_run_name, flow_run_id) == (runs.last.run_name, str(runs.last.id))
    artifacts = [(a["key"], a["data"], a["task_run"]) for a in report["artifacts"]]
    assert artifacts == [
        ("progress", 0.0, str(run.id)),
        ("progress", 100.0, str(run.id)),
        ("note", f"made by {run.name}", str(run.id)),
    ]


class _Tagged(dict):
    """A dict subclass: not plain data, so it travels with cloudpickle, its type kept."""


@task
def echo(value):
    return value


@task
def make_local():
    class Made:  # a class only cloudpickle can send: it has no importable name
        def __init__(self, n):
            self.n = n

    return Made(7), (lambda y: y * 3)


def test_arguments_and_results_keep_their_values_and_types(make_runner):
    class Local:  # defined here, so it travels by value
        def __init__(self, n):
            self.n = n

    plain = {"ints": [1, 2**70, -3], "text": ("a", b"b", None, True, 2.5), "set": {1, 2}}
    deep = [[[[[[[[[[1]]]]]]]]]] * 300  # past the budget of what is checked as plain

    def body():
        sent = [echo.submit(plain), echo.submit(_Tagged(a=1)), echo.submit(Local(5))]
        sent.append(echo.submit(deep))
        values = [future.result() for future in sent]
        made, triple = make_local.submit().result()
        return values, made.n, triple(2)

    state, _ = run_on(make_runner(), body)
    (same_plain, tagged, local, same_deep), made_n, tripled = state.result()
    assert same_plain == plain and same_deep == deep
    assert type(tagged).__name__ == "_Tagged" and tagged == {"a": 1}
    assert type(local).__name__ == "Local" and local.n == 5
    assert (made_n, tripled) == (7, 6)


@task
def flow_parameters():
    from flowc import runtime

    return runtime.flow_run.parameters, runtime.flow_run.id, runtime.flow_run.name


def test_each_flow_run_is_seen_as_itself_in_the_workers(make_runner):
    """A worker that runs task runs of several flow runs (a subflow's, the parent's, on a
    cluster shared by both) tells each task run its own flow run."""
    runner = make_runner()

    @flow(name="inner", task_runner=runner)
    def inner(label):
        return [f.result() for f in [flow_parameters.submit() for _ in range(4)]]

    @flow(name="outer", task_runner=runner)
    def outer(label):
        mine = [f.result() for f in [flow_parameters.submit() for _ in range(4)]]
        return mine, inner(f"{label}-inner")

    with capture() as runs:
        mine, theirs = outer("top")
    outer_run, inner_run = runs.last.flow_runs
    assert {(tuple(p.items()), i, n) for p, i, n in mine} == {
        ((("label", "top"),), str(outer_run.id), outer_run.run_name)
    }
    assert {(tuple(p.items()), i, n) for p, i, n in theirs} == {
        ((("label", "top-inner"),), str(inner_run.id), inner_run.run_name)
    }


@task
def waits_for(path):
    """Runs until ``path`` exists (for at most TIMEOUT-like bounds, so nothing hangs)."""
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return "never released"
        time.sleep(0.01)
    return "released"


def test_the_driver_sees_a_run_running_while_it_runs(make_runner, tmp_path):
    """A worker tells the driver that the run started as it happens, not only with its result."""
    marker = tmp_path / "release"

    def body():
        future = waits_for.submit(str(marker))
        deadline = time.monotonic() + 120
        while future.state.name != "Running" and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = future.state.name
        marker.write_text("go")
        return seen, future.result()

    state, _ = run_on(make_runner(), body)
    assert state.result() == ("Running", "released")
