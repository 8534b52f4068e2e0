"""ETL with direct calls: dict and list results passed on, a member picked out of a result."""

from prefect import flow, task


@task
def extract(source: str) -> list[dict]:
    return [{"id": i, "source": source, "amount": 1000 + i} for i in range(5)]


@task
def clean(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["amount"] % 2 == 0]


@task
def summarize(rows: list[dict]) -> dict:
    copies = [dict(r) for r in rows]  # a result holding its input would be linked to it too
    return {"count": len(rows), "total": sum(r["amount"] for r in rows), "records": copies}


@task
def publish(total: int, label: str) -> str:
    return f"{label}: {total}"


@flow
def etl_records(source: str = "warehouse") -> str:
    raw = extract(source)
    cleaned = clean(raw)
    summary = summarize(cleaned)
    records = summary["records"]
    clean(records)
    return publish(summary["total"], "grand total")
