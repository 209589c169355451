"""Per-event cost of the typed chain, through python-socketio's own packet handling.

The engine.io transport is stubbed: a recorder replaces ``eio.send`` and ``eio.send_packet``, so a
measure includes socketio's packet decoding, handler lookup, ack encoding and (outbound) its
manager's fan-out, but no network. Three variants per direction, in the same run:

- ``raw``: plain python-socketio, dicts in and out;
- ``floor``: plain python-socketio with the pydantic work written by hand;
- ``typed``: the same through ``wrap()`` and its default middleware stack, with structlog
  configured as the README recommends for production: per-event debug entries filtered out and
  ``merge_sio_context`` among the processors (inbound also ``typed_3vars``: the same handler with
  structlog's default processors, so the chain binds three structlog context variables instead of
  one, ``mw1``/``mw3``: one and three pass-through user middlewares, and ``dep1``/``dep3``: one async
  ``Depends`` and a 3-level nested chain; outbound also ``mw1``);
- the batteries: ``typed`` behind one of the middlewares of ``zndraw_socketio.middleware``
  (``ratelimit``, in memory, with a limit never reached; ``prometheus``, a registry of its own;
  ``otel``, the API's default no-op providers, no SDK; outbound ``prometheus`` and ``otel``), each round
  paired with a ``typed`` round run just before it (their row is the difference, µs per event);
- the wire codec: every variant above wraps with ``codec=None``, so that it measures the chain
  over python-socketio's own codec, as ``raw`` and ``floor`` use it; ``raw_codec`` is ``raw`` with
  ``zndraw_socketio``'s packet class set on the server object, and ``default`` is ``typed`` with
  ``wrap()``'s defaults (that codec included): their row is (variant - raw), µs per event.

Run: ``python -m pytest benchmarks -p no:cacheprovider --benchmark-only``. The ratios are printed
at the end of the run (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any

import pytest
import socketio
import structlog
from pydantic import BaseModel

from zndraw_socketio import (
    Depends,
    InboundContext,
    Middleware,
    OutboundContext,
    merge_sio_context,
    wrap,
)
from zndraw_socketio.middleware import InboundNext, OutboundNext
from zndraw_socketio.transport.codec import PydanticPacket

Batch = Callable[[], object]
Measure = Callable[..., None]  # the ``measure`` fixture

BATCH = 200  # events per benchmark round
EIO_SID = "eio-bench"
EVENT_PACKET = '21["ping",{"message":"hello"}]'  # EVENT, ack id 1, namespace "/"
ACK_PACKET = '31[{"reply":"hello"}]'  # what the server must send back
EMIT_PACKET = '2["ping",{"message":"hello"}]'


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


class StubbedServer:
    """An ``AsyncServer`` whose engine.io transport records what it would send; one client."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="asgi", async_handlers=False)
        self.last: Any = None
        self.sent = 0
        self.sid = ""
        eio = self.sio.eio

        async def send(eio_sid: str, data: Any) -> None:  # acks and connect replies
            self.last = data
            self.sent += 1

        async def send_packet(eio_sid: str, pkt: Any) -> None:  # emits (pre-encoded by the manager)
            self.last = pkt.data
            self.sent += 1

        eio.send = send
        eio.send_packet = send_packet

    async def connect(self) -> None:
        """Open the engine.io session and connect it to namespace ``/``."""
        await self.sio._handle_eio_connect(EIO_SID, {"REMOTE_ADDR": "127.0.0.1"})
        await self.sio._handle_eio_message(EIO_SID, "0")
        sid = self.sio.manager.sid_from_eio_sid(EIO_SID, "/")
        assert sid is not None and self.sio.manager.is_connected(sid, "/")
        self.sid = sid

    async def receive(self, n: int) -> None:
        """Feed ``n`` EVENT packets (with an ack id) to socketio's packet handling."""
        handle = self.sio._handle_eio_message
        for _ in range(n):
            await handle(EIO_SID, EVENT_PACKET)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


@pytest.fixture
def quiet_structlog(request: pytest.FixtureRequest) -> Iterator[None]:
    """structlog as the README recommends for production: filtering below INFO, ``merge_sio_context``
    first among the processors; restored afterwards. The ``typed_3vars`` variant keeps structlog's
    default processors."""
    saved = structlog.get_config()
    variant = request.node.callspec.params.get("variant") if hasattr(request.node, "callspec") else None
    processors = list(saved["processors"])
    if variant != "typed_3vars":
        processors.insert(0, merge_sio_context)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO), processors=processors
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


def _check_once(loop: asyncio.AbstractEventLoop, server: StubbedServer, run: Callable[[], Awaitable[Any]]):
    """Run one event outside the timer and check what socketio sent."""
    server.last, server.sent = None, 0
    loop.run_until_complete(run())
    return server.sent, server.last


class Passthrough(Middleware):
    """A user middleware whose hooks only pass the event on."""

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        return await call_next(ctx)

    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        return await call_next(ctx)


def _ratelimit() -> Middleware:
    from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware

    return RateLimitMiddleware("1000000/second", burst=10**9)  # in memory, never reached


def _prometheus() -> Middleware:
    from prometheus_client import CollectorRegistry

    from zndraw_socketio.middleware.prometheus import PrometheusMiddleware

    return PrometheusMiddleware(registry=CollectorRegistry())


def _otel() -> Middleware:
    from zndraw_socketio.middleware.opentelemetry import OpenTelemetryMiddleware

    # the global providers with no SDK configured: the API's proxies to its no-op provider (given
    # explicitly, a NoOpTracerProvider and NoOpMeterProvider make the middleware leave itself out)
    return OpenTelemetryMiddleware()


BATTERIES: dict[str, Callable[[], Middleware]] = {
    "ratelimit": _ratelimit,
    "prometheus": _prometheus,
    "otel": _otel,
}
"""The battery variants: the middleware each puts in front of the typed handler (or emit)."""


def _wrap(sio: Any, variant: str) -> Any:
    """``wrap(sio)`` for ``variant``: its user middleware; ``wrap()``'s own codec for ``default``
    only, python-socketio's (``codec=None``) for the others, as raw and floor have it."""
    return wrap(sio, middleware=_passthrough(variant), codec="pydantic" if variant == "default" else None)


def _passthrough(variant: str) -> list[Middleware]:
    """The user middleware of ``variant``: ``mw1`` one pass-through, ``mw3`` three, a battery
    variant its middleware, else none."""
    if variant in BATTERIES:
        return [BATTERIES[variant]()]
    return [Passthrough() for _ in range({"mw1": 1, "mw3": 3}.get(variant, 0))]


# -- inbound ---------------------------------------------------------------------------------------
def _inbound_server(variant: str) -> StubbedServer:
    server = StubbedServer()
    sio = server.sio
    if variant in ("raw", "raw_codec"):
        if variant == "raw_codec":
            sio.packet_class = PydanticPacket

        async def raw_ping(sid: str, data: dict[str, Any]) -> dict[str, Any]:
            return {"reply": data["message"]}

        sio.on("ping", raw_ping)

    elif variant == "floor":

        async def floor_ping(sid: str, data: Any) -> dict[str, Any]:
            ping = Ping.model_validate(data)
            return Pong(reply=ping.message).model_dump(mode="json")

        sio.on("ping", floor_ping)

    elif variant == "dep1":
        tsio = _wrap(sio, variant)

        @tsio.on(Ping)
        async def dep1_ping(sid: str, data: Ping, word: Annotated[str, Depends(level1)]) -> Pong:
            return Pong(reply=data.message)

    elif variant == "dep3":
        tsio = _wrap(sio, variant)

        @tsio.on(Ping)
        async def dep3_ping(sid: str, data: Ping, word: Annotated[str, Depends(level3)]) -> Pong:
            return Pong(reply=data.message)

    else:  # typed, typed_3vars (the structlog configuration differs, see quiet_structlog), mw1, mw3,
        # the batteries, default
        tsio = _wrap(sio, variant)

        @tsio.on(Ping)
        async def typed_ping(sid: str, data: Ping) -> Pong:
            return Pong(reply=data.message)

    return server


async def level1() -> str:
    """The one async dependency of ``dep1``, and the bottom of ``dep3``'s chain."""
    return "hello"


async def level2(word: Annotated[str, Depends(level1)]) -> str:
    return word


async def level3(word: Annotated[str, Depends(level2)]) -> str:
    return word


def _inbound_batch(variant: str, loop: asyncio.AbstractEventLoop) -> Batch:
    """A connected server for ``variant``, checked once; returns a function running ``BATCH`` events."""
    server = _inbound_server(variant)
    loop.run_until_complete(server.connect())
    assert _check_once(loop, server, lambda: server.receive(1)) == (1, ACK_PACKET)

    def run_batch() -> None:
        loop.run_until_complete(server.receive(BATCH))
        assert server.last == ACK_PACKET

    return run_batch


def test_inbound(
    rep: int, variant: str, loop: asyncio.AbstractEventLoop, quiet_structlog: None, measure: Measure
):
    raw_batch = None if variant == "raw" else _inbound_batch("raw", loop)
    floor_batch = None if variant in ("raw", "floor") else _inbound_batch("floor", loop)
    typed_batch = _inbound_batch("typed", loop) if variant in BATTERIES else None
    measure("inbound", variant, BATCH, _inbound_batch(variant, loop), raw_batch, floor_batch, typed_batch)


# -- outbound --------------------------------------------------------------------------------------
def _emitter(variant: str, server: StubbedServer) -> Callable[[int], Awaitable[None]]:
    sio = server.sio
    sid = server.sid
    if variant in ("raw", "raw_codec"):
        if variant == "raw_codec":
            sio.packet_class = PydanticPacket

        async def raw_emits(n: int) -> None:
            for _ in range(n):
                await sio.emit("ping", {"message": "hello"}, to=sid)

        return raw_emits
    if variant == "floor":

        async def floor_emits(n: int) -> None:
            for _ in range(n):
                await sio.emit("ping", Ping(message="hello").model_dump(mode="json"), to=sid)

        return floor_emits

    tsio = _wrap(sio, variant)

    async def typed_emits(n: int) -> None:
        for _ in range(n):
            await tsio.emit(Ping(message="hello"), to=sid)

    return typed_emits


def _outbound_batch(variant: str, loop: asyncio.AbstractEventLoop) -> Batch:
    """A server with one client for ``variant``, checked once; returns a function emitting ``BATCH``
    events to the client."""
    server = StubbedServer()
    loop.run_until_complete(server.connect())
    emits = _emitter(variant, server)
    assert _check_once(loop, server, lambda: emits(1)) == (1, EMIT_PACKET)

    def run_batch() -> None:
        loop.run_until_complete(emits(BATCH))
        assert server.last == EMIT_PACKET

    return run_batch


def test_outbound(
    rep: int, variant: str, loop: asyncio.AbstractEventLoop, quiet_structlog: None, measure: Measure
):
    raw_batch = None if variant == "raw" else _outbound_batch("raw", loop)
    floor_batch = None if variant in ("raw", "floor") else _outbound_batch("floor", loop)
    typed_batch = _outbound_batch("typed", loop) if variant in BATTERIES else None
    measure("outbound", variant, BATCH, _outbound_batch(variant, loop), raw_batch, floor_batch, typed_batch)
