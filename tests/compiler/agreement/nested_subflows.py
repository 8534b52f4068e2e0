"""A subflow calling a subflow; futures passed in, values coming back."""

from prefect import flow, task


@task
def fetch(i: int) -> tuple:
    return (i, f"payload-{i}")


@task
def enrich(record: tuple) -> tuple:
    return (*record, "enriched")


@task
def count(records: list) -> int:
    return len(records) + 1000


@flow(name="inner-enrich")
def inner(records: list) -> list:
    return [enrich.submit(r) for r in records]


@flow
def middle(ids: list[int]) -> int:
    fetched = [fetch.submit(i) for i in ids]
    enriched = inner(fetched)
    return count(enriched)


@flow
def outer_pipeline() -> int:
    seed = fetch.submit(0)
    total = middle([1, 2, 3])
    again = middle(ids=[4])
    return count.submit([seed, total, again]).result()
