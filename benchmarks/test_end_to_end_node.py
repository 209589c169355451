"""Round trips over loopback from the official JavaScript ``socket.io-client``, run by node.

Two ``e2e_server.py`` servers run side by side: ``raw`` (a plain python-socketio ``AsyncServer``,
a dict handler ``ping`` returning ``{"reply": data["message"]}``) and ``typed`` (the same server
wrapped with ``wrap()``'s defaults, a typed handler ``(sid, data: Ping) -> Pong``), both with
structlog configured as the README recommends for production. For N = 1 and N = 20 connections,
``node_client.cjs`` opens N websocket connections to one server, warms up, then makes sequential
``emitWithAck("ping", {message: "hello"})`` calls on every connection, the N at once, and prints
its round trips per second and p50/p99 latency. The variants take turns (raw, typed, then typed,
raw, ...), one node process per turn, so that the machine's drift falls on both alike; the ratio
printed is the median round trips per second of typed over that of raw, against ``target >= 1.05``
(and, without a target, the ratio of the servers' median CPU µs per call, which the machine's load
moves less).
Server CPU µs per call is that process's CPU time over the whole node run (connections and
warm-up included) over every call of it; client CPU µs per call is node's over the timed calls.

Needs node and ``tests/typescript/node/node_modules/socket.io-client`` (``npm ci`` there): skipped
without them, failed under ``CI=true``.

Run: ``python -m pytest benchmarks/test_end_to_end_node.py -p no:cacheprovider --benchmark-only -s``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_end_to_end import _cpu_seconds, server_processes

QUICK = os.environ.get("ZNDRAW_BENCH_QUICK") == "1"
TURNS = 1 if QUICK else 5
"""Turns per variant and N, the variants alternating."""
CALLS = {1: 30, 20: 3} if QUICK else {1: 6000, 20: 500}
"""Timed sequential calls per connection in one turn, per N."""
WARMUP = {1: 10, 20: 2} if QUICK else {1: 300, 20: 25}
"""Untimed calls per connection before them (node's JIT, the servers' caches)."""
VARIANTS = ("raw", "typed")
TARGET = 1.05
"""Lower bound of typed / raw, the ratio of the median round trips per second."""
HERE = Path(__file__).parent
CLIENT_SCRIPT = HERE / "node_client.cjs"
SOCKET_IO_CLIENT = HERE.parent / "tests" / "typescript" / "node" / "node_modules" / "socket.io-client"
NODE_TIMEOUT = 30 if QUICK else 120
"""Seconds one node run may take."""


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary; skips (fails under ``CI=true``) without node or socket.io-client."""
    found = shutil.which("node")
    if found is None or not (SOCKET_IO_CLIENT / "package.json").is_file():
        message = "node and socket.io-client are needed: run `npm ci` in tests/typescript/node"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (CI=true: .ci/run must install them)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def servers(node: str) -> Iterator[dict[str, tuple[str, int]]]:
    """A raw and a typed server process: ``{variant: (url, pid)}``."""
    with server_processes(VARIANTS) as urls:
        yield urls


def run_client(node: str, url: str, connections: int, calls: int, warmup: int) -> dict[str, Any]:
    """One run of ``node_client.cjs``: its JSON line, checked."""
    spec = {"url": url, "connections": connections, "calls": calls, "warmup": warmup}
    done = subprocess.run(
        [node, str(CLIENT_SCRIPT), json.dumps(spec)],
        env={**os.environ, "SOCKET_IO_CLIENT": str(SOCKET_IO_CLIENT)},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )
    assert done.returncode == 0, f"node_client.cjs failed ({done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["calls"] == connections * calls, result
    return result


def _measure(node: str, servers: dict[str, tuple[str, int]], n: int) -> dict[str, Any]:
    turns: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    for turn in range(TURNS):
        order = VARIANTS if turn % 2 == 0 else VARIANTS[::-1]
        for variant in order:
            url, pid = servers[variant]
            cpu0 = _cpu_seconds(pid)
            result = run_client(node, url, n, CALLS[n], WARMUP[n])
            result["server_cpu_us"] = (_cpu_seconds(pid) - cpu0) / (n * (CALLS[n] + WARMUP[n])) * 1e6
            turns[variant].append(result)
    summary: dict[str, Any] = {}
    for variant, results in turns.items():
        rates = [r["rps"] for r in results]
        summary[variant] = {
            "rps": statistics.median(rates),
            "rps_range": (min(rates), max(rates)),
            "p50_ms": statistics.median(r["p50_ms"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "server_cpu_us": statistics.median(r["server_cpu_us"] for r in results),
            "client_cpu_us": statistics.median(r["cpu_ms"] * 1e3 / r["calls"] for r in results),
            "rates": rates,
        }
    per_turn = [t / r for t, r in zip(summary["typed"]["rates"], summary["raw"]["rates"], strict=True)]
    summary["ratio"] = summary["typed"]["rps"] / summary["raw"]["rps"]
    raw_cpu = summary["raw"]["server_cpu_us"]  # whole clock ticks: none at all in a quick run
    summary["server_cpu_ratio"] = summary["typed"]["server_cpu_us"] / raw_cpu if raw_cpu else math.nan
    summary["per_turn"] = (min(per_turn), max(per_turn))
    return summary


@pytest.mark.timeout(300)
@pytest.mark.parametrize("n", [1, 20])
def test_end_to_end_node(
    benchmark: Any, node: str, servers: dict[str, tuple[str, int]], n: int, capsys: Any
) -> None:
    results: dict[str, Any] = {}

    def run() -> None:
        results.update(_measure(node, servers, n))

    benchmark.pedantic(run, rounds=1, iterations=1)
    lines = [
        f"end to end from node's socket.io-client, N = {n} connections per server, {TURNS} turns of"
        f" {CALLS[n]} calls per connection (after {WARMUP[n]}):"
    ]
    for variant in VARIANTS:
        r = results[variant]
        low, high = r["rps_range"]
        lines.append(
            f"  node:{variant:<6} {r['rps']:8.0f} round trips/s ({low:.0f}-{high:.0f})"
            f"  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms"
            f"  CPU µs per call: server {r['server_cpu_us']:.1f}, client {r['client_cpu_us']:.1f}"
        )
        benchmark.extra_info[f"{variant}_rps"] = r["rps"]
        benchmark.extra_info[f"{variant}_p50_ms"] = r["p50_ms"]
        benchmark.extra_info[f"{variant}_p99_ms"] = r["p99_ms"]
    ratio = results["ratio"]
    low, high = results["per_turn"]
    lines.append(
        f"  node: typed / raw = {ratio:.3f} (median round trips/s; per turn {low:.2f}-{high:.2f})"
        f"   target >= {TARGET}: {'met' if ratio >= TARGET else 'MISSED'}"
    )
    lines.append(
        f"  node: server CPU per call, typed / raw = {results['server_cpu_ratio']:.3f} (reported, no target)"
    )
    benchmark.extra_info["typed/raw"] = ratio
    with capsys.disabled():
        print("\n" + "\n".join(lines))
