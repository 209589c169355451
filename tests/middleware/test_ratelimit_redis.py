"""RateLimitMiddleware with Redis: one budget for two servers, a given clock and client, the sync
face, clients of the wrong kind, and failing open when Redis is down or never answers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import redis
import redis.asyncio
import socketio
import structlog

from tests.middleware.test_ratelimit import Clock, limited_server
from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT, asgi_app, connected
from tests.support.models import Ping, Pong
from zndraw_socketio import InboundContext, wrap
from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware, RedisBackend

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(30)


# -- Redis ----------------------------------------------------------------------------------------
@pytest.fixture
def redis_prefix(redis_url: str) -> Any:
    """A key prefix of this test's own, its keys deleted afterwards."""
    prefix = f"test:ratelimit:{time.monotonic_ns()}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    finally:
        client.close()


async def test_two_servers_with_one_redis_share_one_budget(
    live_server: LiveServer, redis_url: str, redis_prefix: str
) -> None:
    def per_user(ctx: InboundContext) -> str:
        return "user-1"

    limiters = [  # two processes' middleware: two backends, two clients, one Redis
        RateLimitMiddleware("3/hour", key=per_user, backend=RedisBackend(redis_url, prefix=redis_prefix))
        for _ in range(2)
    ]
    handled: list[str] = []
    first, second = (limited_server(limiter, handled) for limiter in limiters)
    async with (
        live_server(asgi_app(first)) as url1,
        live_server(asgi_app(second)) as url2,
        connected(url1) as one,
        connected(url2) as two,
    ):
        replies = [
            await one.call("ping", {"message": "1"}, timeout=TIMEOUT),
            await two.call("ping", {"message": "2"}, timeout=TIMEOUT),
            await one.call("ping", {"message": "3"}, timeout=TIMEOUT),
            await two.call("ping", {"message": "4"}, timeout=TIMEOUT),
        ]
    assert replies[:3] == [{"reply": "1"}, {"reply": "2"}, {"reply": "3"}]
    assert replies[3]["status"] == 429 and 0 < replies[3]["retry_after"] <= 1200.0
    assert [limiter.rejected for limiter in limiters] == [0, 1]
    client = redis.Redis.from_url(redis_url)
    try:
        (key,) = client.keys(f"{redis_prefix}:*")
        assert 0 < client.pttl(key) <= 3600 * 1000  # the key expires once the bucket is full again
    finally:
        client.close()


async def test_redis_with_a_given_clock_and_client(
    live_server: LiveServer, redis_url: str, redis_prefix: str
) -> None:
    clock = Clock()
    client = redis.asyncio.Redis.from_url(redis_url)
    limiter = RateLimitMiddleware(
        "2/second", burst=1, backend=RedisBackend(client, prefix=redis_prefix), clock=clock
    )
    handled: list[str] = []
    async with live_server(asgi_app(limited_server(limiter, handled))) as url, connected(url) as peer:
        assert await peer.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a"}
        refused = await peer.call("ping", {"message": "b"}, timeout=TIMEOUT)
        clock.now += 0.5
        assert await peer.call("ping", {"message": "c"}, timeout=TIMEOUT) == {"reply": "c"}
    await client.aclose()
    assert refused["status"] == 429 and refused["retry_after"] == 0.5


def test_redis_on_a_sync_server(redis_url: str, redis_prefix: str) -> None:
    clock = Clock()
    limiter = RateLimitMiddleware("1/hour", backend=RedisBackend(redis_url, prefix=redis_prefix), clock=clock)
    tsio = wrap(socketio.Server(async_mode="threading", async_handlers=False), middleware=[limiter])

    @tsio.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    with serve_wsgi(socketio.WSGIApp(tsio.sio)) as url:
        client = socketio.Client()
        client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            replies: list[Any] = [client.call("ping", {"message": str(i)}, timeout=TIMEOUT) for i in range(2)]
        finally:
            client.disconnect()
    assert replies[0] == {"reply": "0"} and replies[1]["status"] == 429


def test_a_redis_client_of_the_wrong_kind_is_refused_when_added() -> None:
    async_only = RateLimitMiddleware(backend=redis.asyncio.Redis())
    sync_only = RateLimitMiddleware(backend=redis.Redis())
    with pytest.raises(TypeError, match="synchronous face"):
        wrap(socketio.Server(async_mode="threading"), middleware=[async_only])
    with pytest.raises(TypeError, match="asynchronous face"):
        wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[sync_only])
    with pytest.raises(TypeError, match="Redis URL or a redis client"):
        RateLimitMiddleware(backend=42)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server that accepts connections, reads everything and never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.close()
        for writer in writers:
            writer.close()


@pytest.mark.parametrize("failure", ["down", "silent"])
async def test_a_redis_that_fails_or_never_answers_lets_events_through_and_is_logged(
    live_server: LiveServer, failure: str
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if failure == "down":
            url = f"redis://127.0.0.1:{closed_port()}/0"
        else:
            url = await stack.enter_async_context(silent_redis())
        backend = RedisBackend(url, timeout=0.2, cooldown=0.0)  # no cooldown: every event asks
        limiter = RateLimitMiddleware("1/hour", backend=backend)
        handled: list[str] = []
        server_url = await stack.enter_async_context(live_server(asgi_app(limited_server(limiter, handled))))
        client = await stack.enter_async_context(connected(server_url))
        with structlog.testing.capture_logs() as logs:
            started = time.monotonic()
            replies = [await client.call("ping", {"message": str(i)}, timeout=TIMEOUT) for i in range(3)]
            elapsed = time.monotonic() - started
    assert replies == [{"reply": "0"}, {"reply": "1"}, {"reply": "2"}]  # over the limit, yet through
    assert elapsed < 3 * 0.2 + 1.5  # each waited at most about the timeout
    assert backend.errors == 3 and limiter.rejected == 0
    failures = [entry for entry in logs if entry["event"].startswith("rate limit backend failed")]
    assert len(failures) == 3
    assert failures[0]["log_level"] == "warning" and failures[0]["backend"] == "redis"
    assert failures[0]["error"] == ("ConnectionError" if failure == "down" else "TimeoutError")


async def test_after_a_failure_redis_is_left_alone_for_the_cooldown(live_server: LiveServer) -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{closed_port()}/0", timeout=0.2, cooldown=60.0)
    limiter = RateLimitMiddleware("1/hour", backend=backend)
    handled: list[str] = []
    async with live_server(asgi_app(limited_server(limiter, handled))) as url, connected(url) as client:
        for i in range(3):
            assert await client.call("ping", {"message": str(i)}, timeout=TIMEOUT) == {"reply": str(i)}
    assert backend.errors == 1  # the first event found Redis down; the next two did not ask
