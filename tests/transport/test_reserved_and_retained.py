"""Forged reserved events never reach their handlers; refused or left namespaces keep no auth."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import socketio
import structlog
from pydantic import BaseModel
from socketio import packet

from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected, new_server
from zndraw_socketio import wrap
from zndraw_socketio.events.auth import AUTH_KEY
from zndraw_socketio.transport.guards import CLIENT_RESERVED

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class Auth(BaseModel):
    token: str


def not_found(event: str) -> dict[str, Any]:
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"{event!r} is a reserved event name: no handler takes it as an event",
        "instance": event,
    }


def refusals(logs: list[Any]) -> list[tuple[str, str]]:
    return [(e["sio_event"], e["error"]) for e in logs if e.get("error") == "ReservedEventName"]


# -- forged reserved events, server side ---------------------------------------------------------


async def test_a_forged_connect_or_disconnect_event_reaches_no_handler(live_server: LiveServer) -> None:
    tsio = new_server()
    connects: Inbox = Inbox()
    disconnects: Inbox = Inbox()

    @tsio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: Auth) -> None:
        connects.put((sid, environ.get("HTTP_X_FORGED")))

    @tsio.on("disconnect")
    async def disconnect(sid: str, reason: str) -> None:
        disconnects.put(sid)

    @tsio.on("echo")
    async def echo(sid: str, text: str) -> str:
        return text

    async with live_server(asgi_app(tsio)) as url, connected(url, auth={"token": "t"}) as client:
        sid, forged = await connects.get()
        assert forged is None
        with structlog.testing.capture_logs() as logs:
            forged_connect = await client.call(
                "connect", ({"HTTP_X_FORGED": "yes"}, {"token": "t"}), timeout=TIMEOUT
            )
            forged_disconnect = await client.call(
                "disconnect", "client namespace disconnect", timeout=TIMEOUT
            )
            await client.emit("disconnect")  # no ack id: logged, nothing sent back
            assert await client.call("echo", "still here", timeout=TIMEOUT) == "still here"
        assert forged_connect == not_found("connect")
        assert forged_disconnect == not_found("disconnect")
        assert refusals(logs) == [
            ("connect", "ReservedEventName"),
            ("disconnect", "ReservedEventName"),
            ("disconnect", "ReservedEventName"),
        ]
        assert connects.empty() and disconnects.empty()
        assert client.connected and tsio.sio.manager.is_connected(sid, "/")
    assert await disconnects.get() == sid  # the real disconnect still runs the handler


async def test_forged_events_in_a_catch_all_namespace(live_server: LiveServer) -> None:
    tsio = new_server(namespaces="*")
    seen: Inbox = Inbox()

    @tsio.on("connect", namespace="*")
    async def connect(namespace: str, sid: str, environ: dict[str, Any]) -> None:
        seen.put(("connect", namespace))

    @tsio.on("*", namespace="*")
    async def anything(event: str, namespace: str, sid: str, *args: Any) -> str:
        seen.put((event, namespace))
        return event

    async with live_server(asgi_app(tsio)) as url, connected(url, namespaces=["/abc"]) as client:
        assert await seen.get() == ("connect", "/abc")
        assert await client.call("connect", {}, namespace="/abc", timeout=TIMEOUT) == not_found("connect")
        assert await client.call("other", namespace="/abc", timeout=TIMEOUT) == "other"
        assert await seen.get() == ("other", "/abc")
        assert seen.empty()


async def test_forged_events_in_a_class_namespace(live_server: LiveServer) -> None:
    tsio = new_server()
    seen: Inbox = Inbox()

    class Room(socketio.AsyncNamespace):
        async def on_connect(self, sid: str, environ: dict[str, Any]) -> None:
            seen.put("connect")

        async def on_disconnect(self, sid: str, reason: str) -> None:
            seen.put("disconnect")

    tsio.register_namespace(Room("/room"))
    async with live_server(asgi_app(tsio)) as url, connected(url, namespaces=["/room"]) as client:
        assert await seen.get() == "connect"
        for name in ("connect", "disconnect"):
            assert await client.call(name, "x", namespace="/room", timeout=TIMEOUT) == not_found(name)
        assert seen.empty()
    assert await seen.get() == "disconnect"


# -- forged reserved events, client side ---------------------------------------------------------


def plain_async_server() -> tuple[socketio.AsyncServer, asyncio.Queue[str]]:
    """A plain server, free to send anything, and the sids of its connects."""
    server = socketio.AsyncServer(async_mode="asgi")
    joined: asyncio.Queue[str] = asyncio.Queue()

    async def on_connect(sid: str, environ: dict[str, Any]) -> None:
        joined.put_nowait(sid)

    server.on("connect", on_connect)
    return server, joined


async def test_a_client_refuses_events_named_like_its_reserved_events(live_server: LiveServer) -> None:
    server, joined = plain_async_server()
    client = wrap(socketio.AsyncClient())
    seen: Inbox = Inbox()

    @client.on("connect")
    async def connected_once() -> None:
        seen.put("connect")

    @client.on("disconnect")
    async def gone(reason: str) -> None:
        seen.put("disconnect")

    @client.on("connect_error")
    async def refused(data: Any) -> None:
        seen.put("connect_error")

    async with live_server(socketio.ASGIApp(server)) as url:
        await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            sid = await asyncio.wait_for(joined.get(), TIMEOUT)
            assert await seen.get() == "connect"
            with structlog.testing.capture_logs() as logs:
                for name in CLIENT_RESERVED:
                    assert await server.call(name, {"forged": True}, to=sid, timeout=TIMEOUT) == not_found(
                        name
                    )
                await server.emit("disconnect", "io server disconnect", to=sid)
                await asyncio.sleep(0.2)
            assert refusals(logs) == [
                ("connect", "ReservedEventName"),
                ("disconnect", "ReservedEventName"),
                ("connect_error", "ReservedEventName"),
                ("__disconnect_final", "ReservedEventName"),
                ("disconnect", "ReservedEventName"),
            ]
            assert seen.empty() and client.sio.connected
        finally:
            await client.disconnect()
    assert await seen.get() == "disconnect"


def sync_server_counting_connects() -> tuple[Any, list[str], threading.Event]:
    """A wrapped threading server, the sids of its connects, and an event set on the first."""
    server = wrap(socketio.Server(async_mode="threading"))
    connects: list[str] = []
    joined = threading.Event()

    @server.on("connect")
    def connect(sid: str, environ: dict[str, Any]) -> None:
        connects.append(sid)
        joined.set()

    return server, connects, joined


def test_the_sync_faces_refuse_forged_reserved_events() -> None:
    server, connects, joined = sync_server_counting_connects()
    client = wrap(socketio.Client())
    client_connects: list[str] = []

    @client.on("connect")
    def client_connect() -> None:
        client_connects.append("connect")

    with serve_wsgi(socketio.WSGIApp(server.sio)) as url:
        client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            assert joined.wait(TIMEOUT)
            assert client.sio.call("connect", {}, timeout=TIMEOUT) == not_found("connect")
            assert server.sio.call("connect", to=connects[0], timeout=TIMEOUT) == not_found("connect")
            assert len(connects) == 1 and client_connects == ["connect"]
        finally:
            client.disconnect()


# -- auth kept only while a namespace is joined ----------------------------------------------------


def kept_auth(tsio: Any) -> dict[str, Any]:
    [environ] = tsio.sio.environ.values()
    return environ.get(AUTH_KEY, {})


async def test_refused_connects_keep_no_auth(live_server: LiveServer) -> None:
    tsio = new_server(namespaces="*")

    @tsio.on("connect", namespace="*")
    async def connect(namespace: str, sid: str, environ: dict[str, Any], auth: Auth) -> bool:
        return namespace == "/ok"

    big = "x" * 100_000
    async with (
        live_server(asgi_app(tsio)) as url,
        connected(url, namespaces=["/ok"], auth={"token": "t"}) as client,
    ):
        assert kept_auth(tsio) == {"/ok": {"token": "t"}}
        refused: asyncio.Queue[Any] = asyncio.Queue()
        for i in range(200):
            ns = f"/refused{i}"
            client.on("connect_error", refused.put_nowait, namespace=ns)
            await client._send_packet(client.packet_class(packet.CONNECT, data={"token": big}, namespace=ns))
        for _ in range(200):
            await asyncio.wait_for(refused.get(), TIMEOUT)
        # a connect whose auth fails validation is refused too, and keeps nothing
        client.on("connect_error", refused.put_nowait, namespace="/bad")
        await client._send_packet(client.packet_class(packet.CONNECT, data={"nope": big}, namespace="/bad"))
        await asyncio.wait_for(refused.get(), TIMEOUT)
        assert kept_auth(tsio) == {"/ok": {"token": "t"}}


async def test_a_left_namespace_keeps_no_auth(live_server: LiveServer) -> None:
    tsio = new_server(namespaces="*")
    sids: Inbox = Inbox()

    @tsio.on("connect", namespace="*")
    async def connect(namespace: str, sid: str, environ: dict[str, Any], auth: Auth) -> None:
        sids.put((namespace, sid))

    async with (
        live_server(asgi_app(tsio)) as url,
        connected(url, namespaces=["/a", "/b"], auth={"token": "t"}) as client,
    ):
        joined = dict([await sids.get(), await sids.get()])
        assert set(kept_auth(tsio)) == {"/a", "/b"}
        await tsio.disconnect(joined["/a"], namespace="/a")  # the server makes it leave /a
        for _ in range(100):
            if "/a" not in client.namespaces:
                break
            await asyncio.sleep(0.02)
        assert kept_auth(tsio) == {"/b": {"token": "t"}}
        assert client.connected


def test_wrapping_twice_installs_each_guard_once() -> None:
    sio = socketio.AsyncServer(async_mode="asgi")
    first = wrap(sio)
    guard = sio._handle_event
    disconnect = sio.manager.basic_disconnect
    second = wrap(sio)
    assert sio._handle_event is guard and sio.manager.basic_disconnect is disconnect
    assert first.sio is second.sio
