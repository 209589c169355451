"""``capture_events()``: every inbound and outbound event that passes a wrapper while it is open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import socketio

from tests.support.helpers import TIMEOUT, Inbox, Passthrough, asgi_app, connected, new_server, record_sids
from tests.support.inprocess import SyncServerPeer, event_packet
from tests.support.models import Ping, Pong
from zndraw_socketio import wrap
from zndraw_socketio.chain.capture import capturing
from zndraw_socketio.testing import CapturedEvent, capture_events

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def _server(**kwargs: Any):
    tsio = new_server(**kwargs)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    return tsio


def _brief(events: list[CapturedEvent]) -> list[tuple[Any, ...]]:
    return [(e.direction, e.event, e.namespace, e.data, e.reply) for e in events]


async def test_a_call_is_recorded_on_both_sides_with_its_reply(live_server: LiveServer) -> None:
    tsio = _server()
    sids = record_sids(tsio)
    client = wrap(socketio.AsyncClient())
    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        with capture_events() as events:
            assert capturing()
            reply = await client.call(Ping(message="hi"), response_model=Pong, timeout=TIMEOUT)
        assert not capturing()
        assert reply == Pong(reply="hi")
        assert _brief(events) == [
            ("out", "ping", "/", {"message": "hi"}, {"reply": "hi"}),  # the client's call
            ("in", "ping", "/", {"message": "hi"}, {"reply": "hi"}),  # the server's handler
        ]
        assert events[0].sid is None and events[1].sid == sid


async def test_a_rejected_payload_is_recorded_with_the_problem_reply(live_server: LiveServer) -> None:
    tsio = _server()
    async with live_server(asgi_app(tsio)) as url, connected(url) as raw:
        with capture_events() as events:
            answer = await raw.call("ping", {"message": 5}, timeout=TIMEOUT)
        assert answer["status"] == 422
        assert [(e.direction, e.data) for e in events] == [("in", {"message": 5})]
        assert events[0].reply == answer


async def test_server_emits_and_client_handlers_are_recorded(live_server: LiveServer) -> None:
    tsio = _server()
    sids = record_sids(tsio)
    inbox = Inbox()
    client = wrap(socketio.AsyncClient())

    @client.on(Pong)
    async def pong(data: Pong) -> None:
        inbox.put(data)

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        with capture_events() as events:
            await tsio.emit(Pong(reply="to you"), to=sid)
            assert await inbox.get() == Pong(reply="to you")
        assert [(e.direction, e.event, e.sid, e.data, e.reply) for e in events] == [
            ("out", "pong", sid, {"reply": "to you"}, None),
            ("in", "pong", None, {"reply": "to you"}, None),
        ]


async def test_nothing_is_recorded_outside_the_block_and_the_fast_entry_comes_back(
    live_server: LiveServer,
) -> None:
    tsio = _server()
    entry = tsio.sio.handlers["/"]["ping"]
    client = wrap(socketio.AsyncClient())
    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        with capture_events() as events:
            assert tsio.sio.handlers["/"]["ping"] is not entry  # composed again, with a recorder
            await client.call(Ping(message="in"), timeout=TIMEOUT)
        await client.call(Ping(message="after"), timeout=TIMEOUT)
        assert [e.data for e in events] == [{"message": "in"}, {"message": "in"}]
        # closed: the chain is composed again without the recorder (the same compiled variant)
        assert tsio.sio.handlers["/"]["ping"].__qualname__ == entry.__qualname__


async def test_nested_captures_each_see_what_passed_while_they_were_open(live_server: LiveServer) -> None:
    tsio = _server()
    async with live_server(asgi_app(tsio)) as url, connected(url) as raw:
        with capture_events() as outer:
            await raw.call("ping", {"message": "one"}, timeout=TIMEOUT)
            with capture_events() as inner:
                await raw.call("ping", {"message": "two"}, timeout=TIMEOUT)
            assert capturing()
            await raw.call("ping", {"message": "three"}, timeout=TIMEOUT)
        assert [e.data["message"] for e in outer] == ["one", "two", "three"]
        assert [e.data["message"] for e in inner] == ["two"]


async def test_user_middleware_connect_and_an_open_capture_at_registration(live_server: LiveServer) -> None:
    with capture_events() as events:
        tsio = _server(middleware=[Passthrough()])  # registered while a capture is open

        @tsio.event
        async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
            pass

        async with live_server(asgi_app(tsio)) as url, connected(url, auth={"token": "t"}) as raw:
            assert await raw.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
    assert [(e.direction, e.event, e.data) for e in events] == [
        ("in", "connect", {"token": "t"}),
        ("in", "ping", {"message": "m"}),
    ]


async def test_a_simple_clients_receive_is_recorded(live_server: LiveServer) -> None:
    tsio = _server()
    sids = record_sids(tsio)
    async with live_server(asgi_app(tsio)) as url:
        simple = wrap(socketio.AsyncSimpleClient())
        await simple.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            sid = await sids.get()
            with capture_events() as events:
                await tsio.emit(Pong(reply="r"), to=sid)
                assert await simple.receive(response_model=Pong, timeout=TIMEOUT) == ("pong", Pong(reply="r"))
        finally:
            await simple.disconnect()
    assert [(e.direction, e.event, e.data) for e in events] == [
        ("out", "pong", {"reply": "r"}),
        ("in", "pong", {"reply": "r"}),
    ]


async def test_a_sync_server_records_in_and_out() -> None:
    peer = SyncServerPeer()
    tsio = wrap(peer.sio)

    @tsio.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        tsio.emit(Pong(reply="pushed"), to=sid)
        return Pong(reply=data.message)

    await peer.connect()
    with capture_events() as events:
        await peer.feed(event_packet("ping", {"message": "x"}))
    assert _brief(events) == [
        ("in", "ping", "/", {"message": "x"}, {"reply": "x"}),
        ("out", "pong", "/", {"reply": "pushed"}, None),
    ]
    assert peer.sent[-2:] == ['2["pong",{"reply":"pushed"}]', '31[{"reply":"x"}]']
