"""A downstream of an upstream that did not complete never runs: it is NotReady."""

from __future__ import annotations

from flowc import allow_failure, capture, flow, task


@task
def fail():
    raise ValueError("root cause")


@task
def step(x):
    return x


def test_downstream_of_failed_upstream_is_not_ready_with_prefects_message():
    @flow
    def f():
        upstream = fail.submit()
        return step.submit(upstream)

    with capture() as runs:
        f(return_state=True)
    upstream, downstream = runs.last.records
    assert downstream.state.type.value == "PENDING" and downstream.state.name == "NotReady"
    assert downstream.state.message == (
        f"Upstream task run '{upstream.id}' did not reach a 'COMPLETED' state."
    )
    assert downstream.run_count == 0 and downstream.start is None


def test_not_ready_propagates_down_a_chain_without_retries():
    ran = []

    @task(retries=3)
    def record(x):
        ran.append(x)
        return x

    @flow
    def f():
        future = fail.submit()
        for _ in range(3):
            future = record.submit(future)
        return future

    with capture() as runs:
        f(return_state=True)
    assert ran == []
    assert [r.state.name for r in runs.last.records] == [
        "Failed",
        "NotReady",
        "NotReady",
        "NotReady",
    ]
    assert all(r.run_count == 0 for r in runs.last.records[1:])


def test_wait_for_on_failed_upstream_blocks_too():
    @flow
    def f():
        return step.submit(1, wait_for=[fail.submit()])

    assert f(return_state=True).data[0].name == "NotReady"


def test_allow_failure_lets_downstream_of_not_ready_run():
    @flow
    def f():
        not_ready = step.submit(fail.submit())
        return step.submit(allow_failure(not_ready)).result()

    assert type(f()).__name__ == "UnfinishedRun"


def test_long_failed_chain_does_not_exhaust_the_stack():
    @flow
    def f():
        future = fail.submit()
        for _ in range(5000):
            future = step.submit(future)
        return future

    state = f(return_state=True)
    assert state.is_failed()
    assert state.data[0].name == "NotReady"


def test_unfinished_run_error_names_the_root_cause_upstream():
    import pytest

    from flowc.exceptions import UnfinishedRun

    @flow
    def f():
        return step.submit(step.submit(fail.submit()))

    with pytest.raises(UnfinishedRun, match=r"its upstream 'fail-\w+' ended Failed \(.*root cause"):
        f()
