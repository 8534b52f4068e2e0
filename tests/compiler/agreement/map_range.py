"""``.map`` over ``range(n)`` with a parameter default, then a map over the map."""

from prefect import flow, task


@task
def make_batch(i: int) -> list[int]:
    return [i * 1000 + j for j in range(3)]


@task
def score(batch: list[int]) -> float:
    return sum(batch) / 3.5


@task
def best(scores: list[float]) -> float:
    return max(scores)


@flow
def map_range(n: int = 4) -> float:
    batches = make_batch.map(range(n))
    scores = score.map(batches)
    top = best.submit(scores)
    return top.result()
