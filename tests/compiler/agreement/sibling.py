"""Tasks and a helper imported from a sibling module of the project."""

import shared_tasks
from prefect import flow, task
from shared_tasks import parse, read_and_parse, read_source


@task
def index(records: list[dict]) -> int:
    return len(records) + 1000


@flow
def sibling() -> int:
    lines = read_source.submit("a.txt")
    parsed = parse.submit(lines)
    other = read_and_parse("b.txt")
    third = shared_tasks.parse.map([["x"], ["y"]])
    return index.submit([parsed, other, *third]).result()
