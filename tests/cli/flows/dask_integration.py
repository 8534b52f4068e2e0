"""Imports Prefect's Dask integration, which flowc maps to its own DaskTaskRunner."""

from prefect import flow
from prefect_dask import DaskTaskRunner


@flow(task_runner=DaskTaskRunner())
def dask_flow() -> int:
    return 1
