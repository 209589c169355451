"""Bad input never leaves a caller waiting: 422 problem replies, 500s that reveal nothing, logs."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import socketio.exceptions
import structlog
from pydantic import BaseModel
from structlog.typing import EventDict

from tests.support.helpers import (
    STACKS,
    TIMEOUT,
    Inbox,
    Passthrough,
    asgi_app,
    connected,
    new_server,
    record_sids,
    stack,
)
from tests.support.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, EventContext, InboundContext, Middleware, wrap
from zndraw_socketio.middleware import InboundNext

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class Numbers(BaseModel):
    count: int


SECRET = "s3cr3t-exception-text"


def server_with_ping(shape: str = "default", **server_kwargs: Any) -> AsyncServerWrapper:
    tsio = new_server(stack(shape), **server_kwargs)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on(Numbers)
    async def numbers(sid: str, data: Numbers) -> int:
        return data.count * 2

    @tsio.on("now")
    async def now(sid: str) -> str:
        return "tick"

    @tsio.on("pair")
    def pair(sid: str, first: int, second: Ping) -> list[Any]:
        return [first, second.message]

    return tsio


async def timed_call(client: socketio.AsyncClient, event: str, data: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    reply = await client.call(event, data, timeout=TIMEOUT)
    return reply, time.perf_counter() - start


def assert_422(reply: Any, event: str, error_types: list[str]) -> None:
    assert isinstance(reply, dict)
    assert reply["kind"] == "error"
    assert reply["status"] == 422
    assert reply["title"] == "Unprocessable Content"
    assert reply["instance"] == event
    assert [e["type"] for e in reply["errors"]] == error_types
    for error in reply["errors"]:
        assert "input" not in error
        assert "url" not in error


# (payload as python-socketio sends it, pydantic error types). A tuple is several arguments; None
# sends no argument at all; (None,) sends one null.
BAD_PINGS: list[tuple[str, Any, list[str]]] = [
    ("wrong type", {"message": 12345}, ["string_type"]),
    ("missing field", {}, ["missing"]),
    ("missing field, other key", {"msg": "x"}, ["missing"]),
    ("extra arity", ({"message": "a"}, "extra", 3), ["unexpected_positional_argument"] * 2),
    ("no argument", None, ["missing_argument"]),
    ("null", (None,), ["model_type"]),
    ("string, not a dict", "just a string", ["model_type"]),
    ("list, not a dict", [1, 2, 3], ["model_type"]),
    ("number, not a dict", 7, ["model_type"]),
]


@pytest.mark.parametrize("shape", STACKS)
async def test_bad_payload_gets_422_fast_and_server_keeps_serving(
    live_server: LiveServer, shape: str
) -> None:
    async with live_server(asgi_app(server_with_ping(shape))) as url, connected(url) as client:
        for case, payload, error_types in BAD_PINGS:
            reply, elapsed = await timed_call(client, "ping", payload)
            assert elapsed < 1.0, case
            assert_422(reply, "ping", error_types)
            text = json.dumps(reply)
            assert "12345" not in text and "just a string" not in text and "extra" not in text, case
            # the same connection is served normally afterwards
            assert await client.call("ping", {"message": case}, timeout=TIMEOUT) == {"reply": case}


@pytest.mark.parametrize("shape", STACKS)
async def test_bad_arguments_for_other_signatures(live_server: LiveServer, shape: str) -> None:
    async with live_server(asgi_app(server_with_ping(shape))) as url, connected(url) as client:
        reply, elapsed = await timed_call(client, "now", "unexpected")
        assert elapsed < 1.0
        assert_422(reply, "now", ["unexpected_positional_argument"])
        assert reply["errors"][0]["loc"] == [0]
        assert await client.call("now", timeout=TIMEOUT) == "tick"

        reply = await client.call("pair", ("x", {"message": 1}), timeout=TIMEOUT)
        assert_422(reply, "pair", ["int_parsing", "string_type"])
        assert [e["loc"] for e in reply["errors"]] == [["first"], ["second", "message"]]
        reply = await client.call("pair", 1, timeout=TIMEOUT)
        assert_422(reply, "pair", ["missing_argument"])
        assert await client.call("pair", (1, {"message": "m"}), timeout=TIMEOUT) == [1, "m"]


async def test_extra_arity_error_locations(live_server: LiveServer) -> None:
    async with live_server(asgi_app(server_with_ping())) as url, connected(url) as client:
        reply = await client.call("ping", ({"message": "a"}, "b", "c"), timeout=TIMEOUT)
        assert [e["loc"] for e in reply["errors"]] == [[1], [2]]


async def test_huge_string_under_the_buffer_limit(live_server: LiveServer) -> None:
    # python-engineio's default max_http_buffer_size is 1_000_000 bytes per packet
    huge = "x" * 900_000
    async with live_server(asgi_app(server_with_ping())) as url, connected(url) as client:
        reply, elapsed = await timed_call(client, "numbers", {"count": huge})
        assert elapsed < 1.0
        assert_422(reply, "numbers", ["int_parsing"])
        assert len(json.dumps(reply)) < 1000  # the input is not echoed back
        assert await client.call("numbers", {"count": "21"}, timeout=TIMEOUT) == 42


async def test_huge_string_with_a_raised_buffer_limit(live_server: LiveServer) -> None:
    huge = "x" * 2_000_000
    tsio = server_with_ping(max_http_buffer_size=4_000_000)
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        reply, elapsed = await timed_call(client, "numbers", {"count": huge})
        assert elapsed < 1.0
        assert_422(reply, "numbers", ["int_parsing"])
        assert len(json.dumps(reply)) < 1000
        big, _ = await timed_call(client, "ping", {"message": huge})
        assert big == {"reply": huge}


async def test_packet_over_the_buffer_limit_drops_the_connection(live_server: LiveServer) -> None:
    # What python-socketio does, not the chain: engine.io closes the websocket on a packet larger
    # than max_http_buffer_size, before any handler runs. The pending call gets no reply; it ends
    # with socketio's TimeoutError at its own timeout (the disconnect does not cancel it).
    tsio = server_with_ping()
    server_gone = Inbox()

    @tsio.event
    async def disconnect(sid: str, reason: str) -> None:
        server_gone.put(reason)

    client = socketio.AsyncClient(reconnection=False)
    client_gone = Inbox()
    client.on("disconnect", client_gone.put)

    async with live_server(asgi_app(tsio)) as url:
        async with connected(url, client):
            with pytest.raises(socketio.exceptions.TimeoutError):
                await client.call("ping", {"message": "x" * 2_000_000}, timeout=1)
            assert await server_gone.get() == tsio.reason.TRANSPORT_CLOSE
            assert await client_gone.get() == client.reason.TRANSPORT_ERROR
            assert not client.connected
        async with connected(url) as fresh:
            assert await fresh.call("ping", {"message": "after"}, timeout=TIMEOUT) == {"reply": "after"}


# -- failures inside the chain: 500, nothing revealed, logged --------------------------------------


class Exploding(Middleware):
    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        if ctx.event == "mw_boom":
            raise RuntimeError(SECRET)
        return await call_next(ctx)


def failing_server(middleware: list[Middleware]) -> AsyncServerWrapper:
    tsio = new_server(middleware)

    @tsio.on("handler_boom")
    async def handler_boom(sid: str, data: Ping) -> Pong:
        raise RuntimeError(SECRET)

    @tsio.on("mw_boom")
    async def mw_boom(sid: str, data: Ping) -> Pong:
        return Pong(reply="never")

    @tsio.on("eh_boom")
    async def eh_boom(sid: str, data: Ping) -> Pong:
        raise LookupError("first")

    @tsio.exception_handler(LookupError)
    async def broken_handler(ctx: EventContext, exc: LookupError) -> Any:
        raise ZeroDivisionError(SECRET)

    @tsio.on("ok")
    async def ok(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    return tsio


@pytest.mark.parametrize(
    ("event", "exc_type", "middleware"),
    [
        ("handler_boom", RuntimeError, []),
        ("handler_boom", RuntimeError, [Passthrough()]),
        ("mw_boom", RuntimeError, [Exploding()]),
        ("eh_boom", ZeroDivisionError, []),
        ("eh_boom", ZeroDivisionError, [Passthrough()]),
    ],
    ids=[
        "handler-default",
        "handler-pass-through",
        "middleware",
        "exception-handler-default",
        "exception-handler-pass-through",
    ],
)
async def test_failure_replies_500_without_text_and_is_logged(
    live_server: LiveServer, event: str, exc_type: type[Exception], middleware: list[Middleware]
) -> None:
    async with live_server(asgi_app(failing_server(middleware))) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply, elapsed = await timed_call(client, event, {"message": "m"})
        assert elapsed < 1.0
        assert reply == {
            "kind": "error",
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": None,
            "instance": event,
        }
        assert SECRET not in json.dumps(reply)
        errors = [e for e in logs if e.get("outcome") == "error"]
        assert len(errors) == 1
        entry = errors[0]
        assert (entry["sio_event"], entry["direction"], entry["log_level"]) == (event, "in", "error")
        assert isinstance(entry["exc_info"], exc_type)
        assert str(entry["exc_info"]) == SECRET
        assert await client.call("ok", {"message": "still"}, timeout=TIMEOUT) == {"reply": "still"}


@pytest.mark.parametrize("shape", STACKS)
async def test_validation_failure_is_logged_by_type_and_location(live_server: LiveServer, shape: str) -> None:
    async with live_server(asgi_app(server_with_ping(shape))) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call("ping", {"message": None}, timeout=TIMEOUT)
        assert reply["status"] == 422
        errors: list[EventDict] = [e for e in logs if e.get("outcome") == "error"]
        assert [(e["sio_event"], e["log_level"], e["error"]) for e in errors] == [
            ("ping", "error", "ValidationError")
        ]
        assert "exc_info" not in errors[0]  # the sender's error: no traceback
        assert errors[0]["error_count"] == 1
        assert errors[0]["errors"] == [{"type": "string_type", "loc": ["message"]}]


class Opaque:
    """Nothing pydantic knows how to serialise."""


@pytest.mark.parametrize("shape", STACKS)
async def test_unserialisable_reply_is_a_500_logged_as_the_event_failing(
    live_server: LiveServer, shape: str
) -> None:
    tsio = new_server(stack(shape))

    @tsio.on("opaque")
    async def opaque(sid: str) -> Any:
        return {"value": Opaque()}

    @tsio.on("whoami")
    async def whoami(sid: str) -> str:
        return sid

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        sid = await client.call("whoami", timeout=TIMEOUT)
        with structlog.testing.capture_logs() as logs:
            reply, elapsed = await timed_call(client, "opaque", None)
    # the caller is answered, not left waiting ...
    assert elapsed < 1.0
    assert (reply["status"], reply["title"], reply["detail"]) == (500, "Internal Server Error", None)
    # ... and the event's one entry says it failed, with the traceback
    entries = [e for e in logs if e.get("sio_event") == "opaque"]
    assert [(e["sid"], e["namespace"], e["direction"], e["outcome"], e["log_level"]) for e in entries] == [
        (sid, "/", "in", "error", "error")
    ]
    assert entries[0]["exc_info"] is not None


@pytest.mark.parametrize("shape", STACKS)
async def test_typed_client_survives_a_bad_push(live_server: LiveServer, shape: str) -> None:
    tsio = new_server()
    sids = record_sids(tsio)
    inbox = Inbox()

    client = wrap(socketio.AsyncClient(), middleware=stack(shape))

    @client.on(Ping)
    async def on_ping(data: Ping) -> Pong:
        inbox.put(data)
        return Pong(reply=data.message)

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        with structlog.testing.capture_logs() as logs:
            await tsio.emit("ping", {"message": 1}, to=sid)
            # a call gets the 422 back from the client, within a second
            start = time.perf_counter()
            reply = await tsio.call("ping", {"message": None}, to=sid, timeout=TIMEOUT)
            assert time.perf_counter() - start < 1.0
            assert_422(reply, "ping", ["string_type"])
            await tsio.emit(Ping(message="fine"), to=sid)
            assert await inbox.get() == Ping(message="fine")
    failures = [(e["sio_event"], e["sid"], e["direction"]) for e in logs if e.get("outcome") == "error"]
    assert failures == [("ping", None, "in"), ("ping", None, "in")]
