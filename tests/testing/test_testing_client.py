"""``zndraw_socketio.testing.TestClient`` on an async server: a real client, connected in memory."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
import socketio
import socketio.exceptions
from pydantic import BaseModel

from tests.support.helpers import TIMEOUT, Inbox, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import (
    AsyncClientWrapper,
    Depends,
    EventContext,
    InboundContext,
    Middleware,
    ProblemDetailError,
    SioRequest,
)
from zndraw_socketio.middleware import InboundNext
from zndraw_socketio.testing import TestClient

pytestmark = pytest.mark.timeout(20)


class Auth(BaseModel):
    token: str
    user: int


def real_word() -> str:
    return "real"


def pending_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


# -- the client and the round trip -------------------------------------------------------------------


async def test_yields_a_wrapped_client_whose_sid_is_the_server_sid() -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"{sid}:{data.message}")

    async with TestClient(tsio) as client:
        assert isinstance(client, AsyncClientWrapper)
        assert type(client.sio) is socketio.AsyncClient
        reply = await client.call(Ping(message="hi"), response_model=Pong, timeout=TIMEOUT)
        assert reply == Pong(reply=f"{client.sid}:hi")
        assert client.sid == client.sio.get_sid("/")
        assert tsio.manager.is_connected(client.sid, "/")
    assert not tsio.manager.is_connected(client.sid, "/")


async def test_emit_reaches_the_typed_handler_and_binary_travels_both_ways() -> None:
    tsio = new_server()
    inbox = Inbox()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> None:
        inbox.put(data)

    @tsio.on("blob")
    async def blob(sid: str, data: bytes, more: bytes) -> tuple[bytes, str]:
        return data[::-1] + more, "done"

    async with TestClient(tsio) as client:
        await client.emit(Ping(message="one"))
        assert await inbox.get() == Ping(message="one")
        reply = await client.call("blob", (b"\x00\x01", b"\xff"), timeout=TIMEOUT)
        assert reply == (b"\x01\x00\xff", "done")


async def test_bad_payloads_get_problem_details_not_timeouts() -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("many")
    async def many(sid: str, data: list[Ping]) -> int:
        return len(data)

    async with TestClient(tsio) as client:
        wrong = await client.call("ping", {"message": ["not", "text"]}, timeout=TIMEOUT)
        assert (wrong["status"], [e["type"] for e in wrong["errors"]]) == (422, ["string_type"])
        missing = await client.call("ping", {}, timeout=TIMEOUT)
        assert (missing["status"], [e["type"] for e in missing["errors"]]) == (422, ["missing"])
        with pytest.raises(ProblemDetailError) as info:
            await client.call("ping", {"message": 1}, response_model=Pong, timeout=TIMEOUT)
        assert info.value.status == 422
        oversized = await client.call("many", [{"message": i} for i in range(100)], timeout=TIMEOUT)
        assert (oversized["status"], oversized["detail"]) == (422, "100 validation errors for event 'many'")
        assert "input" not in str(oversized["errors"][0])


async def test_a_packet_over_the_servers_limit_drops_the_connection_as_a_websocket_would() -> None:
    tsio = new_server(max_http_buffer_size=1000)
    reasons = Inbox()

    @tsio.event
    async def disconnect(sid: str, reason: str) -> None:
        reasons.put(reason)

    @tsio.on("echo")
    async def echo(sid: str, data: str) -> str:
        return data

    async with TestClient(tsio) as client:
        assert await client.call("echo", "x" * 100, timeout=TIMEOUT) == "x" * 100
        await client.emit("echo", "x" * 2000)
        assert await reasons.get() == tsio.reason.TRANSPORT_CLOSE
        assert not client.connected


async def test_handler_exception_exception_handler_dependency_and_override() -> None:
    tsio = new_server()

    @tsio.on("word")
    async def word(sid: str, data: Ping, got: Annotated[str, Depends(real_word)]) -> str:
        return f"{data.message}:{got}"

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        raise RuntimeError("secret internals")

    @tsio.on("bad")
    async def bad(sid: str) -> None:
        raise KeyError("k")

    @tsio.exception_handler(KeyError)
    async def on_key(ctx: EventContext, exc: KeyError) -> dict[str, str]:
        return {"handled": ctx.event}

    async with TestClient(tsio) as client:
        assert await client.call("word", {"message": "a"}, timeout=TIMEOUT) == "a:real"
        tsio.dependency_overrides[real_word] = lambda: "fake"
        assert await client.call("word", {"message": "b"}, timeout=TIMEOUT) == "b:fake"
        failed = await client.call("boom", timeout=TIMEOUT)
        assert (failed["status"], failed["detail"]) == (500, None)
        assert "secret" not in str(failed)
        assert await client.call("bad", timeout=TIMEOUT) == {"handled": "bad"}


async def test_user_middleware_sees_the_events_of_the_connection() -> None:
    seen: list[tuple[str, str | None, Any]] = []

    class Spy(Middleware):
        async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
            seen.append((ctx.event, ctx.sid, ctx.data))
            if ctx.event == "short":
                return "cut short"
            return await call_next(ctx)

    tsio = new_server([Spy()])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("short")
    async def short(sid: str) -> str:
        return "never"

    async with TestClient(tsio) as client:
        assert await client.call(Ping(message="m"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="m")
        assert await client.call("short", timeout=TIMEOUT) == "cut short"
        sid = client.sid
    assert [(e, s) for e, s, _ in seen] == [("ping", sid), ("short", sid)]
    assert seen[0][2] == {"message": "m"}


# -- connect: auth, headers, refusals, namespaces ----------------------------------------------------


async def test_typed_connect_auth_and_refusal_with_the_problem_detail() -> None:
    tsio = new_server()
    accepted = Inbox()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Auth) -> None:
        accepted.put(auth)

    async with TestClient(tsio, auth={"token": "t", "user": "5"}) as client:
        assert await accepted.get() == Auth(token="t", user=5)
        assert client.connected

    for auth, error_types in [({"token": "hunter2", "user": "x"}, ["int_parsing"]), (None, ["model_type"])]:
        with pytest.raises(socketio.exceptions.ConnectionError, match="failed to connect") as info:
            async with TestClient(tsio, auth=auth):
                raise AssertionError("refused clients never enter the block")
        message, refusal = info.value.args
        assert "/" in message
        assert refusal["message"] == "Unprocessable Content"
        assert (refusal["data"]["status"], [e["type"] for e in refusal["data"]["errors"]]) == (
            422,
            error_types,
        )
        assert "hunter2" not in str(refusal)
    assert accepted.empty()
    assert tsio.eio.sockets == {} and tsio.environ == {}


async def test_connection_refused_error_data_reaches_the_caller() -> None:
    tsio = new_server()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        raise socketio.exceptions.ConnectionRefusedError("go away", {"code": 7})

    before = pending_tasks()
    with pytest.raises(socketio.exceptions.ConnectionError) as info:
        async with TestClient(tsio):
            pass
    assert info.value.args[1] == {"message": "go away", "data": {"code": 7}}
    assert pending_tasks() == before and tsio.eio.sockets == {} and tsio.environ == {}


async def test_headers_and_handshake_reach_the_environ_and_sio_request() -> None:
    tsio = new_server()

    @tsio.on("whoami")
    async def whoami(sid: str, request: SioRequest) -> dict[str, Any]:
        assert request.headers is not None and request.client is not None and request.url is not None
        assert request.query_params is not None
        return {
            "token": request.headers.get("x-token"),
            "host": request.client.host,
            "path": request.url.path,
            "eio": request.query_params.get("EIO"),
            "transport": request.query_params.get("transport"),
            "cookie": request.cookies.get("session"),
            "environ": request.environ is not None and request.environ["HTTP_X_TOKEN"],
        }

    headers = {"X-Token": "abc", "Cookie": "session=s1"}
    async with TestClient(tsio, headers=headers) as client:
        assert await client.call("whoami", timeout=TIMEOUT) == {
            "token": "abc",
            "host": "127.0.0.1",
            "path": "/socket.io/",
            "eio": "4",
            "transport": "websocket",
            "cookie": "s1",
            "environ": "abc",
        }


async def test_namespaces_are_connected_and_a_missing_one_is_refused() -> None:
    tsio = new_server()

    @tsio.on("where", namespace="/chat")
    async def where(sid: str) -> str:
        return "chat"

    @tsio.on("where")
    async def where_root(sid: str) -> str:
        return "root"

    async with TestClient(tsio, namespaces=["/", "/chat"]) as client:
        assert await client.call("where", timeout=TIMEOUT) == "root"
        assert await client.call("where", namespace="/chat", timeout=TIMEOUT) == "chat"
    with pytest.raises(socketio.exceptions.ConnectionError) as info:
        async with TestClient(tsio, namespaces="/nowhere"):
            pass
    assert info.value.args[1] == "Unable to connect"


# -- several clients ----------------------------------------------------------------------------------


async def test_two_clients_in_a_room_to_and_skip_sid_and_a_server_call() -> None:
    tsio = new_server()

    @tsio.on("join")
    async def join(sid: str, room: str) -> str:
        await tsio.enter_room(sid, room)
        return room

    @tsio.on("shout")
    async def shout(sid: str, data: Ping) -> None:
        await tsio.emit(data, room="lobby", skip_sid=sid)

    @tsio.on("ask")
    async def ask(sid: str, other: str) -> Any:
        return await tsio.call("question", Ping(message="q"), to=other, response_model=Pong, timeout=TIMEOUT)

    inboxes = {"a": Inbox(), "b": Inbox()}
    first, second = TestClient(tsio), TestClient(tsio)
    for name, tc in (("a", first), ("b", second)):
        tc.client.on(Ping, lambda data, inbox=inboxes[name]: inbox.put(data))

    @second.client.on("question")
    async def answer(data: Ping) -> Pong:
        return Pong(reply=f"b got {data.message}")

    async with first as a, second as b:
        for client in (a, b):
            assert await client.call("join", "lobby", timeout=TIMEOUT) == "lobby"
        await a.emit("shout", Ping(message="hello"))
        assert await inboxes["b"].get() == Ping(message="hello")
        await tsio.emit(Ping(message="only a"), to=a.sid)
        assert await inboxes["a"].get() == Ping(message="only a")
        assert await a.call("ask", b.sid, timeout=TIMEOUT) == {"reply": "b got q"}
        assert await inboxes["a"].nothing_within(0.05) and inboxes["b"].empty()


# -- leaving the block -----------------------------------------------------------------------------


async def test_leaving_runs_the_disconnect_handler_and_leaks_no_tasks() -> None:
    tsio = new_server()
    log: list[str] = []
    before = pending_tasks()

    @tsio.on("slow")
    async def slow(sid: str) -> None:
        await asyncio.sleep(0.05)
        log.append("slow done")

    @tsio.event
    async def disconnect(sid: str, reason: str) -> None:
        await asyncio.sleep(0.02)
        log.append(f"disconnect {reason}")

    async with TestClient(tsio) as client:
        await client.emit("slow")  # no ack: nothing waits for it inside the block
    assert sorted(log) == ["disconnect client disconnect", "slow done"]
    assert pending_tasks() == before
    assert tsio.eio.sockets == {} and tsio.environ == {} and not client.connected


async def test_a_server_side_disconnect_ends_the_connection() -> None:
    tsio = new_server()
    gone = Inbox()
    tc = TestClient(tsio)
    tc.client.on("disconnect", lambda reason: gone.put(reason))

    async with tc as client:
        await tsio.disconnect(client.sid)
        assert await gone.get() == "server disconnect"
        assert not client.connected
    assert tsio.eio.sockets == {}


# -- misuse ----------------------------------------------------------------------------------------


def test_async_server_in_a_sync_with_says_to_use_async_with() -> None:
    tc: Any = TestClient(new_server())
    with pytest.raises(TypeError, match="async with TestClient"), tc:
        pass


def test_anything_but_a_server_is_refused() -> None:
    with pytest.raises(TypeError, match="wrapped socketio server"):
        TestClient(socketio.AsyncClient())  # type: ignore[call-overload]
