"""``opaque`` resolves the future it wraps (an edge) without searching the value it gives."""

from dataclasses import dataclass

from prefect import flow, task
from prefect.utilities.annotations import opaque


@dataclass
class Pipeline:
    base_rate: float


@task
def build_pipeline(base_rate: float) -> Pipeline:
    return Pipeline(base_rate=base_rate)


@task
def run_pipeline(pipeline: Pipeline) -> float:
    return pipeline.base_rate * 1.5


@flow
def opaque_input() -> float:
    future = build_pipeline.submit(100.0)
    return run_pipeline.submit(opaque(future)).result()
