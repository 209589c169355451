"""A simple client makes its client when it connects; that client refuses forged reserved events
too: the simple client stays connected and ``receive()`` never sees them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import socketio
import structlog

from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT
from tests.transport.test_reserved_and_retained import (
    not_found,
    plain_async_server,
    refusals,
    sync_server_counting_connects,
)
from zndraw_socketio import wrap
from zndraw_socketio.transport.guards import CLIENT_RESERVED

if TYPE_CHECKING:
    from tests.conftest import LiveServer


async def test_an_async_simple_client_refuses_forged_reserved_events(live_server: LiveServer) -> None:
    server, joined = plain_async_server()
    simple = wrap(socketio.AsyncSimpleClient())
    async with live_server(socketio.ASGIApp(server)) as url:
        await simple.sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            sid = await asyncio.wait_for(joined.get(), TIMEOUT)
            with structlog.testing.capture_logs() as logs:
                for name in CLIENT_RESERVED:
                    reply = await server.call(name, {"forged": True}, to=sid, timeout=TIMEOUT)
                    assert reply == not_found(name)
                await server.emit("__disconnect_final", to=sid)  # no ack: refused all the same
                await server.emit("news", "real", to=sid)
                assert await simple.receive(str, timeout=TIMEOUT) == ("news", "real")
            expected = [(name, "ReservedEventName") for name in (*CLIENT_RESERVED, "__disconnect_final")]
            assert refusals(logs) == expected
            assert simple.sio.connected_event.is_set() and simple.sio.client.connected
            # a forged disconnect made the next emit wait forever, a forged __disconnect_final
            # made it raise DisconnectedError
            await asyncio.wait_for(simple.emit("still", "here"), TIMEOUT)
        finally:
            await simple.sio.disconnect()
        # connect() again makes a new client, guarded as well
        await simple.sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            sid = await asyncio.wait_for(joined.get(), TIMEOUT)
            assert await server.call("disconnect", to=sid, timeout=TIMEOUT) == not_found("disconnect")
            assert simple.sio.client.connected
        finally:
            await simple.sio.disconnect()


def test_a_sync_simple_client_refuses_forged_reserved_events() -> None:
    server, connects, joined = sync_server_counting_connects()
    simple = wrap(socketio.SimpleClient())
    with serve_wsgi(socketio.WSGIApp(server.sio)) as url:
        simple.sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            assert joined.wait(TIMEOUT)
            for name in CLIENT_RESERVED:
                assert server.sio.call(name, to=connects[0], timeout=TIMEOUT) == not_found(name)
            server.sio.emit("news", "real", to=connects[0])
            assert simple.receive(str, timeout=TIMEOUT) == ("news", "real")
            assert simple.sio.client is not None and simple.sio.client.connected
        finally:
            simple.sio.disconnect()
