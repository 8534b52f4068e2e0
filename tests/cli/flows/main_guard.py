"""A main guard must not run under flowc run."""

from flowc import flow


@flow
def guarded() -> str:
    return "guarded ran"


if __name__ == "__main__":
    raise SystemExit("the main guard ran")
