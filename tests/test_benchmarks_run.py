"""The benchmarks run and print their ratios (a smoke run: nothing here is timed or compared)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_and_print_every_ratio() -> None:
    env = {**os.environ, "ZNDRAW_BENCH_QUICK": "1"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks",
        "-p",
        "no:cacheprovider",
        "--benchmark-only",
        "-q",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "zndraw_socketio: time per event and ratios" in out
    for variant, target in [
        ("typed", "target <= 1.15"),
        ("typed_3vars", "target <= 1.30"),
        ("mw1", "target <= 1.40"),
        ("mw3", "target <= 1.80"),
        ("dep1", "target <= 1.50"),
        ("dep3", "target <= 2.50"),
        ("typed", "target <= 1.30"),
        ("mw1", "target <= 1.50"),
    ]:
        lines = [line for line in out.splitlines() if f"({variant} - raw) / (floor - raw)" in line]
        assert any(target in line for line in lines), (variant, target, out[-2000:])
