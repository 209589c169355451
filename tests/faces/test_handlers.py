"""Handlers end to end: payload types, several arguments, catch-alls, namespaces, sync functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import socketio
from pydantic import BaseModel

from tests.support.helpers import (
    STACKS,
    TIMEOUT,
    Inbox,
    asgi_app,
    connected,
    connected_wrapped,
    new_server,
    record_sids,
    stack,
)
from tests.support.models import Ping, Pong
from zndraw_socketio import wrap

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class A(BaseModel):
    a: int


class B(BaseModel):
    b: str


@pytest.mark.parametrize("shape", STACKS)
async def test_payload_types(live_server: LiveServer, shape: str) -> None:
    tsio = new_server(stack(shape))

    @tsio.on("text")
    async def text(sid: str, data: str) -> dict[str, str]:
        return {"type": type(data).__name__, "value": data}

    @tsio.on("number")
    async def number(sid: str, data: int) -> dict[str, Any]:
        return {"type": type(data).__name__, "value": data}

    @tsio.on("mapping")
    async def mapping(sid: str, data: dict) -> dict[str, Any]:
        return {"type": type(data).__name__, "keys": sorted(data)}

    @tsio.on("either")
    async def either(sid: str, data: A | B) -> dict[str, str]:
        return {"type": type(data).__name__, "dump": data.model_dump_json()}

    @tsio.on("many")
    async def many(sid: str, data: list[Ping]) -> list[str]:
        assert all(isinstance(p, Ping) for p in data)
        return [p.message for p in data]

    @tsio.on("blob")
    async def blob(sid: str, data: bytes) -> bytes:
        return data[::-1]

    @tsio.on("when")
    async def when(sid: str, data: datetime) -> dict[str, Any]:
        return {"next_day": data + timedelta(days=1), "tags": {"a"}}

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("text", "hello", timeout=TIMEOUT) == {"type": "str", "value": "hello"}
        assert await client.call("number", 41, timeout=TIMEOUT) == {"type": "int", "value": 41}
        # pydantic's lax mode: a numeric string becomes an int
        assert await client.call("number", "42", timeout=TIMEOUT) == {"type": "int", "value": 42}
        assert await client.call("mapping", {"z": 1, "a": 2}, timeout=TIMEOUT) == {
            "type": "dict",
            "keys": ["a", "z"],
        }
        assert await client.call("either", {"a": 1}, timeout=TIMEOUT) == {"type": "A", "dump": '{"a":1}'}
        assert await client.call("either", {"b": "x"}, timeout=TIMEOUT) == {"type": "B", "dump": '{"b":"x"}'}
        many_reply = await client.call("many", [{"message": "1"}, {"message": "2"}], timeout=TIMEOUT)
        assert many_reply == ["1", "2"]
        # bytes travel as binary attachments both ways
        assert await client.call("blob", b"\x00\x01\xff", timeout=TIMEOUT) == b"\xff\x01\x00"
        # replies are made JSON-able the way pydantic does it
        assert await client.call("when", "2020-01-31T12:00:00", timeout=TIMEOUT) == {
            "next_day": "2020-02-01T12:00:00",
            "tags": ["a"],
        }


@pytest.mark.parametrize("shape", STACKS)
async def test_several_positional_payload_arguments(live_server: LiveServer, shape: str) -> None:
    tsio = new_server(stack(shape))

    @tsio.on("multi")
    async def multi(sid: str, count: int, ping: Ping, label: str = "default") -> dict[str, Any]:
        return {"count": count, "ping": ping.message, "label": label}

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        # python-socketio sends a tuple as several arguments
        got = await client.call("multi", (3, {"message": "m"}, "lbl"), timeout=TIMEOUT)
        assert got == {"count": 3, "ping": "m", "label": "lbl"}
        got = await client.call("multi", ("4", {"message": "n"}), timeout=TIMEOUT)
        assert got == {"count": 4, "ping": "n", "label": "default"}
        bad = await client.call("multi", (1, {"message": 2}), timeout=TIMEOUT)
        assert bad["status"] == 422
        assert [(e["type"], e["loc"]) for e in bad["errors"]] == [("string_type", ["ping", "message"])]


@pytest.mark.parametrize("shape", STACKS)
async def test_no_payload_handler(live_server: LiveServer, shape: str) -> None:
    tsio = new_server(stack(shape))

    @tsio.on("now")
    async def now(sid: str) -> str:
        return "tick"

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("now", timeout=TIMEOUT) == "tick"


async def test_catch_all_event(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on("known")
    async def known(sid: str, data: Ping) -> str:
        return "known"

    @tsio.on("*")
    async def anything(event: str, sid: str, data: Ping) -> dict[str, str]:
        return {"event": event, "message": data.message, "sid_ok": str(bool(sid))}

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("known", {"message": "k"}, timeout=TIMEOUT) == "known"
        assert await client.call("whatever", {"message": "w"}, timeout=TIMEOUT) == {
            "event": "whatever",
            "message": "w",
            "sid_ok": "True",
        }
        problem = await client.call("other", {"nope": 1}, timeout=TIMEOUT)
        assert (problem["status"], problem["instance"]) == (422, "other")


async def test_catch_all_namespace(live_server: LiveServer) -> None:
    # python-socketio accepts unknown namespaces only with namespaces="*"
    tsio = new_server(namespaces="*")

    @tsio.on(Ping, namespace="*")
    async def ping_anywhere(namespace: str, sid: str, data: Ping) -> dict[str, str]:
        return {"namespace": namespace, "reply": data.message}

    @tsio.on("*", namespace="*")
    async def anything_anywhere(event: str, namespace: str, sid: str, data: Any) -> list[Any]:
        return [event, namespace, data]

    async with live_server(asgi_app(tsio)) as url, connected(url, namespaces=["/room-1", "/x"]) as client:
        assert await client.call("ping", {"message": "hi"}, namespace="/room-1", timeout=TIMEOUT) == {
            "namespace": "/room-1",
            "reply": "hi",
        }
        assert await client.call("foo", [1, 2], namespace="/x", timeout=TIMEOUT) == ["foo", "/x", [1, 2]]


async def test_client_catch_all(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)
    inbox = Inbox()

    client = wrap(socketio.AsyncClient())

    @client.on("*")
    async def anything(event: str, data: Ping) -> str:
        inbox.put((event, data))
        return f"client:{event}"

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        await tsio.emit("surprise", Ping(message="s"), to=sid)
        assert await inbox.get() == ("surprise", Ping(message="s"))
        assert await tsio.call("asked", {"message": "q"}, to=sid, timeout=TIMEOUT) == "client:asked"


async def test_same_event_in_two_namespaces(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def root(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"root:{data.message}")

    @tsio.on(Ping, namespace="/admin")
    async def admin(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"admin:{data.message}")

    async with (
        live_server(asgi_app(tsio)) as url,
        connected_wrapped(url, namespaces=["/", "/admin"]) as client,
    ):
        assert await client.call(Ping(message="a"), response_model=Pong, timeout=TIMEOUT) == Pong(
            reply="root:a"
        )
        got = await client.call(Ping(message="b"), namespace="/admin", response_model=Pong, timeout=TIMEOUT)
        assert got == Pong(reply="admin:b")


@pytest.mark.parametrize("shape", STACKS)
async def test_sync_handlers_on_async_faces(live_server: LiveServer, shape: str) -> None:
    tsio = new_server(stack(shape))
    sids = Inbox()

    @tsio.on(Ping)
    def handle_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"sync:{data.message}")

    @tsio.event
    def connect(sid: str, environ: dict[str, Any]) -> None:
        sids.put(sid)

    @tsio.on("fail")
    def fail(sid: str, data: Ping) -> Pong:
        raise ValueError("sync secret")

    client = wrap(socketio.AsyncClient(), middleware=stack(shape))

    @client.on(Ping)
    def client_ping(data: Ping) -> Pong:
        return Pong(reply=f"client-sync:{data.message}")

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        assert await client.call(Ping(message="x"), response_model=Pong, timeout=TIMEOUT) == Pong(
            reply="sync:x"
        )
        problem = await client.call("fail", {"message": "x"}, timeout=TIMEOUT)
        assert (problem["status"], problem["detail"]) == (500, None)
        got = await tsio.call(Ping(message="y"), to=sid, response_model=Pong, timeout=TIMEOUT)
        assert got == Pong(reply="client-sync:y")
