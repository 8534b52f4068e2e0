# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


def settle(futures):
    wait(futures)


@flow
def f(xs: list[int]):
    futures = [add.submit(x) for x in xs]
    settle(futures)
