"""Bytes retained per event: 100,000 typed events through the stubbed server, under tracemalloc.

The same in-process peers as ``test_dispatch.py`` (python-socketio's packet handling, engine.io
stubbed), with ``wrap()``'s defaults; inbound: EVENT packets with an ack id to a typed handler;
outbound: ``emit(Ping(...), to=sid)``. After a warm-up, the traced memory before and after the
events (garbage collected both times) gives the bytes kept per event, which should be about 0.

Run: ``python -m pytest benchmarks/test_memory.py -p no:cacheprovider --benchmark-only -s``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import structlog
from test_dispatch import StubbedServer, _emitter, _inbound_server

from tests.support.reliability_support import retained_per_event
from zndraw_socketio import merge_sio_context

EVENTS = 2_000 if os.environ.get("ZNDRAW_BENCH_QUICK") == "1" else 100_000
LIMIT = 1.0
"""Bytes retained per event that still count as none (a dict resizing once, an interned string)."""


def _retained(loop: asyncio.AbstractEventLoop, run: Callable[[int], Awaitable[None]]) -> float:
    return retained_per_event(loop, run, 2_000, EVENTS)


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_bytes_retained_per_event(benchmark: Any, direction: str, capsys: Any) -> None:
    saved = structlog.get_config()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[merge_sio_context, *saved["processors"]],
    )
    loop = asyncio.new_event_loop()
    per_event: list[float] = []
    try:
        server = _inbound_server("typed") if direction == "inbound" else StubbedServer()
        loop.run_until_complete(server.connect())
        run = server.receive if direction == "inbound" else _emitter("typed", server)
        benchmark.pedantic(lambda: per_event.append(_retained(loop, run)), rounds=1, iterations=1)
    finally:
        loop.close()
        structlog.configure(**saved)
    benchmark.extra_info["bytes_per_event"] = per_event[0]
    verdict = "met" if per_event[0] <= LIMIT else "MISSED"
    with capsys.disabled():
        print(
            f"\nmemory, {direction}: {per_event[0]:.3f} bytes retained per event over {EVENTS} events"
            f"   target ~0 (<= {LIMIT}): {verdict}"
        )
