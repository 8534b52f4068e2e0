"""``zip`` and ``enumerate`` over literal lists and over lists of futures."""

from prefect import flow, task


@task
def train(model: str, seed: int) -> dict:
    return {"trained": model, "with_seed": seed, "loss": 0.5}


@task
def evaluate(result: dict, rank: int) -> float:
    return result["loss"] + rank


@flow
def zip_enumerate() -> list[float]:
    models = ["linear", "tree", "forest"]
    seeds = [11, 22, 33]
    runs = [train.submit(m, s) for m, s in zip(models, seeds, strict=True)]
    evals = []
    for rank, run in enumerate(runs):
        evals.append(evaluate.submit(run, rank))
    for name, ev in zip(models, evals, strict=True):
        if name != "tree":
            ev.wait()
    return [e.result() for e in evals]
