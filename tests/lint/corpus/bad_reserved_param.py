# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


@task
def step(x, return_state=False):  # expect: FC004
    return x


@flow
def f():
    return step(1)
