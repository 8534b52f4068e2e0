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
def f():
    futures = [add.submit(i) for i in range(4)]  # expect: FC001
    for fut in futures:
        if fut.result() > 2:
            break
