"""Tasks defined in this file run in worker processes with --runner processes."""

import os

from flowc import flow, task


@task
def where(x: int) -> tuple[int, int]:
    return x, os.getpid()


@flow
def process_flow(n: int = 4) -> dict:
    results = where.map(range(n)).result()
    pids = {pid for _, pid in results}
    return {"values": [x for x, _ in results], "parent": os.getpid(), "workers": sorted(pids)}
