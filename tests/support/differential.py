"""The differential runner: a handler shape on a fresh in-process face under one stack."""

from __future__ import annotations

from typing import Any

import structlog

from tests.support.differential_cases import INPUTS, Case, build_handler
from tests.support.inprocess import PEERS, Peer, event_packet
from zndraw_socketio import InboundContext, Middleware, OutboundContext, wrap
from zndraw_socketio.middleware import InboundNext, OutboundNext

STACK_SHAPES = ("none", "one", "three", "per_handler")


class PassEverything(Middleware):
    """A pass-through user middleware for every face and direction."""

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        return await call_next(ctx)

    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        return await call_next(ctx)

    def inbound_sync(self, ctx: InboundContext, call_next: Any) -> Any:
        return call_next(ctx)

    def outbound_sync(self, ctx: OutboundContext, call_next: Any) -> Any:
        return call_next(ctx)


def normalised(value: Any, peer: Peer) -> Any:
    if isinstance(value, BaseException):
        return type(value).__name__
    if value == peer.sid and value:
        return "<sid>"
    return value


def _entry(entry: Any, peer: Peer) -> dict[str, Any]:
    return {k: normalised(v, peer) for k, v in entry.items() if k not in ("duration_ms", "log_level")} | {
        "level": entry.get("log_level")
    }


async def run_case(face: str, case: Case, stack_shape: str) -> dict[str, Any]:
    """Every input of ``INPUTS`` through ``case`` on a fresh ``face`` with ``stack_shape``."""
    peer = PEERS[face]()
    is_async = face != "sync_server"
    server = face != "async_client"
    global_mw = {"none": [], "one": [PassEverything()], "three": [PassEverything() for _ in range(3)]}
    tsio: Any = wrap(peer.sio, middleware=global_mw.get(stack_shape, []))
    calls: list[Any] = []
    if case.setup is not None:
        case.setup(tsio, calls)
    per_handler = [PassEverything()] if stack_shape == "per_handler" else []
    tsio.on("ev", build_handler(case, is_async=is_async, server=server), middleware=per_handler)
    await peer.connect()
    results: dict[str, Any] = {}
    for name, make in INPUTS.items():
        peer.sent.clear()
        calls.clear()
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            await peer.feed(event_packet("ev", *make(case)))
        results[name] = {
            "sent": list(peer.sent),
            "entries": [_entry(e, peer) for e in logs],
            "calls": list(calls),
        }
        assert len(peer.acks()) == 1, (name, peer.sent)  # every event is answered, exactly once
    return results
