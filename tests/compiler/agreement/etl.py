"""Direct calls passing values on: Prefect records those as edges too."""

from prefect import flow, task


@task
def extract(n: int) -> list[int]:
    return list(range(300, 300 + n))


@task
def transform(rows: list[int]) -> list[int]:
    return [r * 2 for r in rows]


@task
def load(rows: list[int]) -> int:
    return len(rows)


@flow
def etl(n: int = 4) -> int:
    rows = extract(n)
    doubled = transform(rows)
    return load(doubled)
