"""The benchmarks run and print their ratios (a smoke run: nothing here is timed or compared)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCKET_IO_CLIENT = ROOT / "tests" / "typescript" / "node" / "node_modules" / "socket.io-client"


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
    for battery, target, rows in [
        ("ratelimit", "target <= 2.00 µs", 1),
        ("prometheus", "target <= 3.00 µs", 2),
    ]:
        lines = [line for line in out.splitlines() if f"({battery} - typed) = " in line]
        assert sum(target in line and "µs per event" in line for line in lines) == rows, (
            battery,
            out[-2000:],
        )
    # the wire codec: python-socketio with the packet class, and wrap()'s defaults, against raw
    for variant, verdict, rows in [
        ("raw_codec", "reported, no target", 2),
        ("default", "target < 0.00 µs", 2),
    ]:
        lines = [line for line in out.splitlines() if f"({variant} - raw) = " in line]
        assert sum(verdict in line for line in lines) == rows, (variant, out[-2000:])
    # end to end over loopback (both N) and the bytes retained per event (both directions)
    for n in (1, 20):
        assert f"end to end, N = {n} clients per server" in out, out[-3000:]
    for variant in ("raw", "raw_codec", "typed", "typed_engineio"):
        assert (
            sum(
                line.strip().startswith(f"{variant} ") and "round trips/s" in line
                for line in out.splitlines()
            )
            == 2
        )
    for ratio in ("typed/raw", "typed/raw_codec", "typed_engineio/raw_codec"):
        assert out.count(f"  {ratio} round trips/s = ") == 2, ratio
    # end to end from node's socket.io-client (skipped without node and socket.io-client, off CI)
    if shutil.which("node") is not None and (SOCKET_IO_CLIENT / "package.json").is_file():
        for n in (1, 20):
            assert f"end to end from node's socket.io-client, N = {n} connections" in out, out[-3000:]
        for variant in ("raw", "typed"):
            rows = [line for line in out.splitlines() if line.strip().startswith(f"node:{variant} ")]
            assert sum("round trips/s" in line and "p99" in line for line in rows) == 2, variant
        ratios = [line for line in out.splitlines() if line.startswith("  node: typed / raw = ")]
        assert len(ratios) == 2 and all("target >= 1.05: " in line for line in ratios), out[-3000:]
        assert out.count("  node: server CPU per call, typed / raw = ") == 2, out[-3000:]
    # what a rejected payload costs beyond pydantic's validation (the 422 reply and its log entry)
    for case in ("wrong items", "extra keys", "both"):
        assert f"rejection, {case} (" in out, out[-3000:]
    assert out.count("extra/validation = ") == 3, out[-3000:]
    for direction in ("inbound", "outbound"):
        assert f"memory, {direction}: " in out and "bytes retained per event" in out, out[-3000:]
