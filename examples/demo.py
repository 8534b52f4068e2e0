"""`make demo`: compile and draw every seed example, then run each with `flowc run`.

Each example is the Prefect "Task runners" page's code with only the imports changed. First
the compiler reads each file without running it (`flowc explain`, and `flowc graph` into
`out/seed/<name>.svg`); then each runs as written — from its compiled plan, since none has a
graph break — on the default thread runner, except the second elevator, which shows the
process runner. Each run writes its report, and `flowc graph --run` draws the run's task runs
coloured by their final states (`out/seed/<name>.run.svg`) and as an interactive page — the
graph, a timeline of the task runs and their durations — to open in a browser
(`out/seed/<name>.run.html`). The elevators really sleep (ten floors, three at a time: about
20 seconds each).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SEED = Path(__file__).resolve().parent / "seed"
EXAMPLES = [
    "hello_world.py",
    "access_results.py",
    "raise_on_failure.py",
    "elevator_threads.py",
    "elevator_processes.py",
]


OUT = Path("out") / "seed"


def flowc(*args: str) -> int:
    return subprocess.run([sys.executable, "-m", "flowc", *args]).returncode


def main() -> int:
    failures = 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLES:
        drawing = OUT / f"{Path(name).stem}.svg"
        print(f"\n$ flowc explain examples/seed/{name}", flush=True)
        failures += flowc("explain", str(SEED / name)) != 0
        failures += flowc("graph", str(SEED / name), "-o", str(drawing)) != 0
        print(f"drawn: {drawing}", flush=True)
    for name in EXAMPLES:
        report = OUT / f"{Path(name).stem}.run.json"
        print(f"\n$ flowc run examples/seed/{name} --report {report}", flush=True)
        failures += flowc("run", str(SEED / name), "--report", str(report)) != 0
        for drawing in (OUT / f"{Path(name).stem}.run.svg", OUT / f"{Path(name).stem}.run.html"):
            expand = ["--expand"] if drawing.suffix == ".svg" else []
            command = ["graph", str(SEED / name), *expand, "--run", str(report), "-o", str(drawing)]
            failures += flowc(*command) != 0
            print(f"drawn: {drawing}", flush=True)
    outcome = (
        "every seed example compiled, drew, ran from its plan and drew its run (SVG and HTML)"
        if not failures
        else f"{failures} step(s) failed"
    )
    print(f"\n{outcome}; drawings in {OUT}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
