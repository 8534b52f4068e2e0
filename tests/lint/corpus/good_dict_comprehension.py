# ruff: noqa
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y=1):
    return x + y


@task
def total(values):
    return sum(values)


@flow
def f(names: list[str]):
    futures = {name: add.submit(name) for name in names}
    wait(list(futures.values()))
    return {name: fut.result() for name, fut in futures.items()}
