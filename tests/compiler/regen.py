"""Regenerate the golden plans: ``python -m tests.compiler.regen`` (from the project root)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SKIP = {"helpers_mod.py"}


def golden(path: Path, expand: bool) -> str:
    from flowc.compiler import compile_file

    plan = compile_file(path, expand=expand).plan
    for flow in plan.flows:
        flow.file = path.name
    return plan.to_json() + "\n"


def fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*.py") if p.name not in SKIP)


def main() -> None:
    for path in fixtures():
        for expand in (False, True):
            suffix = ".expanded.plan.json" if expand else ".plan.json"
            path.with_name(path.stem + suffix).write_text(golden(path, expand))
            print("wrote", path.with_name(path.stem + suffix).name)


if __name__ == "__main__":
    main()
