"""Custom outbound middleware: what it sees of ``emit``/``call``, and installed late."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import socketio

from tests.support.helpers import TIMEOUT, Inbox, OutboundSpy, asgi_app, connected, new_server, record_sids
from tests.support.models import Ping, Pong

if TYPE_CHECKING:
    from tests.conftest import LiveServer


async def test_outbound_middleware_sees_emit_and_call(live_server: LiveServer) -> None:
    seen: list[Any] = []
    tsio = new_server(middleware=[OutboundSpy(seen)])
    sids = record_sids(tsio)

    client = socketio.AsyncClient()
    inbox = Inbox()
    client.on("ping", inbox.put)

    async def ask(data: dict[str, Any]) -> dict[str, str]:
        return {"reply": data["message"] * 2}

    client.on("ask", ask)

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        await tsio.emit(Ping(message="hi"), to=sid, namespace="/")
        assert await inbox.get() == {"message": "hi"}
        reply = await tsio.call("ask", Ping(message="ab"), to=sid, response_model=Pong, timeout=TIMEOUT)
        assert reply == Pong(reply="abab")
    assert seen == [
        # the event name is resolved, the data is still the model, the kwargs are as given
        ("emit", "ping", Ping(message="hi"), {"to": sid, "namespace": "/"}, None),
        ("result", None),
        ("call", "ask", Ping(message="ab"), {"to": sid, "timeout": TIMEOUT}, Pong),
        # validation sits inside user middleware: the result is already the response model
        ("result", Pong(reply="abab")),
    ]


async def test_outbound_middleware_added_later_sees_emits(live_server: LiveServer) -> None:
    seen: list[Any] = []
    tsio = new_server()
    sids = record_sids(tsio)
    inbox = Inbox()

    client = socketio.AsyncClient()
    client.on("ping", inbox.put)
    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        await tsio.emit(Ping(message="before"), to=sid)
        assert await inbox.get() == {"message": "before"}
        tsio.add_middleware(OutboundSpy(seen))
        await tsio.emit(Ping(message="after"), to=sid)
        assert await inbox.get() == {"message": "after"}
    assert seen == [("emit", "ping", Ping(message="after"), {"to": sid}, None), ("result", None)]
