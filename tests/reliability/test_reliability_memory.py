"""Bytes retained per event on the ok, 422, 500 and ``yield``-dependency paths, under tracemalloc.

In process, no network: a real ``socketio.AsyncServer`` wrapped with ``wrap()``'s defaults, whose
engine.io transport is stubbed (``tests/support/inprocess.py``'s ``AsyncServerPeer``, recording only the
last packet sent and a count, so that the recorder keeps nothing per event). EVENT packets with an
ack id go through python-socketio's packet decoding, handler lookup and ack encoding, and the
whole typed chain. Per path: a warm-up of ``WARM_UP`` events (caches, the chain's logger, the
first traceback's source lines), then the traced memory before and after ``EVENTS`` more events,
garbage collected both times, gives the bytes kept per event; it must be about 0 (``LIMIT``).

structlog is configured for production: a filtering logger at INFO and ``merge_sio_context``
first, as the README recommends, then the log level and a JSON rendering of every entry that
passes (the 422 and 500 error entries; the exception of a 500 rendered by its ``repr``), and a
logger factory that discards the rendered line (``ReturnLoggerFactory``): rendering is
measured, printing is not. A processor ahead of the others counts the entries that reach it:
exactly one error entry per rejected event, none on the ok paths (their debug entries are
filtered out before any processor runs).

Left out of the rendering, each measured apart, because what it costs or keeps is not the
library's: structlog's default ``ConsoleRenderer`` (with ``rich`` installed, as it is in the dev
environment, it renders every traceback through rich and pygments, ~5 ms an entry: the 500 path
alone would take minutes); ``format_exc_info`` (~1 ms an entry under tracemalloc; it leaves a
few KB in CPython's own ``traceback`` caret-anchor code, 9.6 KB over the first 5,000 tracebacks,
then less and less: 0.06 KB over the eighth 5,000); and ``TimeStamper`` (~100 of its timestamp
strings, ~6 KB over 60,000 entries, stay allocated although no Python container refers to them;
without it the 422 path keeps ~0.01 bytes per event).

``EVENTS`` is 10,000 per path by default, 100,000 with ``ZNDRAW_RELIABILITY=long``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
import structlog
from pydantic import BaseModel
from structlog.typing import EventDict, WrappedLogger

from tests.support.inprocess import AsyncServerPeer, event_packet
from tests.support.reliability_support import mode_name, retained_per_event, scaled
from zndraw_socketio import AsyncServerWrapper, Depends, merge_sio_context, wrap

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(scaled(60, 900))]

EVENTS = scaled(10_000, 100_000)
WARM_UP = 2_000
LIMIT = 1.0
"""Bytes retained per event that still count as none (a dict or a free list growing once)."""


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


class Session:
    """What the ``yield`` dependencies hand out; counts its openings and closings (ints only)."""

    opened = 0
    closed = 0

    def __init__(self) -> None:
        Session.opened += 1

    def close(self) -> None:
        Session.closed += 1


def session() -> Iterator[Session]:
    resource = Session()
    try:
        yield resource
    finally:
        resource.close()


async def async_session() -> AsyncIterator[Session]:
    resource = Session()
    try:
        yield resource
    finally:
        resource.close()


KEPT: list[Ping] = []
"""What the ``keep`` handler retains: the measure's own check (see the last test)."""


class Recorder(AsyncServerPeer):
    """``AsyncServerPeer`` keeping only the last packet socketio sent and how many it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.last: Any = None
        self.count = 0

    def record(self, data: Any) -> None:
        self.last = data
        self.count += 1


def typed_server(peer: Recorder) -> AsyncServerWrapper:
    tsio = wrap(peer.sio)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("boom")
    async def boom(sid: str, data: Ping) -> Pong:
        raise RuntimeError("boom")

    @tsio.on("with_session")
    async def with_session(sid: str, data: Ping, resource: Annotated[Session, Depends(session)]) -> Pong:
        assert Session.opened == Session.closed + 1  # this event's, open while the handler runs
        return Pong(reply=data.message)

    @tsio.on("keep")
    async def keep(sid: str, data: Ping) -> Pong:
        KEPT.append(data)  # the validated model, on purpose: retained per event
        return Pong(reply=data.message)

    @tsio.on("with_async_session")
    async def with_async_session(
        sid: str, data: Ping, resource: Annotated[Session, Depends(async_session)]
    ) -> Pong:
        return Pong(reply=data.message)

    return tsio


# path -> (the packet sent, the ack socketio must send back, error entries per event)
PATHS: dict[str, tuple[str, str, int]] = {
    "ok": (event_packet("ping", {"message": "hello"}), '31[{"reply":"hello"}]', 0),
    "422": (
        event_packet("ping", {"message": 1}),
        '31[{"kind":"error","type":"about:blank","title":"Unprocessable Content","status":422,'
        '"detail":"1 validation error for event \'ping\'","instance":"ping","errors":[{"type":'
        '"string_type","loc":["message"],"msg":"Input should be a valid string"}],"error_count":1}]',
        1,
    ),
    "500": (
        event_packet("boom", {"message": "hello"}),
        '31[{"kind":"error","type":"about:blank","title":"Internal Server Error","status":500,'
        '"detail":null,"instance":"boom"}]',
        1,
    ),
    "yield": (event_packet("with_session", {"message": "hello"}), '31[{"reply":"hello"}]', 0),
    "async-yield": (event_packet("with_async_session", {"message": "hello"}), '31[{"reply":"hello"}]', 0),
}


class Counting:
    """A structlog processor counting the entries that reach it, by outcome (a few ints)."""

    def __init__(self) -> None:
        self.counts = {"ok": 0, "error": 0, "other": 0}

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        outcome = event_dict.get("outcome")
        self.counts[outcome if outcome in ("ok", "error") else "other"] += 1
        return event_dict


@pytest.fixture
def counting_structlog() -> Iterator[Counting]:
    """structlog as described in the module docstring; restored afterwards (and reset by the
    conftest's autouse fixture)."""
    saved = structlog.get_config()
    counting = Counting()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            merge_sio_context,
            counting,
            structlog.processors.add_log_level,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.ReturnLoggerFactory(),
    )
    try:
        yield counting
    finally:
        structlog.configure(**saved)


def _retained(loop: asyncio.AbstractEventLoop, peer: Recorder, packet: str) -> float:
    """Bytes retained per event over ``EVENTS`` events of ``packet`` after the warm-up."""

    async def run(n: int) -> None:
        feed = peer.feed
        for _ in range(n):
            await feed(packet)

    return retained_per_event(loop, run, WARM_UP, EVENTS)


@pytest.mark.parametrize("path", list(PATHS))
def test_bytes_retained_per_event(
    path: str, counting_structlog: Counting, capsys: pytest.CaptureFixture[str]
) -> None:
    packet, ack, errors_per_event = PATHS[path]
    loop = asyncio.new_event_loop()
    try:
        peer = Recorder()
        typed_server(peer)
        loop.run_until_complete(peer.connect())
        sent_before, opened_before = peer.count, Session.opened
        per_event = _retained(loop, peer, packet)
    finally:
        loop.close()
    events = WARM_UP + EVENTS
    with capsys.disabled():
        print(
            f"\nmemory, {path} path ({mode_name()} mode): {per_event:.3f} bytes retained per event over "
            f"{EVENTS} events (limit {LIMIT})"
        )
    assert peer.count - sent_before == events  # one ack per event ...
    assert peer.last == ack  # ... the right one
    assert counting_structlog.counts == {"ok": 0, "error": errors_per_event * events, "other": 0}
    if path.endswith("yield"):
        assert Session.opened - opened_before == events
    assert Session.opened == Session.closed  # every dependency closed
    assert per_event < LIMIT, f"{per_event:.3f} bytes retained per event on the {path} path"


def test_the_measure_sees_one_object_kept_per_event(counting_structlog: Counting) -> None:
    """The same measure, through a handler that keeps each event's validated model: it must report
    at least the model's size per event (so the figures above can fail)."""
    loop = asyncio.new_event_loop()
    try:
        peer = Recorder()
        typed_server(peer)
        loop.run_until_complete(peer.connect())
        per_event = _retained(loop, peer, event_packet("keep", {"message": "hello"}))
    finally:
        loop.close()
        KEPT.clear()
    assert per_event > 50 * LIMIT, per_event  # a model, its __dict__ and a list slot: ~150 bytes
