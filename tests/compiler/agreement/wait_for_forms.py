"""``wait_for`` given lists, a map's futures and a mix with data edges.

A single future (``wait_for=fut``, which Prefect 3 accepts) is in ``runtime_wait_for_single.py``.
"""

from prefect import flow, task
from prefect.futures import wait


@task
def create_table(name: str) -> str:
    return f"table {name}"


@task
def seed(table: str, rows: int) -> int:
    return rows + 1000


@task
def vacuum() -> None:
    return None


@task
def notify(message: str) -> str:
    return message


@flow
def wait_for_forms() -> None:
    users = create_table.submit("users")
    orders = create_table.submit("orders")
    seeded = seed.submit("users", 10, wait_for=[users, orders])
    cleaned = vacuum.submit(wait_for=[seeded])
    shards = create_table.map(["a", "b"])
    done = notify.submit("ready", wait_for=shards)
    last = notify.submit(users, wait_for=[cleaned, done])
    wait([last])
