"""Value edges: a task's *result* passed to another task is an upstream, as Prefect records it."""

from __future__ import annotations

from flowc import capture, flow, quote, task
from flowc.runtime.lineage import ResultLinks


@task
def extract():
    return [10, 20, 300]


@task
def transform(values):
    return [v * 2 for v in values]


@task
def greet(name):
    return f"hi {name}"


@task
def name():
    return "Marvin"


@task
def flag():
    return True


def _edges(runs):
    return [
        (run.task.name, sorted(up.task.name for up in run.upstreams.edges()))
        for run in runs.last.records
    ]


def test_direct_call_result_passed_on_is_an_upstream():
    @flow
    def f():
        return transform(extract())

    with capture() as runs:
        f()
    assert _edges(runs) == [("extract", []), ("transform", ["extract"])]


def test_result_of_a_future_passed_on_is_an_upstream():
    @flow
    def f():
        text = name.submit().result()
        return greet.submit(text).result()

    with capture() as runs:
        assert f() == "hi Marvin"
    assert _edges(runs)[1] == ("greet", ["name"])


def test_members_of_a_result_one_level_deep_are_linked():
    @flow
    def f():
        values = extract()
        return transform.map([values[:2], values]).result()

    with capture() as runs:
        f()
    edges = _edges(runs)
    # a new list of small ints (no edge); the list itself is the result of extract
    assert edges[1:] == [("transform", []), ("transform", ["extract"])]


def test_singletons_are_never_linked():
    @task
    def echo(x):
        return x

    @flow
    def f():
        return echo(flag())

    with capture() as runs:
        assert f() is True
    assert _edges(runs)[1] == ("echo", [])


def test_value_edges_do_not_block_or_change_inputs():
    @task
    def boom():
        raise ValueError("failed")

    @task
    def describe(error):
        return type(error).__name__

    @flow
    def f():
        error = boom.submit().result(raise_on_failure=False)
        return describe.submit(error).result()

    with capture() as runs:
        assert f() == "ValueError"
    assert _edges(runs)[1] == ("describe", ["boom"])


def test_quote_hides_values_from_lineage():
    @flow
    def f():
        return transform(quote(extract()))

    with capture() as runs:
        f()
    assert _edges(runs)[1] == ("transform", [])


def test_links_verify_identity():
    links = ResultLinks()
    value = [1, 2]

    class Run:
        pass

    run = Run()
    links.link(value, run)  # type: ignore[arg-type]
    assert links.producer_of(value) is run
    assert links.producer_of([1, 2]) is None


def test_links_written_from_many_threads_at_once_are_all_kept():
    """Task runs finish on many threads and each links its result, with no lock."""
    import threading

    links = ResultLinks()

    class Run:
        pass

    barrier = threading.Barrier(8)
    made: list[list[tuple[object, object]]] = [[] for _ in range(8)]

    def finish(k: int) -> None:
        barrier.wait()
        for i in range(5_000):
            value, run = ([k, i] if i % 2 else 1000 + 10_000 * k + i), Run()
            made[k].append((value, run))
            links.link(value, run)  # type: ignore[arg-type]

    threads = [threading.Thread(target=finish, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(links.producer_of(value) is run for pairs in made for value, run in pairs)


def test_a_state_or_future_a_subflow_returned_stands_for_its_own_run_only():
    @flow
    def pair():
        return extract(return_state=True), name.submit()

    @flow
    def parent():
        state, future = pair()
        greet(state)
        greet(future)
        whole = pair()
        greet(whole)  # the tuple itself is the subflow's result

    with capture() as runs:
        parent()
    assert [ups for task_name, ups in _edges(runs) if task_name == "greet"] == [
        ["extract"],
        ["name"],
        ["extract", "flow:pair", "name"],
    ]


@task
def always_fails():
    raise ValueError("I fail successfully")


@task
def always_succeeds():
    return "success"


def test_a_result_in_wait_for_is_recorded_and_never_blocks():
    """Prefect's documented "always succeeds" flow: the exception a failed run returned with
    ``raise_on_failure=False``, given as ``wait_for``, links the two runs; the second runs."""

    @flow
    def always_succeeds_flow():
        x = always_fails.submit().result(raise_on_failure=False)
        return always_succeeds.submit(wait_for=[x])

    with capture() as runs:
        state = always_succeeds_flow(return_state=True)
    assert state.is_completed()
    failed, succeeded = runs.last.records
    assert failed.state.is_failed() and succeeded.state.is_completed()
    report = runs.report()
    waited = {r["task"]: r["upstream"]["wait_for"] for r in report["task_runs"]}
    assert waited == {"always_fails": [], "always_succeeds": [str(failed.id)]}
