"""The benchmark suite still runs end to end (figures are not checked: that is `make bench`).

The quick suite takes about a minute on an idle machine and several on a loaded one; the
subprocess is given 14 minutes and pytest 15, so the subprocess's own timeout (which says
what it was doing) always fires first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT = 840
PYTEST_TIMEOUT = SUBPROCESS_TIMEOUT + 60


@pytest.mark.timeout(PYTEST_TIMEOUT)
def test_bench_quick_runs_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout
    document = json.loads(out.read_text(encoding="utf-8"))
    ran = {entry["name"]: entry["status"] for entry in document["benchmarks"]}
    assert set(ran) == _benchmark_names()
    assert "error" not in ran.values(), ran


def _benchmark_names() -> set[str]:
    listing = subprocess.run(
        [sys.executable, "-m", "bench", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}
