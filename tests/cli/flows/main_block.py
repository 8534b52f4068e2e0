"""Three flows; the __main__ block (through main()) calls `report` with literal arguments."""

import sys

from prefect import flow


@flow
def build(n: int = 1) -> int:
    return n


@flow
def report(title: str, copies: int = 1, shout: bool = False) -> str:
    text = (title.upper() if shout else title) * copies
    print(f"report: {text}")
    return text


@flow
def unused() -> None:
    pass


def main() -> None:
    report("ab", copies=2)
    print("argv:", sys.argv[1:])


if __name__ == "__main__":
    main()
