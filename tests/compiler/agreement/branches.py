"""Branches on parameters with defaults: only the taken branch runs."""

from prefect import flow, task


@task
def full_refresh(table: str) -> str:
    return f"full {table}"


@task
def incremental(table: str, since: str) -> str:
    return f"incr {table} {since}"


@task
def validate(result: str) -> str:
    return result.upper()


@flow
def branches(mode: str = "incremental", tables: tuple[str, ...] = ("a", "b"), strict: bool = True):
    outputs = []
    for table in tables:
        if mode == "full":
            out = full_refresh.submit(table)
        elif mode == "incremental" and table != "b":
            out = incremental.submit(table, "2024-01-01")
        else:
            out = full_refresh.submit(table)
        outputs.append(out)
    checks = [validate.submit(o) for o in outputs] if strict else []
    if not checks:
        validate.submit("nothing")
    return [c.result() for c in checks]
