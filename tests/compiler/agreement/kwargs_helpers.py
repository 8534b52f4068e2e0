"""``**kwargs`` dicts built in the flow, ``*args`` of futures and a dict comprehension."""

from prefect import flow, task


@task
def extract(name: str) -> list[str]:
    return [name] * 3


@task
def report(*parts, title: str = "report", **sections) -> str:
    return title + str(len(parts)) + ",".join(sorted(sections))


@flow
def kwargs_helpers(names: tuple[str, ...] = ("alpha", "beta")) -> str:
    futures = {n: extract.submit(n) for n in names}
    options = dict(title="daily")
    one = report.submit(**futures, **options)
    two = report.submit(*futures.values(), title="positional")
    three = report.submit(*[extract.submit("gamma")], extra=futures["alpha"])
    return one.result() + two.result() + three.result()
