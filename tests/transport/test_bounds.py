"""Bounds on what a hostile client can make the server hold, over real sockets: binary
attachments per packet, their bytes and waiting time, and each connection's outbound buffer."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import structlog
from prometheus_client import CollectorRegistry
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected, wait_for_condition
from tests.support.hostile import stalled_websocket
from zndraw_socketio import AsyncServerWrapper, Bounds, wrap
from zndraw_socketio.middleware.prometheus import PrometheusMiddleware
from zndraw_socketio.transport.buffers import busy

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def blob_server(bounds: Bounds | None = None) -> AsyncServerWrapper:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"), bounds=bounds)

    @tsio.on("blob")
    async def blob(sid: str, *args: Any) -> int:
        return len(args)

    @tsio.on("health")
    async def health(sid: str) -> str:
        return "ok"

    return tsio


async def raw_socket(url: str) -> ClientConnection:
    """A websocket that speaks engine.io and socket.io by hand, connected to namespace ``/``."""
    ws = await ws_connect(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", max_size=None)
    assert str(await ws.recv()).startswith("0")  # engine.io open
    await ws.send("40")
    assert str(await ws.recv()).startswith("40")  # socket.io connect
    return ws


async def ack(ws: ClientConnection, ack_id: int) -> Any:
    """The data of the ACK with ``ack_id`` (engine.io pings answered on the way)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = await ws.recv()
            if frame == "2":
                await ws.send("3")
            elif isinstance(frame, str) and frame.startswith(f"43{ack_id}"):
                return json.loads(frame[len(f"43{ack_id}") :])


def refusals(logs: list[Any]) -> list[Any]:
    return [e for e in logs if e.get("error") == "UndecodablePacket"]


async def test_more_attachments_than_the_bound_are_refused(live_server: LiveServer) -> None:
    tsio = blob_server()
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call("blob", tuple(b"x" for _ in range(11)), timeout=TIMEOUT)
            assert await client.call("blob", tuple(b"x" for _ in range(10)), timeout=TIMEOUT) == 10
        assert reply["status"] == 400 and "11 binary attachments announced, at most 10" in reply["detail"]
        assert len(refusals(logs)) == 1
        assert tsio.sio._binary_packet == {}


async def test_a_header_announcing_a_million_attachments_keeps_nothing(live_server: LiveServer) -> None:
    """The hostile header is answered with a 400 at once; the attachments that follow are dropped
    as they arrive, and the connection goes on serving."""
    tsio = blob_server()
    async with live_server(asgi_app(tsio)) as url:
        ws = await raw_socket(url)
        try:
            await ws.send('451000000-1["blob",{"_placeholder":true,"num":0}]')
            reply = await ack(ws, 1)
            assert reply[0]["status"] == 400 and "1000000 binary attachments" in reply[0]["detail"]
            for _ in range(40):
                await ws.send(b"\x00" * 65536)
            await ws.send('422["health"]')
            assert await ack(ws, 2) == ["ok"]
            assert tsio.sio._binary_packet == {}
        finally:
            await ws.close()


async def test_attachments_over_the_byte_bound_are_refused(live_server: LiveServer) -> None:
    tsio = blob_server(Bounds(max_attachment_bytes=100_000))
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        reply = await client.call("blob", (b"a" * 60_000, b"b" * 60_000), timeout=TIMEOUT)
        assert reply["status"] == 400 and "over 100000 bytes" in reply["detail"]
        assert await client.call("blob", (b"a" * 60_000,), timeout=TIMEOUT) == 1
        assert await client.call("health", timeout=TIMEOUT) == "ok"
        assert tsio.sio._binary_packet == {}


async def test_a_partial_packet_waits_no_longer_than_the_bound(live_server: LiveServer) -> None:
    """Even when nothing more arrives, the packet is dropped and answered once its time is up;
    its late attachment is dropped too."""
    tsio = blob_server(Bounds(attachment_timeout=0.3))
    async with live_server(asgi_app(tsio)) as url:
        ws = await raw_socket(url)
        try:
            await ws.send('452-7["blob",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
            await ws.send(b"first")
            reply = await ack(ws, 7)
            assert reply[0]["status"] == 400 and "still missing after 0.3 s" in reply[0]["detail"]
            assert tsio.sio._binary_packet == {}
            await ws.send(b"late")
            await ws.send('428["health"]')
            assert await ack(ws, 8) == ["ok"]
        finally:
            await ws.close()


def test_bounds_refuse_nonsense() -> None:
    bad: list[dict[str, Any]] = [
        {"max_attachments": -1},
        {"max_buffered_bytes": 1.5},
        {"attachment_timeout": 0},
    ]
    for arguments in bad:
        with pytest.raises(ValueError):
            Bounds(**arguments)
    with pytest.raises(ValueError):
        Bounds(max_attachment_bytes=True)


async def test_a_reader_that_stops_is_disconnected_and_the_room_keeps_its_pace(
    live_server: LiveServer,
) -> None:
    """A member that stops reading goes over its outbound buffer and is disconnected, saying why,
    logged and counted; the other member of the room receives every broadcast."""
    registry = CollectorRegistry()
    tsio = wrap(
        socketio.AsyncServer(async_mode="asgi"),
        bounds=Bounds(max_buffered_bytes=512 * 1024),
        middleware=[PrometheusMiddleware(registry=registry)],
    )
    reasons = Inbox()
    joined = Inbox()

    @tsio.on("join")
    async def join(sid: str) -> str:
        await tsio.enter_room(sid, "room")
        joined.put(sid)
        return "joined"

    @tsio.event
    async def disconnect(sid: str, reason: str) -> None:
        reasons.put((sid, reason))

    chunk = "x" * 65536
    count = 200  # 13 MB: far more than the bound
    received: list[int] = []
    async with live_server(asgi_app(tsio)) as url, connected(url) as reader:
        reader.on("big", lambda data: received.append(len(data)))
        assert await reader.call("join", timeout=TIMEOUT) == "joined"
        await joined.get()
        stalled = await stalled_websocket(url, '421["join"]')
        try:
            stalled_sid = await joined.get()
            with structlog.testing.capture_logs() as logs:
                for _ in range(count):
                    await tsio.emit("big", chunk, room="room")
                assert await reasons.get() == (stalled_sid, "outbound buffer full")
                await wait_for_condition(lambda: len(received) >= count, TIMEOUT * 2)
            assert received == [len(chunk)] * count
            full = [e for e in logs if e.get("event") == "sio connection over its outbound buffer"]
            assert len(full) == 1 and full[0]["limit_bytes"] == 512 * 1024
            assert len(tsio.sio.eio.sockets) == 1  # the stalled connection is gone
            assert registry.get_sample_value("socketio_outbound_overflows_total") == 1
        finally:
            stalled.close()


async def test_a_volatile_emit_skips_a_connection_still_sending(live_server: LiveServer) -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"), bounds=Bounds(max_buffered_bytes=64 * 1024 * 1024))
    joined = Inbox()

    @tsio.on("join")
    async def join(sid: str) -> str:
        await tsio.enter_room(sid, "room")
        joined.put(sid)
        return "joined"

    received: list[str] = []
    async with live_server(asgi_app(tsio)) as url, connected(url) as reader:
        reader.on("tick", received.append)
        assert await reader.call("join", timeout=TIMEOUT) == "joined"
        await joined.get()
        stalled = await stalled_websocket(url, '421["join"]')
        try:
            stalled_sid = await joined.get()
            for _ in range(100):  # fills the stalled connection's buffer
                await tsio.emit("big", "x" * 65536, to=stalled_sid)
            eio_sid = tsio.sio.manager.eio_sid_from_sid(stalled_sid, "/")
            socket_of_stalled = tsio.sio.eio.sockets[eio_sid]
            assert busy(socket_of_stalled)
            queued = socket_of_stalled.queue.qsize()
            await tsio.emit("tick", "fresh", room="room", volatile=True)
            await tsio.emit("tick", "fresh", to=stalled_sid, volatile=True)
            await wait_for_condition(lambda: bool(received))
            assert received == ["fresh"]
            assert socket_of_stalled.queue.qsize() <= queued  # nothing new queued behind the rest
        finally:
            stalled.close()
