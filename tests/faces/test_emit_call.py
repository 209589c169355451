"""The README's Emit / Call / union return types, end to end, in both directions."""

from __future__ import annotations

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
from tests.support.models import Ping, Pong, ProblemDetail, Response, ServerRequest
from zndraw_socketio import AsyncServerWrapper, ProblemDetailError, wrap
from zndraw_socketio import ProblemDetail as PackageProblemDetail

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def typed_server(shape: str = "default") -> AsyncServerWrapper:
    """A server with the README's handlers."""
    tsio = new_server(stack(shape))

    @tsio.on(Ping)
    async def handle_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("my-ping")
    async def handle_my_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"my:{data.message}")

    @tsio.on("event")
    async def handle_event(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"got": data}

    @tsio.on(ServerRequest)
    async def handle_request(sid: str, data: ServerRequest) -> Response:
        if data.query == "boom":
            raise RuntimeError("secret internals")
        return Response(data=data.query.upper())

    return tsio


# -- client -> server ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", STACKS)
async def test_client_call_forms(live_server: LiveServer, shape: str) -> None:
    client = wrap(socketio.AsyncClient(), middleware=stack(shape))
    async with live_server(asgi_app(typed_server(shape))) as url, connected(url, client):
        response = await client.call(Ping(message="Hello, World!"), response_model=Pong, timeout=TIMEOUT)
        assert isinstance(response, Pong)
        assert response == Pong(reply="Hello, World!")

        response = await client.call(
            "my-ping", Ping(message="Hello, World!"), response_model=Pong, timeout=TIMEOUT
        )
        assert response == Pong(reply="my:Hello, World!")

        raw = await client.call("event", {"payload": [1, 2]}, timeout=TIMEOUT)
        assert raw == {"got": {"payload": [1, 2]}}

        # no response_model: the reply is python-socketio's, a dict
        assert await client.call(Ping(message="a"), timeout=TIMEOUT) == {"reply": "a"}


async def test_client_emit_forms(live_server: LiveServer) -> None:
    tsio = new_server()
    inbox = Inbox()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> None:
        inbox.put(("ping", data))

    @tsio.on("my-ping")
    async def my_ping(sid: str, data: Ping) -> None:
        inbox.put(("my-ping", data))

    @tsio.on("event")
    async def event(sid: str, data: Any) -> None:
        inbox.put(("event", data))

    async with live_server(asgi_app(tsio)) as url, connected_wrapped(url) as client:
        await client.emit(Ping(message="Hello, World!"))
        assert await inbox.get() == ("ping", Ping(message="Hello, World!"))
        await client.emit("my-ping", Ping(message="two"))
        assert await inbox.get() == ("my-ping", Ping(message="two"))
        await client.emit("event", {"payload": {"nested": [1, None]}})
        assert await inbox.get() == ("event", {"payload": {"nested": [1, None]}})


@pytest.mark.parametrize("method", ["emit", "call"])
async def test_model_and_data_together_is_a_type_error(method: str) -> None:
    tsio = new_server()
    client = wrap(socketio.AsyncClient())
    for face in (tsio, client):
        with pytest.raises(TypeError, match="Cannot provide both"):
            await getattr(face, method)(Ping(message="x"), {"message": "y"})


async def test_model_class_instead_of_instance_is_a_type_error() -> None:
    client = wrap(socketio.AsyncClient())
    with pytest.raises(TypeError, match="Ping"):
        await client.emit(Ping)  # type: ignore[arg-type]


# -- server -> client ----------------------------------------------------------------------------


async def test_server_call_to_raw_and_wrapped_clients(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)

    raw = socketio.AsyncClient()

    async def raw_ping(data: dict[str, Any]) -> dict[str, Any]:
        return {"reply": f"raw:{data['message']}"}

    raw.on("ping", raw_ping)

    typed = wrap(socketio.AsyncClient())

    @typed.on(Ping)
    async def typed_ping(data: Ping) -> Pong:
        return Pong(reply=f"typed:{data.message}")

    async with live_server(asgi_app(tsio)) as url, connected(url, raw):
        raw_sid = await sids.get()
        async with connected(url, typed):
            typed_sid = await sids.get()
            got = await tsio.call(Ping(message="a"), to=raw_sid, response_model=Pong, timeout=TIMEOUT)
            assert got == Pong(reply="raw:a")
            got = await tsio.call(
                "ping", Ping(message="b"), to=typed_sid, response_model=Pong, timeout=TIMEOUT
            )
            assert got == Pong(reply="typed:b")
            assert await tsio.call("ping", {"message": "c"}, to=typed_sid, timeout=TIMEOUT) == {
                "reply": "typed:c"
            }


async def test_server_call_gets_problem_from_failing_client_handler(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)

    typed = wrap(socketio.AsyncClient())

    @typed.on(Ping)
    async def typed_ping(data: Ping) -> Pong:
        raise RuntimeError("client secret")

    async with live_server(asgi_app(tsio)) as url, connected(url, typed):
        sid = await sids.get()
        with pytest.raises(ProblemDetailError) as info:
            await tsio.call(Ping(message="a"), to=sid, response_model=Pong, timeout=TIMEOUT)
        assert info.value.problem.status == 500
        assert "client secret" not in str(info.value.problem.model_dump())
        with pytest.raises(ProblemDetailError) as info:
            await tsio.call("ping", {"message": 1}, to=sid, response_model=Pong, timeout=TIMEOUT)
        assert info.value.problem.status == 422


async def test_server_emit_kwargs_route_as_socketio_does(live_server: LiveServer) -> None:
    tsio = new_server(namespaces=["/", "/ns"])
    sids = record_sids(tsio)

    @tsio.on("join")
    async def join(sid: str, room: str) -> str:
        await tsio.enter_room(sid, room)
        return room

    inboxes = {name: Inbox() for name in ("a", "b", "c")}
    clients: dict[str, Any] = {}
    for name, inbox in inboxes.items():
        client = wrap(socketio.AsyncClient())
        client.on(Ping, lambda data, inbox=inbox: inbox.put(("/", data)))
        client.on(Ping, lambda data, inbox=inbox: inbox.put(("/ns", data)), namespace="/ns")
        clients[name] = client

    async with (
        live_server(asgi_app(tsio)) as url,
        connected(url, clients["a"], namespaces=["/", "/ns"]),
        # without namespaces=, a client connects to every namespace it has handlers for
        connected(url, clients["b"], namespaces=["/"]),
        connected(url, clients["c"], namespaces=["/"]),
    ):
        sid_a = await sids.get()
        sid_b = await sids.get()
        await sids.get()  # c
        assert await clients["a"].call("join", "room1", timeout=TIMEOUT) == "room1"
        assert await clients["b"].call("join", "room1", timeout=TIMEOUT) == "room1"

        await tsio.emit(Ping(message="to"), to=sid_b)
        assert await inboxes["b"].get() == ("/", Ping(message="to"))

        await tsio.emit(Ping(message="room"), room="room1", skip_sid=sid_a)
        assert await inboxes["b"].get() == ("/", Ping(message="room"))

        await tsio.emit("ping", Ping(message="ns"), namespace="/ns")
        assert await inboxes["a"].get() == ("/ns", Ping(message="ns"))

        await tsio.emit(Ping(message="all"))
        for inbox in inboxes.values():
            assert await inbox.get() == ("/", Ping(message="all"))
        # nothing else arrived: "to", "room" and "ns" went only where they were sent
        assert all(inbox.empty() for inbox in inboxes.values())


class RecordingServer(socketio.AsyncServer):
    """A real AsyncServer that remembers what its emit and call were given."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen: list[tuple[str, str, Any, dict[str, Any]]] = []

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:  # pyright: ignore[reportIncompatibleMethodOverride]
        self.seen.append(("emit", event, data, kwargs))

    async def call(self, event: str, data: Any = None, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        self.seen.append(("call", event, data, kwargs))
        return {"reply": "recorded"}


async def test_kwargs_reach_socketio_unchanged() -> None:
    sio = RecordingServer(async_mode="asgi")
    tsio = wrap(sio)
    await tsio.emit(Ping(message="a"), room="r", skip_sid="s1", namespace="/ns")
    await tsio.emit("x", {"k": 1}, to="sid9", ignore_queue=True)
    reply = await tsio.call(Ping(message="b"), to="sid2", namespace="/n", timeout=3, response_model=Pong)
    assert reply == Pong(reply="recorded")
    assert sio.seen == [
        ("emit", "ping", {"message": "a"}, {"room": "r", "skip_sid": "s1", "namespace": "/ns"}),
        ("emit", "x", {"k": 1}, {"to": "sid9", "ignore_queue": True}),
        ("call", "ping", {"message": "b"}, {"to": "sid2", "namespace": "/n", "timeout": 3}),
    ]


# -- union return types ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", STACKS)
@pytest.mark.parametrize("problem_model", [ProblemDetail, PackageProblemDetail])
async def test_union_response_model_receives_problem_as_data(
    live_server: LiveServer, problem_model: type[BaseModel], shape: str
) -> None:
    client = wrap(socketio.AsyncClient(), middleware=stack(shape))
    async with live_server(asgi_app(typed_server(shape))) as url, connected(url, client):
        union: Any = Response | problem_model
        ok = await client.call(ServerRequest(query="abc"), response_model=union, timeout=TIMEOUT)
        assert ok == Response(data="ABC")

        invalid = await client.call("server_request", {"query": 5}, response_model=union, timeout=TIMEOUT)
        assert isinstance(invalid, problem_model)
        assert invalid.model_dump(include={"kind", "status", "title"}) == {
            "kind": "error",
            "status": 422,
            "title": "Unprocessable Content",
        }

        failed = await client.call(ServerRequest(query="boom"), response_model=union, timeout=TIMEOUT)
        assert isinstance(failed, problem_model)
        assert failed.model_dump(include={"status", "detail"}) == {"status": 500, "detail": None}


@pytest.mark.parametrize("shape", STACKS)
async def test_plain_response_model_raises_on_problem(live_server: LiveServer, shape: str) -> None:
    client = wrap(socketio.AsyncClient(), middleware=stack(shape))
    async with live_server(asgi_app(typed_server(shape))) as url, connected(url, client):
        with pytest.raises(ProblemDetailError) as info:
            await client.call(
                "ping", {"message": ["not", "a", "string"]}, response_model=Pong, timeout=TIMEOUT
            )
        assert info.value.problem.status == 422
        assert info.value.status == 422
        assert info.value.problem.errors is not None
        assert [e["type"] for e in info.value.problem.errors] == ["string_type"]

        with pytest.raises(ProblemDetailError) as info:
            await client.call(ServerRequest(query="boom"), response_model=Response, timeout=TIMEOUT)
        assert info.value.problem.status == 500
        assert info.value.problem.title == "Internal Server Error"
        assert "secret internals" not in str(info.value)
