"""Futures nested in dicts, tuples, nested lists, keyword arguments and ``**kwargs``."""

from prefect import flow, task


@task
def fetch(key: str) -> str:
    return f"value-of-{key}"


@task
def merge(parts: dict) -> list:
    return sorted(parts)


@task
def pair(left: tuple, right: list) -> int:
    return len(left) + len(right) + 1000


@task
def render(template: str, **context) -> str:
    return template + ",".join(sorted(context))


@flow
def containers() -> list:
    a = fetch.submit("a")
    b = fetch.submit("b")
    c = fetch.submit("c")
    merged = merge.submit({"a": a, "b": b, "nested": {"c": c}})
    paired = pair.submit((a, b), right=[[c], [a, [b]]])
    extras = {"first": a, "second": c}
    rendered = render.submit("tpl", **extras)
    kw = render.submit(template="x", other=b)
    return [merged.result(), paired.result(), rendered.result(), kw.result()]
