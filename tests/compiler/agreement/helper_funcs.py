"""Plain helper functions that submit tasks and return futures."""

from prefect import flow, task


@task
def query(sql: str) -> list[tuple]:
    return [(sql, i) for i in range(3)]


@task
def to_frame(rows: list[tuple]) -> dict:
    return {"data": rows}


@task
def join(left: dict, right: dict) -> int:
    return len(left["data"]) + len(right["data"]) + 1000


def load_table(name: str):
    rows = query.submit(f"select * from {name}")
    return to_frame.submit(rows)


def load_all(names: list[str]) -> dict:
    return {n: load_table(n) for n in names}


@flow
def helper_funcs() -> int:
    frames = load_all(["users", "orders"])
    joined = join.submit(frames["users"], frames["orders"])
    single = load_table("items")
    return joined.result() + len(single.result()["data"])
