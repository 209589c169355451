"""Serialisation end to end (lists, nested models, tuples as several arguments, reply validation)
and units of emit/call argument parsing and of encoding."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pytest
import socketio
from pydantic import BaseModel, ValidationError

from tests.support.helpers import (
    TIMEOUT,
    Inbox,
    asgi_app,
    connected,
    connected_wrapped,
    new_server,
    record_sids,
)
from tests.support.models import Ping, Pong
from zndraw_socketio import wrap
from zndraw_socketio.payloads.adapters import encode
from zndraw_socketio.stages.naming import parse_outbound

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class Inner(BaseModel):
    x: int


class Outer(BaseModel):
    name: str
    inner: Inner
    items: list[Inner]


async def test_lists_and_nested_models_outbound_and_as_replies(live_server: LiveServer) -> None:
    tsio = new_server()
    inbox = Inbox()

    @tsio.on("items")
    async def items(sid: str, data: list[Ping]) -> list[Pong]:
        inbox.put(data)
        return [Pong(reply=p.message) for p in data]

    @tsio.on(Outer)
    async def outer(sid: str, data: Outer) -> Outer:
        return Outer(name=data.name * 2, inner=Inner(x=data.inner.x + 1), items=[*data.items, Inner(x=0)])

    async with live_server(asgi_app(tsio)) as url, connected_wrapped(url) as client:
        reply = await client.call("items", [Ping(message="a"), Ping(message="b")], timeout=TIMEOUT)
        assert reply == [{"reply": "a"}, {"reply": "b"}]
        assert await inbox.get() == [Ping(message="a"), Ping(message="b")]
        typed = await client.call("items", [Ping(message="c")], response_model=list[Pong], timeout=TIMEOUT)
        assert typed == [Pong(reply="c")]

        sent = Outer(name="n", inner=Inner(x=1), items=[Inner(x=2)])
        raw = await client.call(sent, timeout=TIMEOUT)
        assert raw == {"name": "nn", "inner": {"x": 2}, "items": [{"x": 2}, {"x": 0}]}
        assert await client.call(sent, response_model=Outer, timeout=TIMEOUT) == Outer.model_validate(raw)


async def test_server_emits_list_of_models_to_client(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)
    inbox = Inbox()

    raw = socketio.AsyncClient()
    raw.on("batch", inbox.put)

    async with live_server(asgi_app(tsio)) as url, connected(url, raw):
        sid = await sids.get()
        await tsio.emit("batch", [Ping(message="a"), Outer(name="o", inner=Inner(x=1), items=[])], to=sid)
        assert await inbox.get() == [
            {"message": "a"},
            {"name": "o", "inner": {"x": 1}, "items": []},
        ]


async def test_tuple_return_is_several_ack_arguments(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on("pair")
    async def pair(sid: str, data: Ping) -> tuple[Pong, int]:
        return Pong(reply=data.message), 7

    async with live_server(asgi_app(tsio)) as url, connected(url) as raw, connected_wrapped(url) as typed:
        # python-socketio returns several ack arguments as a tuple
        assert await raw.call("pair", {"message": "m"}, timeout=TIMEOUT) == ({"reply": "m"}, 7)
        acked = Inbox()
        await raw.emit("pair", {"message": "n"}, callback=lambda *args: acked.put(args))
        assert await acked.get() == ({"reply": "n"}, 7)
        got = await typed.call("pair", Ping(message="o"), response_model=tuple[Pong, int], timeout=TIMEOUT)
        assert got == (Pong(reply="o"), 7)


async def test_reply_that_does_not_fit_the_response_model(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on("odd")
    async def odd(sid: str) -> dict[str, int]:
        return {"wrong": 1}

    @tsio.on("nothing")
    async def nothing(sid: str) -> None:
        return None

    async with live_server(asgi_app(tsio)) as url, connected_wrapped(url) as client:
        # not a problem detail: pydantic's own error, not ProblemDetailError
        with pytest.raises(ValidationError) as info:
            await client.call("odd", None, response_model=Pong, timeout=TIMEOUT)
        assert [e["type"] for e in info.value.errors()] == ["missing"]
        # a handler returning None acknowledges with no arguments
        assert await client.call("nothing", timeout=TIMEOUT) is None


async def test_handler_for_model_without_annotation_gets_the_model(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def ping(sid, data):
        return {"type": type(data).__name__, "message": data.message}

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {
            "type": "Ping",
            "message": "m",
        }
        assert (await client.call("ping", {"msg": "m"}, timeout=TIMEOUT))["status"] == 422


async def test_server_emits_tuple_as_several_arguments(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)
    inbox = Inbox()

    client = wrap(socketio.AsyncClient())

    @client.on("pair")
    async def pair(first: Ping, second: int) -> None:
        inbox.put((first, second))

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        await tsio.emit("pair", (Ping(message="a"), 2), to=await sids.get())
        assert await inbox.get() == (Ping(message="a"), 2)


# -- units: reading emit/call arguments, encoding -------------------------------------------------


class Events(StrEnum):
    PING = "ping"


def test_outbound_names_are_read_from_the_arguments() -> None:
    assert parse_outbound("emit", Ping(message="m"), None) == ("ping", Ping(message="m"))
    assert parse_outbound("call", "name", {"k": 1}) == ("name", {"k": 1})
    name, data = parse_outbound("emit", Events.PING, [1])
    assert (name, data) == ("ping", [1])
    assert type(name) is str


@pytest.mark.parametrize(
    ("event", "data", "message"),
    [
        (Ping(message="m"), {"x": 1}, "Cannot provide both"),
        (Ping, None, "needs a model instance"),
        (42, None, "expects an event name or a model instance"),
        (None, {"x": 1}, "expects an event name or a model instance"),
    ],
)
def test_outbound_arguments_are_refused(event: Any, data: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        parse_outbound("emit", event, data)


def test_encode() -> None:
    inner = Inner(x=1)
    assert encode(Outer(name="o", inner=inner, items=[inner])) == {
        "name": "o",
        "inner": {"x": 1},
        "items": [{"x": 1}],
    }
    assert encode([inner, {"k": inner}, (inner, 2)]) == [{"x": 1}, {"k": {"x": 1}}, ({"x": 1}, 2)]
    assert encode((inner, "s")) == ({"x": 1}, "s")  # a tuple stays a tuple: several arguments
    assert encode(b"\x00") == b"\x00"
    assert encode(None) is None
    assert encode(datetime(2020, 1, 2, 3, 4, 5)) == "2020-01-02T03:04:05"
