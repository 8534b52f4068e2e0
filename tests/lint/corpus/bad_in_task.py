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
def fan_out(n):
    add.submit(n)  # expect: FC001
    return n


@flow
def f():
    return fan_out(3)
