"""A subflow given futures and returning futures; dicts of futures; a loop of known length."""

from prefect import flow, task


@task
def fetch(i: int) -> int:
    return i + 1000


@task
def combine(parts: dict) -> int:
    return sum(parts.values())


@task
def report(value: int) -> str:
    return f"total {value}"


@flow(name="child-flow")
def child(values: list[int]):
    return [fetch.submit(v) for v in values]


@flow
def parent() -> str:
    firsts = [fetch.submit(i) for i in range(2)]
    states = child(firsts)
    combined = combine.submit({"a": firsts[0], "b": firsts[1]})
    for _ in range(2):
        fetch.submit(5).wait()
    final = report.submit(combined)
    return final.result() + str(len(states))
