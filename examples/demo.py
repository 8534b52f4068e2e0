"""`make demo`: run every seed example with `flowc run`, one after another, as written.

Each example is the Prefect "Task runners" page's code with only the imports changed: all run
on the default thread runner except the second elevator, which shows the process runner. The
elevators really sleep (ten floors, three at a time: about 20 seconds each).
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


def main() -> int:
    failures = 0
    for name in EXAMPLES:
        command = [sys.executable, "-m", "flowc", "run", str(SEED / name)]
        print(f"\n$ flowc run examples/seed/{name}", flush=True)
        failures += subprocess.run(command).returncode != 0
    print(f"\n{len(EXAMPLES) - failures} of {len(EXAMPLES)} seed examples completed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
