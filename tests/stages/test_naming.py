"""Event names: get_event_name, and every way of registering a handler under the right name."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import pytest
import socketio
from pydantic import BaseModel

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
from zndraw_socketio.events import names
from zndraw_socketio.events.names import get_event_name, snake_case

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class CustomEvent(BaseModel):
    value: int = 0


class HTTPRequest(BaseModel):
    url: str = "/"


class XMLHttpRequest(BaseModel):
    pass


class Renamed(BaseModel):
    event_name: ClassVar[str] = "my_custom_event"
    value: int = 0


class FieldNamedEventName(BaseModel):
    """A regular field called ``event_name`` is payload, not the event name."""

    event_name: str = "not-the-name"


# -- get_event_name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (Ping, "ping"),
        (CustomEvent, "custom_event"),
        (HTTPRequest, "http_request"),
        (XMLHttpRequest, "xml_http_request"),
        (Renamed, "my_custom_event"),
        (FieldNamedEventName, "field_named_event_name"),
    ],
)
def test_event_name_of_class(model: type[BaseModel], expected: str) -> None:
    assert get_event_name(model) == expected


def test_event_name_of_instance_is_its_class_name() -> None:
    assert get_event_name(Ping(message="x")) == "ping"
    assert get_event_name(HTTPRequest()) == "http_request"
    assert get_event_name(Renamed(value=3)) == "my_custom_event"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ping", "ping"),
        ("CustomEvent", "custom_event"),
        ("HTTPRequest", "http_request"),
        ("GetHTTPResponse", "get_http_response"),
        ("IORequest", "io_request"),
        ("ABC", "abc"),
        ("already_snake", "already_snake"),
        ("V2Event", "v2_event"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_event_name_is_computed_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(name: str) -> str:
        calls.append(name)
        return snake_case(name)

    monkeypatch.setattr(names, "snake_case", counting)

    class FreshlyDefinedModel(BaseModel):
        pass

    assert get_event_name(FreshlyDefinedModel) == "freshly_defined_model"
    assert get_event_name(FreshlyDefinedModel) == "freshly_defined_model"
    assert get_event_name(FreshlyDefinedModel()) == "freshly_defined_model"
    assert calls == ["FreshlyDefinedModel"]


# -- registration --------------------------------------------------------------------------------


async def _echo(sid: str, data: Ping) -> Pong:
    return Pong(reply=data.message)


def test_on_model_registers_snake_case_name() -> None:
    tsio = new_server()

    @tsio.on(CustomEvent)
    async def whatever(sid: str, data: CustomEvent) -> None:
        return None

    assert whatever.__name__ == "whatever"  # the decorator returns the function itself
    assert set(tsio.sio.handlers["/"]) == {"custom_event"}
    # python-socketio stores the compiled chain, not the user's function
    assert tsio.sio.handlers["/"]["custom_event"] is not whatever
    assert [(r.namespace, r.event, r.handler) for r in tsio.routes] == [("/", "custom_event", whatever)]


def test_on_model_with_event_name_override() -> None:
    tsio = new_server()
    tsio.on(Renamed, _echo)
    assert set(tsio.sio.handlers["/"]) == {"my_custom_event"}


def test_on_string_decorator_and_direct_call() -> None:
    tsio = new_server()

    @tsio.on("my-ping")
    async def decorated(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    returned = tsio.on("direct", _echo)
    assert returned is _echo
    assert decorated.__name__ == "decorated"
    assert set(tsio.sio.handlers["/"]) == {"my-ping", "direct"}


def test_event_decorator_uses_function_name() -> None:
    tsio = new_server()

    @tsio.event
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.event(namespace="/chat")
    async def chat_message(sid: str, data: Ping) -> None:
        return None

    assert ping.__name__ == "ping"
    assert set(tsio.sio.handlers["/"]) == {"ping"}
    assert set(tsio.sio.handlers["/chat"]) == {"chat_message"}


def test_namespace_on_every_form() -> None:
    tsio = new_server()
    tsio.on(Ping, _echo, namespace="/a")
    tsio.on("named", _echo, namespace="/b")
    tsio.event(namespace="/c")(_echo)
    assert {ns: set(events) for ns, events in tsio.sio.handlers.items()} == {
        "/a": {"ping"},
        "/b": {"named"},
        "/c": {"_echo"},
    }


def test_client_registration_names() -> None:
    client = wrap(socketio.AsyncClient())
    client.on(HTTPRequest, lambda data: None)

    @client.event
    async def server_push(data: Ping) -> None:
        return None

    assert set(client.sio.handlers["/"]) == {"http_request", "server_push"}


# -- end to end ----------------------------------------------------------------------------------


async def test_every_registration_form_answers(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def handle_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"model:{data.message}")

    @tsio.on("my-ping")
    async def handle_my_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"string:{data.message}")

    async def handle_direct(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"direct:{data.message}")

    tsio.on("direct", handle_direct)

    @tsio.event
    async def shout(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"event:{data.message.upper()}")

    @tsio.event(namespace="/chat")
    async def chat(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"chat:{data.message}")

    @tsio.on(Renamed)
    async def renamed(sid: str, data: Renamed) -> dict[str, int]:
        return {"value": data.value * 2}

    async with live_server(asgi_app(tsio)) as url, connected(url, namespaces=["/", "/chat"]) as client:
        payload = {"message": "hi"}
        assert await client.call("ping", payload, timeout=TIMEOUT) == {"reply": "model:hi"}
        assert await client.call("my-ping", payload, timeout=TIMEOUT) == {"reply": "string:hi"}
        assert await client.call("direct", payload, timeout=TIMEOUT) == {"reply": "direct:hi"}
        assert await client.call("shout", payload, timeout=TIMEOUT) == {"reply": "event:HI"}
        assert await client.call("chat", payload, namespace="/chat", timeout=TIMEOUT) == {"reply": "chat:hi"}
        assert await client.call("my_custom_event", {"value": 21}, timeout=TIMEOUT) == {"value": 42}


async def test_model_instance_emit_reaches_handler_by_its_name(live_server: LiveServer) -> None:
    tsio = new_server()
    inbox = Inbox()

    @tsio.on(HTTPRequest)
    async def handle(sid: str, data: HTTPRequest) -> None:
        inbox.put(data)

    @tsio.on(Renamed)
    async def handle_renamed(sid: str, data: Renamed) -> None:
        inbox.put(data)

    async with live_server(asgi_app(tsio)) as url, connected_wrapped(url) as client:
        await client.emit(HTTPRequest(url="/x"))
        assert await inbox.get() == HTTPRequest(url="/x")
        await client.emit(Renamed(value=7))
        assert await inbox.get() == Renamed(value=7)


async def test_client_handler_registered_by_model_answers_server_call(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)

    client = wrap(socketio.AsyncClient())

    @client.on(Ping)
    async def on_ping(data: Ping) -> Pong:
        return Pong(reply=data.message[::-1])

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        reply = await tsio.call(Ping(message="abc"), to=sid, response_model=Pong, timeout=TIMEOUT)
        assert reply == Pong(reply="cba")


def test_registering_an_event_again_replaces_the_handler() -> None:
    tsio = new_server()

    async def first(sid: str, data: Ping) -> None:
        return None

    async def second(sid: str, data: Ping) -> None:
        return None

    tsio.on(Ping, first)
    tsio.on("ping", second)
    assert [r.handler for r in tsio.routes] == [second]
    assert set(tsio.sio.handlers["/"]) == {"ping"}
