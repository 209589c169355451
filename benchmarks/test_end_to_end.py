"""Round trips over loopback: uvicorn servers in child processes, ``AsyncClient`` peers here.

Four servers run side by side (``e2e_server.py``): ``raw`` (plain python-socketio, its standard
library codec), ``raw_codec`` (the same with ``zndraw_socketio``'s packet class on both ends),
``typed`` (``wrap()`` with its defaults on both ends) and ``typed_engineio`` (the same, but with
``websocket_loop=False``: engine.io's own websocket loops, so the typed layer alone). For N = 1
and N = 20 clients per server, each client makes sequential ``call()`` round trips; the variants
take turns in short segments (the order rotating every segment), so that the machine's drift
falls on all of them alike. Per variant: round trips per second (median over segments, with its
range), p50 and p99 latency, and CPU µs per round trip of the server process and of this
(client) process. Ratios are medians of per-segment ratios against the segment of the other
variant run next to it.

Run: ``python -m pytest benchmarks/test_end_to_end.py -p no:cacheprovider --benchmark-only -s``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import socketio
import structlog
from e2e_server import Ping, Pong, production_logging

from zndraw_socketio import wrap
from zndraw_socketio.transport.codec import PydanticPacket

QUICK = os.environ.get("ZNDRAW_BENCH_QUICK") == "1"
SEGMENTS = 2 if QUICK else 16
SEGMENT_SECONDS = 0.1 if QUICK else 0.4
VARIANTS = ("raw", "raw_codec", "typed", "typed_engineio")
HERE = Path(__file__).parent
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@pytest.fixture(scope="module", autouse=True)
def logging_as_in_production() -> Iterator[None]:
    """structlog as the README recommends for production (as the server processes have it)."""
    saved = structlog.get_config()
    production_logging()
    try:
        yield
    finally:
        structlog.configure(**saved)


@contextmanager
def server_processes(variants: Iterable[str]) -> Iterator[dict[str, tuple[str, int]]]:
    """One ``e2e_server.py`` process per variant, each on a free port: ``{variant: (url, pid)}``."""
    started: dict[str, subprocess.Popen[str]] = {}
    urls: dict[str, tuple[str, int]] = {}
    try:
        for variant in variants:
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, str(HERE / "e2e_server.py"), variant, str(port)],
                stdout=subprocess.PIPE,
                text=True,
                cwd=HERE.parent,
            )
            started[variant] = process
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
            urls[variant] = (f"http://127.0.0.1:{port}", process.pid)
        yield urls
    finally:
        for process in started.values():
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, tuple[str, int]]]:
    """One server process per variant: ``{variant: (url, pid)}``."""
    with server_processes(VARIANTS) as urls:
        yield urls


def new_client(variant: str) -> Any:
    """A client of ``variant``: plain, plain with the packet class, or wrapped (``typed_engineio``:
    with engine.io's own websocket loops)."""
    if variant == "raw":
        return socketio.AsyncClient()
    if variant == "raw_codec":
        client = socketio.AsyncClient()
        client.packet_class = PydanticPacket  # on this object only, as the server side does
        return client
    return wrap(socketio.AsyncClient(), websocket_loop=variant == "typed")


async def call_once(variant: str, client: Any) -> None:
    """One ``call()`` round trip of ``variant``'s client, its reply checked."""
    if variant.startswith("typed"):
        reply = await client.call(Ping(message="hello"), response_model=Pong, timeout=10)
        assert reply.reply == "hello"
    else:
        reply = await client.call("ping", {"message": "hello"}, timeout=10)
        assert reply["reply"] == "hello"


async def _round_trips(variant: str, client: Any, deadline: float, latencies: list[float]) -> int:
    count = 0
    clock = time.perf_counter
    while clock() < deadline:
        start = clock()
        await call_once(variant, client)
        latencies.append(clock() - start)
        count += 1
    return count


async def _measure(servers: dict[str, tuple[str, int]], n: int) -> dict[str, Any]:
    clients = {v: [new_client(v) for _ in range(n)] for v in VARIANTS}
    for variant, peers in clients.items():
        for peer in peers:
            raw = peer.sio if variant.startswith("typed") else peer
            await raw.connect(servers[variant][0], transports=["websocket"], wait_timeout=10)
    rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
    latencies: dict[str, list[float]] = {v: [] for v in VARIANTS}
    trips = dict.fromkeys(VARIANTS, 0)
    server_cpu = dict.fromkeys(VARIANTS, 0.0)
    client_cpu = dict.fromkeys(VARIANTS, 0.0)
    try:
        for variant in VARIANTS:  # warm up: caches, the chains' loggers
            await asyncio.gather(
                *(_round_trips(variant, c, time.perf_counter() + 0.05, []) for c in clients[variant])
            )
        for segment in range(SEGMENTS):
            turn = segment % len(VARIANTS)
            order = VARIANTS[turn:] + VARIANTS[:turn]
            for variant in order:
                pid = servers[variant][1]
                cpu0, own0, start = _cpu_seconds(pid), time.process_time(), time.perf_counter()
                deadline = start + SEGMENT_SECONDS
                counts = await asyncio.gather(
                    *(_round_trips(variant, c, deadline, latencies[variant]) for c in clients[variant])
                )
                elapsed = time.perf_counter() - start
                server_cpu[variant] += _cpu_seconds(pid) - cpu0
                client_cpu[variant] += time.process_time() - own0
                trips[variant] += sum(counts)
                rates[variant].append(sum(counts) / elapsed)
    finally:
        for variant, peers in clients.items():
            for peer in peers:
                await (peer.sio if variant.startswith("typed") else peer).disconnect()
    result: dict[str, Any] = {}
    for variant in VARIANTS:
        ordered = sorted(latencies[variant])
        result[variant] = {
            "rps": statistics.median(rates[variant]),
            "rps_range": (min(rates[variant]), max(rates[variant])),
            "p50_ms": ordered[len(ordered) // 2] * 1e3,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
            "server_cpu_us": server_cpu[variant] / trips[variant] * 1e6,
            "client_cpu_us": client_cpu[variant] / trips[variant] * 1e6,
            "rates": rates[variant],
        }
    for name, (a, b) in RATIOS.items():
        pairs = [x / y for x, y in zip(result[a]["rates"], result[b]["rates"], strict=True)]
        result[name] = (statistics.median(pairs), min(pairs), max(pairs))
    return result


RATIOS = {
    "typed/raw": ("typed", "raw"),
    "typed/raw_codec": ("typed", "raw_codec"),
    "typed_engineio/raw_codec": ("typed_engineio", "raw_codec"),
}
"""The round-trip-rate ratios printed: each ``a/b`` is the rate of ``a`` over that of ``b``."""

TARGETS = {"typed/raw": 1.05, "typed/raw_codec": 0.97}
"""Lower bounds of the round-trip-rate ratios, at N = 1 and N = 20 (the last ratio of ``RATIOS``,
the typed layer over engine.io's loops, has none: it shows what the websocket loops give)."""


@pytest.mark.parametrize("n", [1, 20])
def test_end_to_end(benchmark: Any, servers: dict[str, tuple[str, int]], n: int, capsys: Any) -> None:
    results: dict[str, Any] = {}

    def run() -> None:
        results.update(asyncio.run(_measure(servers, n)))

    benchmark.pedantic(run, rounds=1, iterations=1)
    lines = [f"end to end, N = {n} clients per server, {SEGMENTS} segments of {SEGMENT_SECONDS} s:"]
    for variant in VARIANTS:
        r = results[variant]
        low, high = r["rps_range"]
        lines.append(
            f"  {variant:<14} {r['rps']:8.0f} round trips/s ({low:.0f}-{high:.0f})  p50 {r['p50_ms']:.3f} ms"
            f"  p99 {r['p99_ms']:.3f} ms  CPU µs per round trip: server {r['server_cpu_us']:.1f},"
            f" client {r['client_cpu_us']:.1f}"
        )
        benchmark.extra_info[f"{variant}_rps"] = r["rps"]
    for name in RATIOS:
        median, low, high = results[name]
        target = TARGETS.get(name)
        verdict = (
            "" if target is None else f"   target >= {target}: {'met' if median >= target else 'MISSED'}"
        )
        lines.append(f"  {name} round trips/s = {median:.3f} ({low:.2f}-{high:.2f}){verdict}")
        benchmark.extra_info[name] = median
    with capsys.disabled():
        print("\n" + "\n".join(lines))
