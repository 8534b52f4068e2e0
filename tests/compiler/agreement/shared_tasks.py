"""Tasks shared by the flows of ``sibling.py`` (imported as a sibling module)."""

from prefect import task


@task(name="read-source")
def read_source(path: str) -> list[str]:
    return [f"{path}:{k}" for k in range(3)]


@task
def parse(lines: list[str]) -> list[dict]:
    return [{"line": line} for line in lines]


def read_and_parse(path: str):
    return parse.submit(read_source.submit(path))
