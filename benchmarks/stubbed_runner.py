"""Events on ``test_dispatch.py``'s stubbed server, outside pytest: what the profiling and
instruction-counting scripts drive."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import structlog
from test_dispatch import StubbedServer, _emitter, _inbound_server

from zndraw_socketio import merge_sio_context


def stubbed_runner(direction: str, variant: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    """``(run, close)``: ``run(n)`` sends ``n`` events of ``variant`` in ``direction`` through the
    stubbed server, with structlog configured as the benchmark does (debug filtered out,
    ``merge_sio_context`` among the processors; ``typed_3vars``: structlog's defaults)."""
    processors = list(structlog.get_config()["processors"])
    if variant != "typed_3vars":
        processors.insert(0, merge_sio_context)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO), processors=processors
    )
    loop = asyncio.new_event_loop()
    if direction == "inbound":
        server = _inbound_server(variant)
        loop.run_until_complete(server.connect())

        def run(n: int) -> None:
            loop.run_until_complete(server.receive(n))
    else:
        server = StubbedServer()
        loop.run_until_complete(server.connect())
        emits = _emitter(variant, server)

        def run(n: int) -> None:
            loop.run_until_complete(emits(n))

    return run, loop.close
