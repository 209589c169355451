"""``zndraw_socketio.testing.TestClient`` on a sync ``socketio.Server(async_mode="threading")``."""

from __future__ import annotations

import queue
import threading
import time
from typing import Annotated, Any

import pytest
import socketio
import socketio.exceptions
from pydantic import BaseModel

from tests.support.helpers import TIMEOUT
from tests.support.models import Ping, Pong
from zndraw_socketio import (
    Depends,
    EventContext,
    InboundContext,
    Middleware,
    ProblemDetailError,
    SyncClientWrapper,
    SyncServerWrapper,
    wrap,
)
from zndraw_socketio.middleware.base import InboundNextSync
from zndraw_socketio.testing import TestClient

pytestmark = pytest.mark.timeout(20)


class Auth(BaseModel):
    token: str


def real_word() -> str:
    return "real"


class Tagger(Middleware):
    """Answers ``"tagged"`` events itself; passes every other event on."""

    def inbound_sync(self, ctx: InboundContext, call_next: InboundNextSync) -> Any:
        return "tagged by middleware" if ctx.event == "tagged" else call_next(ctx)


def sync_server() -> SyncServerWrapper:
    tsio = wrap(socketio.Server(async_mode="threading"), middleware=[Tagger()])

    @tsio.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"{sid}:{data.message}")

    @tsio.on("word")
    def word(sid: str, data: Ping, got: Annotated[str, Depends(real_word)]) -> str:
        return f"{data.message}:{got}"

    @tsio.on("boom")
    def boom(sid: str) -> None:
        raise RuntimeError("secret internals")

    @tsio.on("bad")
    def bad(sid: str) -> None:
        raise KeyError("k")

    @tsio.exception_handler(KeyError)
    def on_key(ctx: EventContext, exc: KeyError) -> dict[str, str]:
        return {"handled": ctx.event}

    @tsio.on("tagged")
    def tagged(sid: str) -> str:
        return "never: the middleware answers"

    @tsio.on("blob")
    def blob(sid: str, data: bytes) -> bytes:
        return data[::-1]

    return tsio


def test_round_trip_errors_dependencies_and_middleware() -> None:
    tsio = sync_server()
    with TestClient(tsio) as client:
        assert isinstance(client, SyncClientWrapper)
        assert type(client.sio) is socketio.Client
        sid = client.sid
        assert client.call(Ping(message="hi"), response_model=Pong, timeout=TIMEOUT) == Pong(
            reply=f"{sid}:hi"
        )
        wrong = client.call("ping", {"message": []}, timeout=TIMEOUT)
        assert (wrong["status"], [e["type"] for e in wrong["errors"]]) == (422, ["string_type"])
        missing = client.call("ping", {}, timeout=TIMEOUT)
        assert [e["type"] for e in missing["errors"]] == ["missing"]
        with pytest.raises(ProblemDetailError) as info:
            client.call("ping", {"message": 1}, response_model=Pong, timeout=TIMEOUT)
        assert info.value.status == 422
        failed = client.call("boom", timeout=TIMEOUT)
        assert (failed["status"], failed["detail"]) == (500, None) and "secret" not in str(failed)
        assert client.call("bad", timeout=TIMEOUT) == {"handled": "bad"}
        assert client.call("tagged", timeout=TIMEOUT) == "tagged by middleware"
        assert client.call("word", {"message": "a"}, timeout=TIMEOUT) == "a:real"
        tsio.dependency_overrides[real_word] = lambda: "fake"
        assert client.call("word", {"message": "b"}, timeout=TIMEOUT) == "b:fake"
        assert client.call("blob", b"\x00\x01\xff", timeout=TIMEOUT) == b"\xff\x01\x00"


def test_typed_auth_and_refusal() -> None:
    tsio = wrap(socketio.Server(async_mode="threading"))
    accepted: list[Auth] = []

    @tsio.event
    def connect(sid: str, environ: dict[str, Any], auth: Auth) -> None:
        accepted.append(auth)

    with TestClient(tsio, auth={"token": "t"}, headers={"X-Token": "abc"}) as client:
        assert accepted == [Auth(token="t")]
        assert tsio.get_environ(client.sid)["HTTP_X_TOKEN"] == "abc"
        assert "asgi.scope" not in tsio.get_environ(client.sid)  # WSGI: an environ only
    refused = pytest.raises(socketio.exceptions.ConnectionError, match="failed to connect")
    with refused as info, TestClient(tsio, auth={"nope": 1}):
        raise AssertionError("refused clients never enter the block")
    refusal = info.value.args[1]
    assert (refusal["message"], refusal["data"]["status"]) == ("Unprocessable Content", 422)
    assert [e["type"] for e in refusal["data"]["errors"]] == ["missing"]
    assert len(accepted) == 1 and tsio.eio.sockets == {}


def test_two_clients_in_a_room_and_a_server_call_to_a_client_handler() -> None:
    tsio = wrap(socketio.Server(async_mode="threading"))

    @tsio.on("join")
    def join(sid: str, room: str) -> str:
        tsio.enter_room(sid, room)
        return room

    @tsio.on("shout")
    def shout(sid: str, data: Ping) -> None:
        tsio.emit(data, room="lobby", skip_sid=sid)

    @tsio.on("ask")
    def ask(sid: str, other: str) -> Any:
        return tsio.call("question", Ping(message="q"), to=other, response_model=Pong, timeout=TIMEOUT)

    inboxes: dict[str, queue.Queue[Ping]] = {"a": queue.Queue(), "b": queue.Queue()}
    first, second = TestClient(tsio), TestClient(tsio)
    first.client.on(Ping, lambda data: inboxes["a"].put(data))
    second.client.on(Ping, lambda data: inboxes["b"].put(data))

    @second.client.on("question")
    def answer(data: Ping) -> Pong:
        return Pong(reply=f"b got {data.message}")

    with first as a, second as b:
        for client in (a, b):
            assert client.call("join", "lobby", timeout=TIMEOUT) == "lobby"
        a.emit("shout", Ping(message="hello"))
        assert inboxes["b"].get(timeout=TIMEOUT) == Ping(message="hello")
        tsio.emit(Ping(message="only a"), to=a.sid)
        assert inboxes["a"].get(timeout=TIMEOUT) == Ping(message="only a")
        assert a.call("ask", b.sid, timeout=TIMEOUT) == {"reply": "b got q"}
        time.sleep(0.05)
        assert inboxes["a"].empty() and inboxes["b"].empty()


def test_leaving_runs_the_disconnect_handler_and_leaks_no_threads() -> None:
    tsio = wrap(socketio.Server(async_mode="threading"))
    log: list[str] = []
    before = set(threading.enumerate())

    @tsio.on("slow")
    def slow(sid: str) -> None:
        time.sleep(0.05)
        log.append("slow done")

    @tsio.event
    def disconnect(sid: str, reason: str) -> None:
        time.sleep(0.02)
        log.append(f"disconnect {reason}")

    with TestClient(tsio) as client:
        client.emit("slow")  # no ack: nothing waits for it inside the block
    assert sorted(log) == ["disconnect client disconnect", "slow done"]
    # no thread this block started is left (threads of earlier tests may end meanwhile)
    assert set(threading.enumerate()) - before == set()
    assert tsio.eio.sockets == {} and tsio.environ == {} and not client.connected


def test_a_server_side_disconnect_ends_the_connection() -> None:
    tsio = wrap(socketio.Server(async_mode="threading"))
    gone: queue.Queue[str] = queue.Queue()
    tc = TestClient(tsio)
    tc.client.on("disconnect", lambda reason: gone.put(reason))

    with tc as client:
        tsio.disconnect(client.sid)
        assert gone.get(timeout=TIMEOUT) == "server disconnect"
    assert tsio.eio.sockets == {}


async def test_sync_server_in_an_async_with_says_to_use_with() -> None:
    tc: Any = TestClient(wrap(socketio.Server(async_mode="threading")))
    with pytest.raises(TypeError, match="use `with TestClient"):
        async with tc:
            pass


def test_other_async_modes_are_refused() -> None:
    server: Any = socketio.Server(async_mode="threading")
    server.async_mode = "eventlet"  # as if eventlet were installed and chosen
    with pytest.raises(TypeError, match="async_mode='threading'"):
        TestClient(server)
