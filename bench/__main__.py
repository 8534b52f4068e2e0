"""``python -m bench [--quick] [--json PATH] [NAME ...]``: run the suite, print the table.

NAME selects benchmarks whose name starts with it (case-insensitive): ``W1`` runs
W1-threads and W1-processes, ``mem`` the memory benchmark. Exits 0 whatever the verdicts (a
MISS is a finding, not a failure), 1 if a benchmark crashed, 2 for a NAME that matches
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench import all_benchmarks
from bench.harness import Benchmark, run_all, write_json


def select(benchmarks: list[Benchmark], prefixes: list[str]) -> list[Benchmark]:
    if not prefixes:
        return benchmarks
    wanted = [p.lower() for p in prefixes]
    return [b for b in benchmarks if any(b.name.lower().startswith(p) for p in wanted)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark flowc against plain concurrent.futures, interleaved.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="run benchmarks with this prefix")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--scale",
        choices=("default", "full"),
        default="default",
        help="full: also the largest sizes of group S (2,000,000 runs; slow)",
    )
    args = parser.parse_args(argv)
    if args.scale == "full":
        os.environ["FLOWC_BENCH_SCALE"] = "full"
    benchmarks = all_benchmarks()  # after --scale: group S sizes itself from it

    if args.list:
        for bench in benchmarks:
            print(f"{bench.name:22} {bench.summary}")
        return 0
    chosen = select(benchmarks, args.names)
    if not chosen:
        known = ", ".join(b.name for b in benchmarks)
        parser.error(f"no benchmark name starts with {' or '.join(args.names)} (known: {known})")

    started = time.perf_counter()
    results = run_all(chosen, quick=args.quick, out=sys.stdout)
    mode = "quick" if args.quick else "full"
    print(f"\n{mode} run, {len(results)} benchmark(s) in {time.perf_counter() - started:.0f} s")
    if args.json:
        write_json(args.json, results, args.quick)
        print(f"figures written to {args.json}")
    if any(r.hung for r in results):
        # A hung benchmark's thread still holds its pool; interpreter exit (flowc's atexit
        # hook shuts pools down) could block on it, so leave without running exit hooks.
        print("a benchmark hung: exiting without waiting for it", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 1 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
