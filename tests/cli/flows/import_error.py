"""Top-level code that raises while the file is imported."""

from flowc import flow


def load_settings() -> dict:
    raise KeyError("DATABASE_URL")


SETTINGS = load_settings()


@flow
def never_reached() -> None:
    pass
