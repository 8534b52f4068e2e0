"""Members of results: tuple unpacking, dataclass fields, ``.get`` and nested members."""

from dataclasses import dataclass

from prefect import flow, task


@dataclass
class Split:
    train: list[int]
    test: list[int]


@task
def split(n: int) -> Split:
    data = list(range(1000, 1000 + n))
    return Split(train=data[:-2], test=data[-2:])


@task
def bounds(values: list[int]) -> tuple[int, int]:
    return min(values) * 3, max(values) * 3


@task
def settings() -> dict:
    return {"lr": [0.1, 0.2], "depth": 12345}


@task
def fit(values, setting) -> str:
    return f"fit {len(values)} {setting}"


@flow
def unpacking() -> list[str]:
    parts = split(10)
    low, high = bounds(parts.train)
    config = settings()
    a = fit(parts.test, config.get("depth"))
    b = fit.submit([low, high], config["lr"][0])
    return [a, b.result()]
