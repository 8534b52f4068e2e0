"""Results Prefect cannot link (small ints, None, booleans) and ones it can."""

from prefect import flow, task


@task
def count_small() -> int:
    return 7


@task
def count_big() -> int:
    return 70000


@task
def is_ready() -> bool:
    return True


@task
def nothing() -> None:
    return None


@task
def use(value) -> str:
    return repr(value)


@flow
def small_values() -> list[str]:
    small = count_small()
    big = count_big()
    ready = is_ready()
    none = nothing()
    return [use(small), use(big), use(ready), use(none)]
