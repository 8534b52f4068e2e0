"""``prefect_dask.get_dask_client``: a client of the cluster the run executes on."""

from __future__ import annotations

import asyncio

import pytest

from flowc import flow, task
from flowc.integrations.prefect_dask import get_async_dask_client, get_dask_client
from flowc.task_runners import ThreadPoolTaskRunner


def _square(x: int) -> int:
    return x * x


@task
def fan_out(n: int) -> tuple[list[int], str]:
    with get_dask_client(timeout="60s") as client:
        futures = client.map(_square, range(n))
        return client.gather(futures), client.scheduler.address


def test_a_task_on_dask_gets_a_client_of_the_same_cluster(dask_address: str) -> None:
    from flowc.task_runners import DaskTaskRunner

    @flow(task_runner=DaskTaskRunner(address=dask_address))
    def dask_flow() -> tuple[list[int], str]:
        return fan_out.submit(4).result()

    squares, address = dask_flow()
    assert squares == [0, 1, 4, 9]
    assert address == dask_address


def test_an_async_flow_body_gets_an_async_client_of_its_cluster(dask_address: str) -> None:
    from flowc.task_runners import DaskTaskRunner

    @flow(task_runner=DaskTaskRunner(address=dask_address))
    async def async_dask_flow() -> tuple[list[int], str]:
        async with get_async_dask_client() as client:
            squares = await client.gather(client.map(_square, range(3)))
            return squares, client.scheduler.address

    assert asyncio.run(async_dask_flow()) == ([0, 1, 4], dask_address)


def test_a_flow_body_not_on_dask_is_told_so() -> None:
    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def threads_flow() -> None:
        with get_dask_client():
            pass

    with pytest.raises(RuntimeError, match="needs the flow to run on DaskTaskRunner"):
        threads_flow()
