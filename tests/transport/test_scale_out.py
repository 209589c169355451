"""Scale-out: typed emits from any process reach clients on any server node.

Two uvicorn servers share a Redis channel through python-socketio's ``AsyncRedisManager``; a
typed client is connected to each. A worker that is not a server emits typed models through a
write-only manager wrapped with ``wrap()``. Every test uses a channel of its own.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import redis.asyncio
import socketio
import structlog
from pydantic import BaseModel
from socketio.async_pubsub_manager import AsyncPubSubManager

from tests.support.faces_support import TIMEOUT, asgi_app
from zndraw_socketio import AsyncClientWrapper, AsyncManagerWrapper, AsyncServerWrapper, wrap

if TYPE_CHECKING:
    from tests.conftest import LiveServer

ROOM = "room1"


class Ping(BaseModel):
    message: str


class SessionLeft(BaseModel):
    room_id: str
    user_id: str


@dataclass
class Node:
    """One server node and the typed client connected to it."""

    server: AsyncServerWrapper
    client: AsyncClientWrapper
    sid: str
    pings: "asyncio.Queue[Ping]"
    left: "asyncio.Queue[SessionLeft]"

    async def next_ping(self) -> Ping:
        return await asyncio.wait_for(self.pings.get(), TIMEOUT)

    async def next_left(self) -> SessionLeft:
        return await asyncio.wait_for(self.left.get(), TIMEOUT)


async def close_manager(manager: Any) -> None:
    """Stop a redis manager's listener task and close its redis connections."""
    task = getattr(manager, "thread", None)
    if isinstance(task, asyncio.Future) and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, TIMEOUT)
    for name in ("pubsub", "redis"):
        conn = getattr(manager, name, None)
        if conn is not None:
            await conn.aclose()


@contextlib.asynccontextmanager
async def node(live_server: "LiveServer", redis_url: str, channel: str) -> AsyncIterator[Node]:
    manager = socketio.AsyncRedisManager(redis_url, channel=channel)
    server = wrap(socketio.AsyncServer(async_mode="asgi", client_manager=manager))

    @server.on("connect")
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        await server.enter_room(sid, ROOM)

    client = wrap(socketio.AsyncClient())
    pings: asyncio.Queue[Ping] = asyncio.Queue()
    left: asyncio.Queue[SessionLeft] = asyncio.Queue()

    @client.on(Ping)
    async def on_ping(data: Ping) -> None:
        pings.put_nowait(data)

    @client.on(SessionLeft)
    async def on_left(data: SessionLeft) -> None:
        left.put_nowait(data)

    try:
        async with live_server(asgi_app(server.sio)) as url:
            await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
            try:
                yield Node(server, client, client.get_sid("/"), pings, left)
            finally:
                await client.disconnect()
    finally:
        await close_manager(manager)


@contextlib.asynccontextmanager
async def worker(redis_url: str, channel: str) -> AsyncIterator[AsyncManagerWrapper]:
    manager = socketio.AsyncRedisManager(redis_url, channel=channel, write_only=True)
    try:
        yield wrap(manager)
    finally:
        await close_manager(manager)


@contextlib.asynccontextmanager
async def two_nodes(live_server: "LiveServer", redis_url: str) -> AsyncIterator[tuple[str, Node, Node]]:
    """Two nodes on a fresh channel, both subscribed to it before this yields."""
    channel = f"zndraw-socketio-test-{uuid.uuid4().hex}"
    async with node(live_server, redis_url, channel) as a, node(live_server, redis_url, channel) as b:
        probe = redis.asyncio.Redis.from_url(redis_url)
        try:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    ((_, subscribers),) = await probe.pubsub_numsub(channel)
                    if subscribers >= 2:
                        break
                    await asyncio.sleep(0.02)
        finally:
            await probe.aclose()
        yield channel, a, b


async def test_worker_emits_a_typed_model_to_a_room_on_every_node(
    live_server: "LiveServer", redis_url: str
) -> None:
    async with two_nodes(live_server, redis_url) as (channel, a, b), worker(redis_url, channel) as tsio:
        assert isinstance(tsio, AsyncManagerWrapper)
        await tsio.emit(SessionLeft(room_id=ROOM, user_id="u1"), room=ROOM)
        expected = SessionLeft(room_id=ROOM, user_id="u1")
        for n in (a, b):
            got = await n.next_left()
            assert type(got) is SessionLeft and got == expected


async def test_worker_emits_a_typed_model_to_everyone(live_server: "LiveServer", redis_url: str) -> None:
    async with two_nodes(live_server, redis_url) as (channel, a, b), worker(redis_url, channel) as tsio:
        await tsio.emit(Ping(message="to all"))
        await tsio.emit("ping", Ping(message="by name"))
        for n in (a, b):
            assert await n.next_ping() == Ping(message="to all")
            assert await n.next_ping() == Ping(message="by name")


async def test_worker_emits_to_one_client_on_another_node(live_server: "LiveServer", redis_url: str) -> None:
    async with two_nodes(live_server, redis_url) as (channel, a, b), worker(redis_url, channel) as tsio:
        await tsio.emit(Ping(message="only b"), to=b.sid)
        assert await b.next_ping() == Ping(message="only b")
        await tsio.emit(Ping(message="only a"), to=a.sid)
        assert await a.next_ping() == Ping(message="only a")
        assert a.pings.empty() and b.pings.empty()


async def test_emits_with_debug_filtered_take_socketio_coroutines_across_nodes(
    live_server: "LiveServer", redis_url: str
) -> None:
    """With debug entries filtered, a worker's and a server's repeated ``emit(Model)`` to a sid are
    the managers' own coroutines (a server's ``emit`` would only forward there), and still reach
    the right client on either node."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    async with two_nodes(live_server, redis_url) as (channel, a, b), worker(redis_url, channel) as tsio:
        await tsio.emit(Ping(message="first"), to=b.sid)  # the first of a model goes through the chain
        assert await b.next_ping() == Ping(message="first")
        direct = tsio.emit(Ping(message="worker to a"), to=a.sid)
        assert direct.cr_code is AsyncPubSubManager.emit.__code__  # pyright: ignore[reportAttributeAccessIssue]
        await direct
        assert await a.next_ping() == Ping(message="worker to a")

        await b.server.emit(Ping(message="first from b"), room=b.sid)
        assert await b.next_ping() == Ping(message="first from b")
        direct = b.server.emit(Ping(message="b to a"), to=a.sid)
        assert direct.cr_code is AsyncPubSubManager.emit.__code__  # pyright: ignore[reportAttributeAccessIssue]
        await direct
        assert await a.next_ping() == Ping(message="b to a")
        assert a.pings.empty() and b.pings.empty()


async def test_typed_emit_from_one_server_reaches_the_client_of_the_other(
    live_server: "LiveServer", redis_url: str
) -> None:
    async with two_nodes(live_server, redis_url) as (_, a, b):
        await a.server.emit(Ping(message="a to b"), to=b.sid)
        assert await b.next_ping() == Ping(message="a to b")

        await a.server.emit(SessionLeft(room_id=ROOM, user_id="u2"), room=ROOM)
        expected = SessionLeft(room_id=ROOM, user_id="u2")
        assert await a.next_left() == expected
        assert await b.next_left() == expected
        assert a.pings.empty()


async def test_worker_cannot_call(redis_url: str) -> None:
    async with worker(redis_url, f"zndraw-socketio-test-{uuid.uuid4().hex}") as tsio:
        with pytest.raises(TypeError, match="call"):
            await tsio.call(Ping(message="x"), response_model=Ping)
