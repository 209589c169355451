"""The six faces sending and receiving: typed ``emit`` and ``call``
(models, unions, problem details), the log line of each event in and out, ``receive`` and the
context managers of the simple clients, and the sync faces talking to each other under werkzeug.

Each face talks to a real peer over loopback (see ``faces_support``). No ``from __future__ import
annotations``: the handlers defined in the tests must have hints that resolve at registration.
"""

import asyncio
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import structlog
import structlog.contextvars
import structlog.testing
from pydantic import BaseModel, ValidationError
from socketio import exceptions as sio_exceptions

from tests.support.faces_support import (
    SIMPLE_FACES,
    TIMEOUT,
    FaceName,
    asgi_app,
    echo_pong,
    faces,
    open_rig,
    serve_wsgi,
    simple_faces,
)
from tests.support.models import Ping, Pong, ProblemDetail, Response, ServerRequest
from zndraw_socketio import (
    AsyncSimpleClientWrapper,
    ProblemDetailError,
    SimpleClientWrapper,
    wrap,
)

if TYPE_CHECKING:
    from tests.conftest import LiveServer


# -- emit and call ----------------------------------------------------------------------------------


@faces
async def test_typed_emit_reaches_the_peer_as_a_model(name: FaceName, live_server: "LiveServer") -> None:
    async with open_rig(name, live_server) as rig:
        by_model = rig.peer_collects(Ping, Ping)
        by_name = rig.peer_collects("my-ping", Ping)
        raw = rig.peer_collects("event", dict[str, Any])

        await rig.emit(Ping(message="Hello, World!"))
        await rig.emit("my-ping", Ping(message="named"))
        await rig.emit("event", {"payload": [1, 2]})

        got = await rig.get(by_model)
        assert type(got) is Ping and got.message == "Hello, World!"
        assert await rig.get(by_name) == Ping(message="named")
        assert await rig.get(raw) == {"payload": [1, 2]}


@faces
async def test_call_with_response_model_returns_the_model(name: FaceName, live_server: "LiveServer") -> None:
    async with open_rig(name, live_server) as rig:
        rig.peer.on(Ping, rig.peer_handler(lambda data: {"reply": data["message"]}))
        rig.peer.on("my-ping", rig.peer_handler(lambda data: {"reply": "my:" + data["message"]}))
        rig.peer.on("event", rig.peer_handler(lambda data: {"echo": data}))

        response = await rig.call(Ping(message="Hello, World!"), response_model=Pong)
        assert type(response) is Pong and response.reply == "Hello, World!"
        named = await rig.call("my-ping", Ping(message="x"), response_model=Pong)
        assert named == Pong(reply="my:x")
        raw = await rig.call("event", {"payload": 1})
        assert raw == {"echo": {"payload": 1}}


@faces
async def test_call_with_a_union_receives_the_problem_detail(
    name: FaceName, live_server: "LiveServer"
) -> None:
    async with open_rig(name, live_server) as rig:
        rig.peer.on(
            ServerRequest,
            rig.peer_handler(lambda data: Response(data=data.query.upper()), ServerRequest),
        )
        union = Response | ProblemDetail

        ok = await rig.call(ServerRequest(query="q"), response_model=union)
        assert ok == Response(data="Q")

        problem = await rig.call("server_request", {"wrong": 1}, response_model=union)
        assert type(problem) is ProblemDetail
        assert problem.status == 422 and problem.kind == "error"

        with pytest.raises(ProblemDetailError) as info:
            await rig.call("server_request", {"wrong": 1}, response_model=Response)
        assert info.value.status == 422


# -- logging --------------------------------------------------------------------------------------------


def entries(logs: Sequence[Mapping[str, Any]], event: str, direction: str) -> list[Mapping[str, Any]]:
    return [e for e in logs if e.get("sio_event") == event and e.get("direction") == direction]


@faces
async def test_logging_per_event(name: FaceName, live_server: "LiveServer") -> None:
    async with open_rig(name, live_server) as rig:
        rig.peer_collects("told", Ping)
        rig.peer.on("asked", rig.peer_handler(lambda data: {"not": "a pong"}))

        def inside(data: Ping) -> Pong:
            structlog.get_logger("user").info("inside the handler")
            return echo_pong(data)

        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            await rig.emit("told", Ping(message="x"))
            with pytest.raises(ValidationError):
                await rig.call("asked", Ping(message="x"), response_model=Pong)

            if name in SIMPLE_FACES:
                await rig.peer_emit(Pong(reply="r"))
                assert await rig.run(rig.face.receive, Pong, TIMEOUT) == ("pong", Pong(reply="r"))
            else:
                rig.on("inside", inside, Ping)
                rig.on("fails", lambda data: 1 / 0)
                await rig.peer_call("inside", {"message": "y"})
                await rig.peer_call("fails", {"message": "z"})

        sid_in = rig.sid if rig.is_server else None

        (told,) = entries(logs, "told", "out")
        assert told["outcome"] == "ok" and told["log_level"] == "debug"
        assert told["namespace"] == "/"
        assert isinstance(told["duration_ms"], float)
        assert "sid" in told

        (asked,) = entries(logs, "asked", "out")
        assert asked["outcome"] == "error" and asked["log_level"] == "error"

        if name in SIMPLE_FACES:
            (received,) = entries(logs, "pong", "in")
            assert received["outcome"] == "ok" and received["sid"] is None
            return

        (ok,) = entries(logs, "inside", "in")
        assert ok["outcome"] == "ok" and ok["sid"] == sid_in and ok["namespace"] == "/"
        (user_line,) = [e for e in logs if e.get("event") == "inside the handler"]
        assert user_line["sio_event"] == "inside"
        assert user_line["sid"] == sid_in
        assert user_line["namespace"] == "/"

        (failed,) = entries(logs, "fails", "in")
        assert failed["outcome"] == "error" and failed["log_level"] == "error"
        assert failed["sid"] == sid_in


# -- simple clients -------------------------------------------------------------------------------------


@simple_faces
async def test_receive_returns_event_and_model(name: FaceName, live_server: "LiveServer") -> None:
    async with open_rig(name, live_server) as rig:
        receive = rig.face.receive

        await rig.peer_emit(Pong(reply="typed"))
        event, data = await rig.run(receive, response_model=Pong, timeout=TIMEOUT)
        assert event == "pong"
        assert type(data) is Pong and data.reply == "typed"

        await rig.peer_emit("tick")
        assert await rig.run(receive, timeout=TIMEOUT) == ("tick", None)

        await rig.peer_emit("raw", {"a": 1})
        assert await rig.run(receive, timeout=TIMEOUT) == ("raw", {"a": 1})

        await rig.peer_emit("union", {"kind": "error", "title": "Gone", "status": 410})
        event, data = await rig.run(receive, Response | ProblemDetail, TIMEOUT)
        assert event == "union" and type(data) is ProblemDetail and data.status == 410

        await rig.peer_emit("bad", {"nope": 1})
        with pytest.raises(ValidationError):
            await rig.run(receive, response_model=Pong, timeout=TIMEOUT)

        with pytest.raises(sio_exceptions.TimeoutError):
            await rig.run(receive, timeout=0.2)


async def test_async_simple_client_is_an_async_context_manager(live_server: "LiveServer") -> None:
    server = wrap(socketio.AsyncServer(async_mode="asgi"))
    server.on(Ping)(echo_async)
    async with live_server(asgi_app(server.sio)) as url:
        async with wrap(socketio.AsyncSimpleClient()) as client:
            assert isinstance(client, AsyncSimpleClientWrapper)
            await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
            assert client.connected
            assert await client.call(Ping(message="a"), response_model=Pong, timeout=TIMEOUT) == Pong(
                reply="a"
            )
        assert not client.connected


async def echo_async(sid: str, data: Ping) -> Pong:
    return Pong(reply=data.message)


async def test_simple_client_is_a_context_manager(live_server: "LiveServer") -> None:
    server = wrap(socketio.AsyncServer(async_mode="asgi"))
    server.on(Ping)(echo_async)

    def use(url: str) -> tuple[bool, Pong, bool]:
        with wrap(socketio.SimpleClient()) as client:
            assert isinstance(client, SimpleClientWrapper)
            client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
            connected = client.connected
            reply = client.call(Ping(message="s"), response_model=Pong, timeout=TIMEOUT)
        return connected, reply, client.connected

    async with live_server(asgi_app(server.sio)) as url:
        assert await asyncio.to_thread(use, url) == (True, Pong(reply="s"), False)


# -- the sync faces with each other, under werkzeug -----------------------------------------------------


class SessionLeft(BaseModel):
    room_id: str
    user_id: str


def test_sync_client_and_simple_client_against_the_sync_server() -> None:
    server = wrap(socketio.Server(async_mode="threading"))
    joined: list[str] = []

    @server.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"sync:{data.message}")

    @server.on("connect")
    def connect(sid: str, environ: dict[str, Any]) -> None:
        server.enter_room(sid, "room1")
        joined.append(sid)

    client = wrap(socketio.Client())
    left: list[SessionLeft] = []
    arrived = threading.Event()

    @client.on(SessionLeft)
    def on_left(data: SessionLeft) -> None:
        left.append(data)
        arrived.set()

    with serve_wsgi(socketio.WSGIApp(server.sio)) as url:
        client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            assert client.call(Ping(message="c"), response_model=Pong, timeout=TIMEOUT) == Pong(
                reply="sync:c"
            )
            with wrap(socketio.SimpleClient()) as simple:
                simple.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
                reply = simple.call("ping", Ping(message="s"), response_model=Pong, timeout=TIMEOUT)
                assert reply == Pong(reply="sync:s")

                server.emit(SessionLeft(room_id="room1", user_id="u1"), room="room1")
                assert arrived.wait(TIMEOUT)
                assert left == [SessionLeft(room_id="room1", user_id="u1")]
                event, data = simple.receive(SessionLeft, timeout=TIMEOUT)
                assert (event, data) == ("session_left", SessionLeft(room_id="room1", user_id="u1"))
                assert len(joined) == 2
                # Under werkzeug + simple-websocket a disconnect started by a websocket-client
                # waits 3 s for a close frame that never comes; disconnecting from the server
                # side does not, so the test ends the sessions there.
                for sid in joined:
                    server.disconnect(sid)
                deadline = time.monotonic() + TIMEOUT
                while (client.connected or simple.connected) and time.monotonic() < deadline:
                    time.sleep(0.01)
        finally:
            client.disconnect()
