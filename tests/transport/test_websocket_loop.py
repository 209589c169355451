"""The websocket loops ``wrap()`` gives the engine.io server of an ``AsyncServer`` and the engine.io
client of an ``AsyncClient`` (``websocket_loop.py``, ``client_loop.py``).

They are installed on the wrapped object only, and they behave as engine.io's own loops do: every
scenario below runs with both (``websocket_loop=True`` and ``False``) over real connections, and
both must observe the same thing: events, acks and binary attachments over a direct websocket,
after an upgrade from polling and over polling alone, a refused upgrade, a packet over the size
limit, a peer that goes silent, a peer that leaves, and the disconnect reasons. Two differences
are deliberate, and asserted for each loop: the DISCONNECT a client's ``disconnect()`` queues now
reaches the server, and a frame that is no engine.io packet closes the connection cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import engineio.async_drivers.asgi
import httpx
import pytest
import socketio
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from tests.support.helpers import TIMEOUT
from tests.support.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, wrap
from zndraw_socketio.transport import client_loop as client_module
from zndraw_socketio.transport import websocket_loop as loop_module

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(30)

LOOPS = pytest.mark.parametrize("ours", [True, False], ids=["our-loop", "engineio-loop"])


class Served:
    """A typed server over uvicorn; what its handlers saw; how often our loop served a socket."""

    def __init__(self, tsio: AsyncServerWrapper, url: str, served: list[Any]) -> None:
        self.tsio = tsio
        self.url = url
        self.served = served
        self.disconnects: asyncio.Queue[str] = asyncio.Queue()

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


def counted_loops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A list that gets the sid of each socket our server loop serves and ``"client"`` for each
    connection our client loop reads, while ``monkeypatch`` holds."""
    served: list[Any] = []
    real_server, real_client = loop_module.serve_websocket, client_module._client_read

    async def counted_server(socket: Any, ws: Any) -> None:
        served.append(socket.sid)
        await real_server(socket, ws)

    async def counted_client(client: Any) -> None:
        served.append("client")
        await real_client(client)

    monkeypatch.setattr(loop_module, "serve_websocket", counted_server)
    monkeypatch.setattr(client_module, "_client_read", counted_client)
    return served


@asynccontextmanager
async def serving(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool, **server_kwargs: Any
) -> AsyncIterator[Served]:
    """A wrapped server answering ``ping`` (and ``size`` with the length of its bytes), with
    ``websocket_loop=ours``, served by uvicorn; ``served`` lists each socket our server loop served
    and, as ``"client"``, each connection our client loop read."""
    served = counted_loops(monkeypatch)
    tsio = wrap(socketio.AsyncServer(async_mode="asgi", **server_kwargs), websocket_loop=ours)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    async def size(sid: str, data: bytes) -> int:
        return len(data)

    tsio.sio.on("size", size)
    async with live_server(socketio.ASGIApp(tsio.sio)) as url:
        state = Served(tsio, url, served)

        @tsio.on("disconnect")
        async def disconnect(sid: str, reason: str) -> None:
            state.disconnects.put_nowait(reason)

        yield state


def test_installed_on_the_wrapped_server_only() -> None:
    driver = engineio.async_drivers.asgi._async
    plain = socketio.AsyncServer(async_mode="asgi")
    wrapped = socketio.AsyncServer(async_mode="asgi")
    tsio = wrap(wrapped)
    factory = wrapped.eio._async["websocket"]
    assert factory is not driver["websocket"]
    assert wrapped.eio._async is not driver
    assert plain.eio._async is driver  # engine.io's table and other servers: untouched
    assert driver["websocket"] is engineio.async_drivers.asgi.WebSocket
    loop_module.install_websocket_loop(tsio.sio.eio)  # a second install changes nothing
    assert wrapped.eio._async["websocket"] is factory
    kept = socketio.AsyncServer(async_mode="asgi")
    wrap(kept, websocket_loop=False)
    assert kept.eio._async is driver


def test_a_handler_that_is_not_the_sockets_own_goes_to_the_driver_unchanged() -> None:
    """The factory replaces engine.io's socket handler only; any other handler is passed on."""
    sio = socketio.AsyncServer(async_mode="asgi")
    wrap(sio)

    async def other(ws: Any) -> None:  # pragma: no cover - never run
        pass

    ws = sio.eio._async["websocket"](other, sio.eio)
    assert isinstance(ws, engineio.async_drivers.asgi.WebSocket)
    assert ws.handler is other


@LOOPS
async def test_calls_over_a_direct_websocket(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    async with serving(live_server, monkeypatch, ours) as server:
        client = wrap(socketio.AsyncClient(), websocket_loop=ours)
        await client.sio.connect(server.url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            replies = [
                await client.call(Ping(message=f"m{i}-é"), response_model=Pong, timeout=TIMEOUT)
                for i in range(20)
            ]
            calls = [client.call(Ping(message=str(i)), response_model=Pong) for i in range(50)]
            concurrent = await asyncio.gather(*calls)
            size = await client.sio.call("size", b"\x00\x01" * 5_000, timeout=TIMEOUT)
        finally:
            await client.sio.disconnect()
        assert [r.reply for r in replies] == [f"m{i}-é" for i in range(20)]
        assert [r.reply for r in concurrent] == [str(i) for i in range(50)]
        assert size == 10_000
        # a deliberate difference: on Python 3.11, engine.io's client write loop wakes three loop
        # turns after a packet is queued (its asyncio.wait_for), too late for the DISCONNECT that
        # disconnect() queues just before it closes the websocket, so the server hears only that
        # the transport closed; ours sends it (and on 3.12+, whose wait_for is cheaper, so does
        # engine.io's)
        sent = ours or sys.version_info >= (3, 12)
        reason = "client disconnect" if sent else "transport close"
        assert await asyncio.wait_for(server.disconnects.get(), TIMEOUT) == reason
        assert server.served.count("client") == (1 if ours else 0)
        assert len(server.served) == (2 if ours else 0)


@LOOPS
async def test_calls_after_an_upgrade_from_polling(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    async with serving(live_server, monkeypatch, ours) as server:
        client = wrap(socketio.AsyncClient(), websocket_loop=ours).sio
        received: asyncio.Queue[Any] = asyncio.Queue()
        client.on("blob", received.put_nowait)
        await client.connect(server.url, wait_timeout=TIMEOUT)  # polling first, then the upgrade
        try:
            assert client.transport() == "websocket"
            reply = await client.call("ping", {"message": "after upgrade"}, timeout=TIMEOUT)
            await server.tsio.sio.emit("blob", {"bytes": b"\x00\xff" * 100})
            blob = await asyncio.wait_for(received.get(), TIMEOUT)
        finally:
            await client.disconnect()
        assert reply == {"reply": "after upgrade"}
        assert blob == {"bytes": b"\x00\xff" * 100}
        assert len(server.served) == (2 if ours else 0)


async def _polling_sid(url: str) -> str:
    async with httpx.AsyncClient() as http:
        opened = await http.get(f"{url}/socket.io/?EIO=4&transport=polling", timeout=TIMEOUT)
    assert opened.text.startswith("0")
    return json.loads(opened.text[1:])["sid"]


@asynccontextmanager
async def bare_client(server: Served) -> AsyncIterator[Any]:
    """A bare websocket, opened to ``server`` and connected to its namespace ``/``."""
    async with ws_connect(server.ws_url) as ws:
        assert str(await asyncio.wait_for(ws.recv(), TIMEOUT)).startswith("0")  # engine.io OPEN
        await ws.send("40")  # socket.io CONNECT to /
        assert str(await asyncio.wait_for(ws.recv(), TIMEOUT)).startswith("40")
        yield ws


@LOOPS
@pytest.mark.parametrize(
    ("frames", "logged"),
    [
        (["2not-a-probe"], "Failed websocket upgrade, no PING packet"),
        (["2probe", "6"], "expected UPGRADE packet, received 6 instead"),  # NOOP for UPGRADE
    ],
    ids=["no-probe", "no-upgrade"],
)
async def test_an_upgrade_out_of_order_is_refused(
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    ours: bool,
    frames: list[str],
    logged: str,
) -> None:
    caplog.set_level(logging.INFO, logger="engineio.server")
    async with serving(live_server, monkeypatch, ours, engineio_logger=True) as server:
        sid = await _polling_sid(server.url)
        async with ws_connect(f"{server.ws_url}&sid={sid}") as ws:
            for frame in frames:
                await ws.send(frame)
                if frame == "2probe":
                    assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "3probe"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert any(logged in r.getMessage() for r in caplog.records)


@LOOPS
async def test_a_packet_over_the_size_limit_closes_the_connection(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    async with serving(live_server, monkeypatch, ours, max_http_buffer_size=1_000) as server:
        async with bare_client(server) as ws:
            await ws.send('42["ping",{"message":"%s"}]' % ("x" * 2_000))
            with pytest.raises(ConnectionClosed):
                while True:  # anything the server still sends, then the close
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert await asyncio.wait_for(server.disconnects.get(), TIMEOUT) == "transport close"


@LOOPS
async def test_a_client_that_goes_silent_is_dropped(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    """A client that answers no ping: the connection ends within the ping interval plus timeout
    (and a little), and the handler hears of it, as with engine.io's loop."""
    async with serving(live_server, monkeypatch, ours, ping_interval=0.3, ping_timeout=0.3) as server:
        async with bare_client(server) as ws:
            started = asyncio.get_running_loop().time()
            with pytest.raises(ConnectionClosed):
                while True:  # the server's pings go unanswered
                    await asyncio.wait_for(ws.recv(), 5)
            waited = asyncio.get_running_loop().time() - started
        reason = await asyncio.wait_for(server.disconnects.get(), TIMEOUT)
    assert waited < 3
    assert reason in ("ping timeout", "transport close")


@LOOPS
async def test_a_packet_of_unknown_type_is_ignored(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    async with serving(live_server, monkeypatch, ours) as server, bare_client(server) as ws:
        await ws.send("9whatever")  # no such engine.io packet type
        await ws.send('421["ping",{"message":"still here"}]')
        assert await asyncio.wait_for(ws.recv(), TIMEOUT) == '431[{"reply":"still here"}]'


def test_installed_on_the_wrapped_client_only() -> None:
    plain = socketio.AsyncClient()
    client = wrap(socketio.AsyncClient())
    eio = client.sio.eio
    assert "_read_loop_websocket" in vars(eio) and "_write_loop" in vars(eio)
    read_loop = eio._read_loop_websocket
    client_module.install_client_loops(eio)  # a second install changes nothing
    assert eio._read_loop_websocket is read_loop
    assert "_read_loop_websocket" not in vars(plain.eio) and "_write_loop" not in vars(plain.eio)
    kept = wrap(socketio.AsyncClient(), websocket_loop=False)
    assert "_read_loop_websocket" not in vars(kept.sio.eio)


@LOOPS
async def test_calls_over_polling_alone(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    """Over long-polling the client's write loop is engine.io's, and no websocket loop runs."""
    # short pings: a long-poll still pending when the client leaves returns soon after
    async with serving(live_server, monkeypatch, ours, ping_interval=0.5, ping_timeout=0.5) as server:
        client = wrap(socketio.AsyncClient(), websocket_loop=ours)
        await client.sio.connect(server.url, transports=["polling"], wait_timeout=TIMEOUT)
        try:
            assert client.sio.transport() == "polling"
            replies = [await client.call(Ping(message=str(i)), response_model=Pong) for i in range(5)]
            size = await client.sio.call("size", b"\x07" * 300, timeout=TIMEOUT)
        finally:
            # python-socketio's clean disconnect() over polling waits for that poll (either loop)
            await asyncio.wait_for(client.sio.eio.disconnect(abort=True), TIMEOUT)
        assert [r.reply for r in replies] == [str(i) for i in range(5)]
        assert size == 300
        assert server.served == []


@asynccontextmanager
async def fake_engineio_server(leave: bool) -> AsyncIterator[str]:
    """A websocket server that speaks just enough engine.io and socket.io to accept one client to
    ``/`` (pings every 0.3 s, 0.2 s to answer), then goes silent, or closes (``leave``)."""
    from websockets.asyncio.server import serve

    async def handler(ws: Any) -> None:
        await ws.send('0{"sid":"e1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":100000}')
        assert str(await ws.recv()).startswith("40")
        await ws.send('40{"sid":"s1"}')
        if leave:
            await ws.close()
            return
        with contextlib.suppress(ConnectionClosed):
            await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


@LOOPS
@pytest.mark.parametrize("leave", [False, True], ids=["silent", "leaves"])
async def test_a_server_that_goes_silent_or_leaves(ours: bool, leave: bool) -> None:
    """The client hears of it within the ping interval plus timeout (and a little), with engine.io's
    reason, and its loops end."""
    client = wrap(socketio.AsyncClient(reconnection=False), websocket_loop=ours)
    reasons: asyncio.Queue[str] = asyncio.Queue()

    @client.on("disconnect")
    async def disconnected(reason: str) -> None:
        reasons.put_nowait(reason)

    async with fake_engineio_server(leave) as url:
        await client.sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        started = asyncio.get_running_loop().time()
        reason = await asyncio.wait_for(reasons.get(), TIMEOUT)
        waited = asyncio.get_running_loop().time() - started
        await client.sio.wait()  # the loops have ended
    assert reason == client.sio.reason.TRANSPORT_ERROR
    assert waited < 3
    assert client.sio.eio.state == "disconnected"


@LOOPS
async def test_an_event_sent_just_before_the_client_leaves_is_handled_first(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, ours: bool
) -> None:
    """An event and the end of the connection in one burst: the event's handler starts before
    the disconnect handler runs, as with engine.io's loop."""
    async with serving(live_server, monkeypatch, ours) as server:
        seen: list[str] = []

        async def note(sid: str, data: Any) -> None:
            seen.append(f"event {data}")

        async def gone(sid: str, reason: str) -> None:
            seen.append("disconnect")
            server.disconnects.put_nowait(reason)

        server.tsio.sio.on("note", note)
        server.tsio.sio.on("disconnect", gone)
        async with bare_client(server) as ws:
            await ws.send('42["note",1]')
            await ws.send('42["note",2]')
        assert await asyncio.wait_for(server.disconnects.get(), TIMEOUT) == "transport close"
    assert seen == ["event 1", "event 2", "disconnect"]


@LOOPS
async def test_the_client_reconnects_with_its_loops(ours: bool) -> None:
    """A server that drops the connection, again and again: the client's loops run for every
    connection python-socketio makes when it reconnects."""
    client = wrap(socketio.AsyncClient(reconnection_delay=1, randomization_factor=0), websocket_loop=ours)
    connects: asyncio.Queue[str] = asyncio.Queue()

    @client.on("connect")
    async def connected() -> None:
        connects.put_nowait("connect")

    async with fake_engineio_server(leave=True) as url:
        await client.sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        for _ in range(2):  # the first connection, and the one a second later
            await asyncio.wait_for(connects.get(), TIMEOUT)
        await client.sio.disconnect()
    assert ("_read_loop_websocket" in vars(client.sio.eio)) is ours


@LOOPS
async def test_another_driver_aiohttp(monkeypatch: pytest.MonkeyPatch, ours: bool) -> None:
    """The server's loop is handed to whatever websocket class the driver has: aiohttp's here."""
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode="aiohttp")
    tsio = wrap(sio, websocket_loop=ours)
    served = counted_loops(monkeypatch)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        client = wrap(socketio.AsyncClient(), websocket_loop=ours)
        url = f"http://127.0.0.1:{port}"
        await client.sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        reply = await client.call(Ping(message="over aiohttp"), response_model=Pong, timeout=TIMEOUT)
        await client.sio.disconnect()
    finally:
        await runner.cleanup()
    assert reply.reply == "over aiohttp"
    assert served.count("client") == (1 if ours else 0)
    assert len(served) == (2 if ours else 0)  # the server's loop, and the client's


@LOOPS
@pytest.mark.parametrize("frame", ["", "x", " 4"], ids=["empty", "letter", "space"])
async def test_a_frame_that_is_no_engineio_packet(
    live_server: LiveServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    ours: bool,
    frame: str,
) -> None:
    """One of the two places the loops differ by design: engine.io's handler lets the decoding error
    escape (the ASGI app fails, and the session lingers until its ping timeout); ours logs it
    once, closes the connection and reports the disconnect at once."""
    caplog.set_level(logging.WARNING, logger="engineio.server")
    async with serving(live_server, monkeypatch, ours, engineio_logger=True) as server:
        async with bare_client(server) as ws:
            await ws.send(frame)
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
        if ours:
            assert await asyncio.wait_for(server.disconnects.get(), TIMEOUT) == "transport close"
        else:
            await asyncio.sleep(0.5)
            assert server.disconnects.empty()
    undecodable = [r for r in caplog.records if "Undecodable packet received" in r.getMessage()]
    assert len(undecodable) == (1 if ours else 0)
