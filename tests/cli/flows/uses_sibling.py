"""Imports a task from a sibling module; flowc run puts this directory on sys.path."""

from sibling_tasks import shout

from flowc import flow


@flow
def sibling_flow(word: str = "hi") -> str:
    return shout.submit(word).result()
