"""RateLimitMiddleware in memory: the bucket arithmetic on a controlled clock, and real clients
over loopback (429 on a call, a dropped emit, per connection / user / event / handler, connects
not limited, the sync face). Redis: ``test_ratelimit_redis.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import socketio
import structlog

from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, InboundContext, Middleware, wrap
from zndraw_socketio.middleware import InboundNext
from zndraw_socketio.middleware.ratelimit import (
    MemoryBackend,
    RateLimitMiddleware,
    connection_key,
    parse_rate,
)
from zndraw_socketio.testing import TestClient

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(30)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the arithmetic ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rate", "expected"),
    [("20/second", (20, 1.0)), ("3/minute", (3, 60.0)), (" 1 / hour ", (1, 3600.0))],
)
def test_rates_parse(rate: str, expected: tuple[int, float]) -> None:
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["20/sec", "20/seconds", "0/second", "-1/second", "ten/second", "20", ""])
def test_bad_rates_raise_at_construction(rate: str) -> None:
    with pytest.raises(ValueError, match="N/second"):
        RateLimitMiddleware(rate)


@pytest.mark.parametrize("burst", [0, -2, 1.5])
def test_bad_bursts_raise(burst: Any) -> None:
    with pytest.raises(ValueError, match="burst"):
        RateLimitMiddleware("5/second", burst=burst)


def test_a_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    backend = MemoryBackend()
    interval, tolerance = 0.5, 1.0  # 2/second, burst 3
    assert [backend.take("k", 0.0, interval, tolerance) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert backend.take("k", 0.0, interval, tolerance) == 0.5  # the next token in half a second
    assert backend.take("k", 0.25, interval, tolerance) == 0.25
    assert backend.take("k", 0.5, interval, tolerance) == 0.0
    assert backend.take("k", 0.5, interval, tolerance) == 0.5
    assert backend.take("other", 0.5, interval, tolerance) == 0.0  # buckets are per key
    # after a long pause the bucket is full again, never fuller than its burst
    assert [backend.take("k", 100.0, interval, tolerance) for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_full_buckets_are_forgotten_when_the_table_fills() -> None:
    backend = MemoryBackend(max_keys=10)
    for i in range(10):
        backend.take(f"old-{i}", 0.0, 1.0, 0.0)
    assert len(backend) == 10
    backend.take("new", 5.0, 1.0, 0.0)  # the ten old buckets are full again by now: dropped
    assert len(backend) == 1


def test_many_keys_do_not_grow_the_table() -> None:
    backend = MemoryBackend(max_keys=50)
    for i in range(10_000):  # one event per key, a new key every 10 ms
        assert backend.take(f"key-{i}", i * 0.01, 1.0, 0.0) == 0.0
        assert len(backend) <= 50


def test_past_max_keys_active_buckets_are_forgotten_oldest_first() -> None:
    backend = MemoryBackend(max_keys=20)
    for i in range(1000):  # all at once: every bucket stays active
        backend.take(f"key-{i}", 0.0, 1.0, 0.0)
        assert len(backend) <= 20
    assert backend.take("key-999", 0.0, 1.0, 0.0) == 1.0  # a recent key is still limited
    assert backend.take("key-0", 0.0, 1.0, 0.0) == 0.0  # the oldest was forgotten: a full bucket


# -- real clients over loopback -------------------------------------------------------------------
def limited_server(limiter: RateLimitMiddleware, handled: list[str]) -> AsyncServerWrapper:
    """A server whose ``ping`` calls and ``note`` emits are limited; events are handled in order."""
    tsio = new_server(middleware=[limiter], async_handlers=False)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        handled.append(f"ping:{data.message}")
        return Pong(reply=data.message)

    @tsio.on("note")
    async def note(sid: str, data: str) -> None:
        handled.append(f"note:{data}")

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        handled.append("connect")

    return tsio


async def test_a_call_over_the_limit_gets_429_with_retry_after_and_the_handler_never_runs(
    live_server: LiveServer,
) -> None:
    clock = Clock()
    limiter = RateLimitMiddleware("2/second", clock=clock)
    handled: list[str] = []
    async with live_server(asgi_app(limited_server(limiter, handled))) as url, connected(url) as client:
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a"}
        assert await client.call("ping", {"message": "b"}, timeout=TIMEOUT) == {"reply": "b"}
        refused = await client.call("ping", {"message": "c"}, timeout=TIMEOUT)
        clock.now += 0.5  # one token back
        assert await client.call("ping", {"message": "d"}, timeout=TIMEOUT) == {"reply": "d"}
    assert refused == {
        "kind": "error",
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "rate limit of 2/second exceeded; retry after 0.5 s",
        "instance": "ping",
        "retry_after": 0.5,
    }
    assert handled == ["connect", "ping:a", "ping:b", "ping:d"]  # connect is not limited
    assert limiter.rejected == 1


async def test_emits_over_the_limit_are_dropped_and_counted(live_server: LiveServer) -> None:
    limiter = RateLimitMiddleware("3/minute", clock=Clock())
    handled: list[str] = []
    async with live_server(asgi_app(limited_server(limiter, handled))) as url, connected(url) as client:
        for i in range(5):
            await client.emit("note", str(i))
        problem = await client.call("ping", {"message": "x"}, timeout=TIMEOUT)  # after the notes
    assert handled == ["connect", "note:0", "note:1", "note:2"]
    assert problem["status"] == 429 and problem["retry_after"] == 20.0
    assert limiter.rejected == 3  # two notes and the ping


async def test_each_connection_has_its_own_bucket(live_server: LiveServer) -> None:
    limiter = RateLimitMiddleware("1/hour", clock=Clock())
    handled: list[str] = []
    async with (
        live_server(asgi_app(limited_server(limiter, handled))) as url,
        connected(url) as one,
        connected(url) as two,
    ):
        assert await one.call("ping", {"message": "1"}, timeout=TIMEOUT) == {"reply": "1"}
        assert await two.call("ping", {"message": "2"}, timeout=TIMEOUT) == {"reply": "2"}
        assert (await one.call("ping", {"message": "1"}, timeout=TIMEOUT))["status"] == 429
        assert (await two.call("ping", {"message": "2"}, timeout=TIMEOUT))["status"] == 429


async def test_a_key_function_gives_per_user_and_per_event_buckets(live_server: LiveServer) -> None:
    def per_user(ctx: InboundContext) -> str | None:
        user = ctx.data.get("message") if isinstance(ctx.data, dict) else None
        return None if user == "admin" else user  # None: not limited

    def per_event(ctx: InboundContext) -> Any:
        return (connection_key(ctx), ctx.event)

    by_user = RateLimitMiddleware("1/hour", key=per_user, clock=Clock())
    by_event = RateLimitMiddleware("1/hour", key=per_event, clock=Clock())
    handled: list[str] = []
    async with (
        live_server(asgi_app(limited_server(by_user, handled))) as url,
        connected(url) as one,
        connected(url) as two,
    ):
        assert await one.call("ping", {"message": "ada"}, timeout=TIMEOUT) == {"reply": "ada"}
        assert (await two.call("ping", {"message": "ada"}, timeout=TIMEOUT))["status"] == 429
        assert await two.call("ping", {"message": "bob"}, timeout=TIMEOUT) == {"reply": "bob"}
        for _ in range(3):
            assert await one.call("ping", {"message": "admin"}, timeout=TIMEOUT) == {"reply": "admin"}
    handled.clear()
    async with live_server(asgi_app(limited_server(by_event, handled))) as url, connected(url) as client:
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a"}
        await client.emit("note", "n")  # another event: its own bucket
        assert (await client.call("ping", {"message": "b"}, timeout=TIMEOUT))["status"] == 429
    assert handled == ["connect", "ping:a", "note:n"]


async def test_connects_draw_no_tokens(live_server: LiveServer) -> None:
    limiter = RateLimitMiddleware("1/hour", key=lambda ctx: "everyone", clock=Clock())
    handled: list[str] = []
    async with (
        live_server(asgi_app(limited_server(limiter, handled))) as url,
        connected(url) as one,
        connected(url) as two,
    ):
        assert await one.call("ping", {"message": "1"}, timeout=TIMEOUT) == {"reply": "1"}
        assert (await two.call("ping", {"message": "2"}, timeout=TIMEOUT))["status"] == 429
    assert handled == ["connect", "connect", "ping:1"]


async def test_a_per_handler_limit_applies_to_that_handler_only(live_server: LiveServer) -> None:
    tsio = new_server()
    limiter = RateLimitMiddleware("1/hour", clock=Clock())

    @tsio.on(Ping, middleware=[limiter])
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("free")
    async def free(sid: str) -> str:
        return "free"

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a"}
        assert (await client.call("ping", {"message": "b"}, timeout=TIMEOUT))["status"] == 429
        assert [await client.call("free", timeout=TIMEOUT) for _ in range(3)] == ["free"] * 3
    assert limiter.rejected == 1


def test_the_memory_backend_on_a_sync_server() -> None:
    clock = Clock()
    limiter = RateLimitMiddleware("2/second", clock=clock)
    tsio = wrap(socketio.Server(async_mode="threading", async_handlers=False), middleware=[limiter])

    @tsio.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    with serve_wsgi(socketio.WSGIApp(tsio.sio)) as url:
        client = socketio.Client()
        client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            replies: list[Any] = [client.call("ping", {"message": str(i)}, timeout=TIMEOUT) for i in range(3)]
            clock.now += 0.5
            replies.append(client.call("ping", {"message": "later"}, timeout=TIMEOUT))
        finally:
            client.disconnect()
    assert replies[:2] == [{"reply": "0"}, {"reply": "1"}]
    assert replies[2]["status"] == 429 and replies[2]["retry_after"] == 0.5
    assert replies[3] == {"reply": "later"}


async def test_a_failing_key_and_an_outer_middleware_see_what_a_coroutine_step_would_give() -> None:
    """The in-memory step hands back the inner step's awaitable in place: a key function that
    raises still ends as the caller's 500 reply with one error entry, and a middleware outside the
    limiter awaits the 429 reply (and the handler's) as from any other step."""
    seen: list[Any] = []

    class Outer(Middleware):
        async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
            reply = await call_next(ctx)
            seen.append(reply)
            return reply

    def key(ctx: InboundContext) -> Any:
        if ctx.event == "boom":
            raise RuntimeError("no key")
        return "one"

    tsio = new_server([Outer(), RateLimitMiddleware("1/hour", key=key)])
    ran: list[str] = []

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        ran.append(data.message)
        return Pong(reply=data.message)

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        ran.append("boom")

    async with TestClient(tsio) as client:
        with structlog.testing.capture_logs() as logs:
            failed = await client.call("boom", timeout=TIMEOUT)
        assert failed["status"] == 500 and ran == []
        assert [e["error"] for e in logs if e.get("outcome") == "error"] == ["RuntimeError"]
        assert await client.call(Ping(message="a"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="a")
        refused = await client.call(Ping(message="b"), timeout=TIMEOUT)
        assert refused["status"] == 429 and ran == ["a"]
    assert seen == [Pong(reply="a"), refused]
