"""Scale-out faults: a publish that a broker drops is logged with its event, room and namespace,
and the documented manager setup bounds a broker that accepts but never answers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import structlog
from pydantic import BaseModel

from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected
from zndraw_socketio import wrap

if TYPE_CHECKING:
    from tests.conftest import LiveServer

# what README "Scaling out" recommends: redis-py waits forever by default
BOUNDED = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class Ping(BaseModel):
    message: str


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def silent_broker() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def dropped(logs: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (e["sio_event"], e["operation"], e["room"], e["namespace"], e["error"])
        for e in logs
        if e["event"] == "sio publish dropped"
    ]


async def test_a_worker_emit_while_redis_is_down_is_logged() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    worker = wrap(socketio.AsyncRedisManager(url, write_only=True, redis_options=BOUNDED))
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(worker.emit(Ping(message="lost"), room="r1", namespace="/chat"), TIMEOUT)
    assert dropped(logs) == [("ping", "emit", "r1", "/chat", "PublishGaveUp")]
    [entry] = [e for e in logs if e["event"] == "sio publish dropped"]
    assert "Connect" in entry["reason"] or "connect" in entry["reason"]


async def test_a_silent_redis_is_bounded_by_the_documented_timeouts() -> None:
    async with silent_broker() as port:
        url = f"redis://127.0.0.1:{port}/0"
        bounded = wrap(socketio.AsyncRedisManager(url, write_only=True, redis_options=BOUNDED))
        start = time.perf_counter()
        with structlog.testing.capture_logs() as logs:
            await asyncio.wait_for(bounded.emit(Ping(message="lost"), room="r2"), TIMEOUT)
        assert time.perf_counter() - start < TIMEOUT
        assert dropped(logs) == [("ping", "emit", "r2", "/", "PublishGaveUp")]
        # redis-py's defaults wait for an answer that never comes
        unbounded = wrap(socketio.AsyncRedisManager(url, write_only=True))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(unbounded.emit(Ping(message="stuck"), room="r2"), 1.5)


async def test_a_server_emit_reaches_local_clients_and_logs_the_lost_publish(live_server: LiveServer) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    tsio = wrap(
        socketio.AsyncServer(
            async_mode="asgi", client_manager=socketio.AsyncRedisManager(url, redis_options=BOUNDED)
        )
    )
    pings = Inbox()
    client = wrap(socketio.AsyncClient())

    @client.on(Ping)
    async def on_ping(data: Ping) -> None:
        pings.put(data)

    async with live_server(asgi_app(tsio)) as server_url, connected(server_url, client):
        with structlog.testing.capture_logs() as logs:
            await tsio.emit(Ping(message="local"))
            assert await pings.get() == Ping(message="local")
        assert dropped(logs) == [("ping", "emit", None, "/", "PublishGaveUp")]


async def test_a_rabbitmq_that_refuses_the_connection_is_logged() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{closed_port()}/"
    worker = wrap(socketio.AsyncAioPikaManager(url, write_only=True))
    with structlog.testing.capture_logs() as logs, pytest.raises(Exception) as raised:
        await asyncio.wait_for(worker.emit(Ping(message="lost"), room="r3"), TIMEOUT)
    assert dropped(logs) == [("ping", "emit", "r3", "/", type(raised.value).__name__)]


def test_a_sync_worker_emit_while_redis_is_down_is_logged() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    worker = wrap(socketio.RedisManager(url, write_only=True, redis_options=BOUNDED))
    with structlog.testing.capture_logs() as logs:
        worker.emit(Ping(message="lost"), room="r4")
    assert dropped(logs) == [("ping", "emit", "r4", "/", "PublishGaveUp")]


def test_each_manager_is_watched_once() -> None:
    manager = socketio.AsyncRedisManager("redis://127.0.0.1:1/0", write_only=True)
    wrap(manager)
    publish = manager._publish
    wrap(manager)
    assert manager._publish is publish
