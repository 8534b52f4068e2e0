"""``quote`` hides a value: no resolution, no dependency; other arguments still count."""

from prefect import flow, task
from prefect.utilities.annotations import quote


@task
def build_index(name: str) -> dict:
    return {"index_name": name, "entries": list(range(400, 410))}


@task
def lookup(index, key: int) -> str:
    return f"{key}"


@flow
def quoted() -> list[str]:
    index = build_index.submit("main")
    direct = build_index("side")
    a = lookup.submit(quote(index), 401)
    b = lookup.submit(quote(direct), 402)
    c = lookup.submit(index, 403)
    return [a.result(), b.result(), c.result()]
