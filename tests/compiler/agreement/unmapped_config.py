"""``unmapped`` configuration and ``allow_failure`` on mapped futures."""

from prefect import allow_failure, flow, task, unmapped


@task
def load_config(env: str) -> dict:
    return {"env": env, "scale": 3}


@task
def fetch_page(page: int) -> list[str]:
    return [f"item-{page}-{k}" for k in range(2)]


@task
def process(items: list[str], config: dict) -> int:
    return len(items) * config["scale"] + 1000


@task
def audit(pages: list) -> str:
    return f"audited {len(pages)}"


@flow
def unmapped_config(env: str = "prod") -> str:
    config = load_config.submit(env)
    pages = fetch_page.map([1, 2, 3])
    processed = process.map(pages, unmapped(config))
    report = audit.submit(allow_failure(processed))
    return report.result()
