"""A Prefect flow file whose flow is served (it needs Prefect's server)."""

from prefect import flow


@flow
def served() -> int:
    return 1


served.serve(name="my-deployment")
