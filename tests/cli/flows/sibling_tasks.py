"""A sibling module of uses_sibling.py, imported by name; it imports prefect too."""

from prefect import task


@task
def shout(word: str) -> str:
    return word.upper() + "!"
