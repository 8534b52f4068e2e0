"""An async flow with an async task."""

from flowc import flow, task


@task
async def add(x: int, y: int) -> int:
    return x + y


@flow
async def async_flow(x: int = 1) -> int:
    return await add(x, 10)
