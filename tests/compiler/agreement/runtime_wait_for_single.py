"""``wait_for=`` one future, not a list: Prefect 3 accepts it (``OneOrManyFutureOrResult``)."""

from prefect import flow, task


@task
def migrate() -> str:
    return "schema v2"


@task
def backfill(day: str) -> str:
    return f"backfilled {day}"


@flow
def runtime_wait_for_single() -> str:
    migrated = migrate.submit()
    return backfill.submit("2024-01-01", wait_for=migrated).result()
