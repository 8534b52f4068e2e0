"""A result's dict key that spells a later task's parameter name must not link the two.

Prefect collects a task run's inputs per parameter value (``{k: collect(v) for k, v in
parameters.items()}``), never from the parameter names: the interned string ``"name"`` (a
key of ``profile``'s result) must not link every later run whose parameter is called ``name``.
"""

from prefect import flow, task


@task
def profile(user_id: int) -> dict:
    return {"name": f"user-{user_id}", "active": True}


@task
def greet(name: str) -> str:
    return f"hello {name}"


@flow
def runtime_param_keys() -> str:
    first = profile.submit(1000)
    first.wait()
    return greet.submit("visitor").result()
