"""A subflow returning a tuple of a State and a future: each member is linked by its own run."""

from prefect import flow, task


@task
def produce() -> int:
    return 1000


@task
def consume(x) -> int:
    return 1


@flow
def pair() -> tuple:
    state = produce(return_state=True)
    future = produce.submit()
    return state, future


@flow
def subflow_tuple() -> int:
    state, future = pair()
    consume(state)  # produce's run only, not the subflow's
    consume(future)
    both = pair()
    consume(both)  # the tuple itself is the subflow's result: its run and both members'
    return 0
