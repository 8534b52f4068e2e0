"""An async flow with async tasks awaited directly and gathered."""

import asyncio

from prefect import flow, task


@task
async def fetch_user(uid: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return (uid, f"user{uid}")


@task
async def fetch_orders(user: tuple[int, str]) -> list[dict]:
    return [{"uid": user[0], "order": k} for k in range(2)]


@task
def summarize(users: list, orders: list) -> str:
    return f"{len(users)} users, {len(orders)} order lists"


@flow
async def async_gather() -> str:
    users = await asyncio.gather(fetch_user(1), fetch_user(2), fetch_user(3))
    first_orders = await fetch_orders(users[0])
    orders = await asyncio.gather(*[fetch_orders(u) for u in users[1:]])
    return summarize(users, [first_orders, *orders])
