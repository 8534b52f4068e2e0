"""``.result()`` of a map element and ``sum`` of results passed on."""

from prefect import flow, task


@task
def measure(sensor: int) -> float:
    return sensor * 1.5 + 1002


@task
def threshold(value: float) -> bool:
    return value > 1001


@task
def store(total: float) -> str:
    return f"stored {total}"


@flow
def map_results(sensors: int = 3) -> str:
    readings = measure.map(range(sensors))
    first = readings[0].result()
    over = threshold.submit(first)
    total = sum(f.result() for f in readings)
    listed = [f.result() for f in readings]
    second = threshold.submit(listed[1])
    if over.result() and second.result():
        return store.submit(total).result()
    return "below threshold"
