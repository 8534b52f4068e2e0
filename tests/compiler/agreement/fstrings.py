"""Results used in f-strings and arithmetic: new objects, so Prefect records no lineage."""

from prefect import flow, task


@task
def count_rows(table: str) -> int:
    return 12345


@task
def table_name(schema: str) -> str:
    return f"{schema}.events"


@task
def log_line(message: str) -> str:
    return message


@flow
def fstrings() -> list[str]:
    rows = count_rows("events")
    name = table_name("raw")
    future_rows = count_rows.submit("users")
    a = log_line(f"{name} has {rows} rows")
    b = log_line.submit(f"users: {future_rows.result()}")
    c = log_line.submit(name)
    d = log_line.submit(rows * 2)
    return [a, b.result(), c.result(), str(d.result())]
