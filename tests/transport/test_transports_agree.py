"""The library's behaviours over both transports: each scenario runs over a real loopback websocket
(uvicorn) and in memory (``TestClient``), and both must observe exactly the same replies.

One transport alone: ``pytest tests/transport/test_transports_agree.py -k memory`` (or ``-k loopback``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import pytest
import socketio.exceptions
import structlog
from fastapi import HTTPException

from tests.support.agree_support import (
    PROBLEM_500,
    async_word,
    handshake,
    problem_422,
    typed_server,
    word_of_the_day,
)
from tests.support.helpers import TIMEOUT, Inbox, new_server
from tests.support.models import Ping, Pong, ProblemDetail, Response, ServerRequest
from tests.support.transports import TRANSPORTS, Serve, serving
from zndraw_socketio import (
    AsyncClientWrapper,
    Depends,
    InboundContext,
    Middleware,
    ProblemDetailError,
)
from zndraw_socketio.middleware import InboundNext

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(30)

Scenario = Callable[[Serve], Awaitable[Any]]
SCENARIOS: dict[str, tuple[Scenario, Any]] = {}


def behaviour(expected: Any) -> Callable[[Scenario], Scenario]:
    """Register a scenario: it runs against ``serve`` and returns what it observed, ``expected``."""

    def register(run: Scenario) -> Scenario:
        SCENARIOS[run.__name__] = (run, expected)  # pyright: ignore[reportAttributeAccessIssue]
        return run

    return register


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    """Drop log output: the failures the scenarios provoke would otherwise spend most of the run
    rendering tracebacks, the same work on both transports (conftest restores structlog after)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


@pytest.fixture(params=TRANSPORTS)
def serve(request: pytest.FixtureRequest, live_server: LiveServer) -> Serve:
    return partial(serving, request.param, live_server=live_server)


# -- emit and call ---------------------------------------------------------------------------------


@behaviour([Pong(reply="Hello"), Pong(reply="my:two"), {"got": {"payload": [1, None]}}, {"reply": "a"}])
async def call_forms(serve: Serve) -> Any:
    async with serve(typed_server()) as connect, connect() as client:
        return [
            await client.call(Ping(message="Hello"), response_model=Pong, timeout=TIMEOUT),
            await client.call("my-ping", Ping(message="two"), response_model=Pong, timeout=TIMEOUT),
            await client.call("event", {"payload": [1, None]}, timeout=TIMEOUT),
            await client.call(Ping(message="a"), timeout=TIMEOUT),
        ]


@behaviour([("ping", Ping(message="one")), ("raw", {"nested": [1, None]})])
async def emit_forms(serve: Serve) -> Any:
    tsio, inbox = new_server(), Inbox()
    tsio.on(Ping, lambda sid, data: inbox.put(("ping", data)))
    tsio.on("raw", lambda sid, data: inbox.put(("raw", data)))
    async with serve(tsio) as connect, connect() as client:
        await client.emit(Ping(message="one"))
        await client.emit("raw", {"nested": [1, None]})
        return [await inbox.get(), await inbox.get()]


@behaviour([["str", "hi"], ["int", 42], b"\xff\x01\x00", {"next_day": "2020-02-01T12:00:00", "tags": ["a"]}])
async def payload_types_and_binary(serve: Serve) -> Any:
    tsio = new_server()
    tsio.on("text", lambda sid, data: [type(data).__name__, data])

    @tsio.on("number")
    async def number(sid: str, data: int) -> list[Any]:
        return [type(data).__name__, data]

    @tsio.on("blob")
    async def blob(sid: str, data: bytes) -> bytes:
        return data[::-1]

    @tsio.on("when")
    async def when(sid: str, data: datetime) -> dict[str, Any]:
        return {"next_day": data + timedelta(days=1), "tags": {"a"}}

    async with serve(tsio) as connect, connect() as client:
        return [
            await client.call("text", "hi", timeout=TIMEOUT),
            await client.call("number", "42", timeout=TIMEOUT),
            await client.call("blob", b"\x00\x01\xff", timeout=TIMEOUT),
            await client.call("when", "2020-01-31T12:00:00", timeout=TIMEOUT),
        ]


@behaviour(
    [
        {"count": 3, "ping": "m", "label": "lbl"},
        problem_422("multi", ("string_type", ["ping", "message"], "Input should be a valid string")),
    ]
)
async def several_arguments_and_a_422_in_one(serve: Serve) -> Any:
    tsio = new_server()

    @tsio.on("multi")
    async def multi(sid: str, count: int, ping: Ping, label: str = "default") -> dict[str, Any]:
        return {"count": count, "ping": ping.message, "label": label}

    async with serve(tsio) as connect, connect() as client:
        return [
            await client.call("multi", ("3", {"message": "m"}, "lbl"), timeout=TIMEOUT),
            await client.call("multi", (1, {"message": 2}), timeout=TIMEOUT),
        ]


@behaviour([{"event": "whatever", "message": "w"}, ["root:a", "admin:b"]])
async def catch_all_and_namespaces(serve: Serve) -> Any:
    tsio = new_server()

    @tsio.on("*")
    async def anything(event: str, sid: str, data: Ping) -> dict[str, str]:
        return {"event": event, "message": data.message}

    tsio.on(Ping, lambda sid, data: f"root:{data.message}")
    tsio.on(Ping, lambda sid, data: f"admin:{data.message}", namespace="/admin")
    async with serve(tsio) as connect, connect(namespaces=["/", "/admin"]) as client:
        first = await client.call("whatever", {"message": "w"}, timeout=TIMEOUT)
        root = await client.call(Ping(message="a"), timeout=TIMEOUT)
        admin = await client.call(Ping(message="b"), namespace="/admin", timeout=TIMEOUT)
        return [first, [root, admin]]


# -- errors ----------------------------------------------------------------------------------------


@behaviour(
    [
        problem_422("ping", ("string_type", ["message"], "Input should be a valid string")),
        problem_422("ping", ("missing", ["message"], "Field required")),
        (422, ["string_type"]),
        PROBLEM_500,
        (500, "Internal Server Error"),
    ]
)
async def replies_422_and_500(serve: Serve) -> Any:
    async with serve(typed_server()) as connect, connect() as client:
        wrong = await client.call("ping", {"message": ["not", "text"]}, timeout=TIMEOUT)
        missing = await client.call("ping", {}, timeout=TIMEOUT)
        with pytest.raises(ProblemDetailError) as invalid:
            await client.call("ping", {"message": 1}, response_model=Pong, timeout=TIMEOUT)
        failed = await client.call("boom", timeout=TIMEOUT)
        with pytest.raises(ProblemDetailError) as unhandled:
            await client.call("boom", response_model=Pong, timeout=TIMEOUT)
    errors = invalid.value.problem.errors or []
    problem = unhandled.value.problem
    return [
        wrong,
        missing,
        (invalid.value.status, [e["type"] for e in errors]),
        failed,
        (problem.status, problem.title),
    ]


@behaviour([Response(data="ABC"), (ProblemDetail, 422), (ProblemDetail, 500)])
async def union_response_model_receives_problems_as_data(serve: Serve) -> Any:
    union: Any = Response | ProblemDetail
    async with serve(typed_server()) as connect, connect() as client:
        ok = await client.call(ServerRequest(query="abc"), response_model=union, timeout=TIMEOUT)
        bad = await client.call("server_request", {"query": 5}, response_model=union, timeout=TIMEOUT)
        boom = await client.call("boom", response_model=union, timeout=TIMEOUT)
    return [ok, (type(bad), bad.status), (type(boom), boom.status)]


@behaviour(
    [["KeyError", "LookupError", "ArithmeticError"], {"status": 404, "detail": "no k", "title": "Not Found"}]
)
async def exception_handlers_by_mro_and_http_exceptions(serve: Serve) -> Any:
    tsio = new_server()

    @tsio.on("raise")
    async def raiser(sid: str, name: str) -> None:
        raise {"key": KeyError, "index": IndexError, "zero": ZeroDivisionError}[name]("x")

    @tsio.on("find")
    async def find(sid: str, key: str) -> str:
        raise HTTPException(status_code=404, detail=f"no {key}")

    tsio.exception_handler(ArithmeticError)(lambda ctx, exc: "ArithmeticError")
    tsio.exception_handler(LookupError)(lambda ctx, exc: "LookupError")
    tsio.exception_handler(KeyError)(lambda ctx, exc: "KeyError")
    async with serve(tsio) as connect, connect() as client:
        raised = [await client.call("raise", name, timeout=TIMEOUT) for name in ("key", "index", "zero")]
        found = await client.call("find", "k", timeout=TIMEOUT)
    return [raised, {key: found[key] for key in ("status", "detail", "title")}]


# -- dependencies ----------------------------------------------------------------------------------


@behaviour(["a:dep:async-dep", "b:fake:async-fake", "c:dep:async-dep"])
async def dependencies_and_overrides(serve: Serve) -> Any:
    tsio = new_server()

    @tsio.on("word")
    async def word(
        sid: str,
        data: Ping,
        plain: Annotated[str, Depends(word_of_the_day)],
        nested: Annotated[str, Depends(async_word)],
    ) -> str:
        return f"{data.message}:{plain}:{nested}"

    async with serve(tsio) as connect, connect() as client:
        first = await client.call("word", {"message": "a"}, timeout=TIMEOUT)
        tsio.dependency_overrides[word_of_the_day] = lambda: "fake"
        second = await client.call("word", {"message": "b"}, timeout=TIMEOUT)
        del tsio.dependency_overrides[word_of_the_day]
        third = await client.call("word", {"message": "c"}, timeout=TIMEOUT)
    return [first, second, third]


@behaviour({"token": "abc", "peer": "127.0.0.1", "path": "/socket.io/", "auth": {"user": "u1"}})
async def request_dependency_sees_the_handshake_and_auth(serve: Serve) -> Any:
    tsio = new_server()

    @tsio.on("whoami")
    async def whoami(sid: str, seen: Annotated[dict[str, Any], Depends(handshake)]) -> dict[str, Any]:
        return seen

    async with serve(tsio) as connect, connect(headers={"X-Token": "abc"}, auth={"user": "u1"}) as client:
        return await client.call("whoami", timeout=TIMEOUT)


@behaviour([("ping", True), Pong(reply="m"), "answered by middleware"])
async def user_middleware(serve: Serve) -> Any:
    seen: list[tuple[str, str | None]] = []

    class Spy(Middleware):
        async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
            seen.append((ctx.event, ctx.sid))
            return "answered by middleware" if ctx.event == "short" else await call_next(ctx)

    tsio = new_server([Spy()])
    tsio.on(Ping, lambda sid, data: Pong(reply=data.message))
    tsio.on("short", lambda sid: "never")
    async with serve(tsio) as connect, connect() as client:
        reply = await client.call(Ping(message="m"), response_model=Pong, timeout=TIMEOUT)
        short = await client.call("short", timeout=TIMEOUT)
        return [(seen[0][0], seen[0][1] == client.get_sid()), reply, short]


# -- server to client --------------------------------------------------------------------------------


@behaviour({"a": [Ping(message="to a")], "b": [Ping(message="room")], "c": []})
async def server_emit_to_a_sid_and_a_room_with_skip_sid(serve: Serve) -> Any:
    tsio = new_server()

    @tsio.on("join")
    async def join(sid: str, room: str) -> str:
        await tsio.enter_room(sid, room)
        return room

    inboxes = {name: Inbox() for name in "abc"}

    def listen(name: str) -> Callable[[AsyncClientWrapper], Any]:
        return lambda client: client.on(Ping, lambda data: inboxes[name].put(data))

    async with (
        serve(tsio) as connect,
        connect(setup=listen("a")) as a,
        connect(setup=listen("b")) as b,
        connect(setup=listen("c")),
    ):
        for client in (a, b):
            await client.call("join", "lobby", timeout=TIMEOUT)
        await tsio.emit(Ping(message="room"), room="lobby", skip_sid=a.get_sid())
        await tsio.emit(Ping(message="to a"), to=a.get_sid())
        got = {"a": [await inboxes["a"].get()], "b": [await inboxes["b"].get()], "c": []}
        assert await inboxes["c"].nothing_within(0.02)
        assert all(inbox.empty() for inbox in inboxes.values())
        return got


@behaviour([Pong(reply="typed:a"), {"reply": "typed:b"}, 500, 422])
async def client_handlers_answer_server_calls(serve: Serve) -> Any:
    tsio = new_server()

    def handlers(client: AsyncClientWrapper) -> None:
        client.on(Ping, lambda data: Pong(reply=f"typed:{data.message}"))

        @client.on("fail")
        async def fail(data: Ping) -> Pong:
            raise RuntimeError("client secret")

    async with serve(tsio) as connect, connect(setup=handlers) as client:
        sid = client.get_sid()
        typed = await tsio.call(Ping(message="a"), to=sid, response_model=Pong, timeout=TIMEOUT)
        raw = await tsio.call("ping", {"message": "b"}, to=sid, timeout=TIMEOUT)
        statuses = []
        for event, data in (("fail", {"message": "x"}), ("ping", {"message": 1})):
            with pytest.raises(ProblemDetailError) as info:
                await tsio.call(event, data, to=sid, response_model=Pong, timeout=TIMEOUT)
            statuses.append(info.value.status)
        return [typed, raw, *statuses]


# -- connect and disconnect --------------------------------------------------------------------------


@behaviour([True, ("Unprocessable Content", 422, ["int_parsing"]), "disconnected"])
async def typed_connect_auth_refusal_and_disconnect(serve: Serve) -> Any:
    tsio, gone, errors = new_server(), Inbox(), Inbox()

    @tsio.on("connect")
    async def on_connect(sid: str, environ: dict[str, Any], auth: dict[str, int]) -> None:
        pass

    @tsio.event
    async def disconnect(sid: str) -> None:
        gone.put(sid)

    def on_error(client: AsyncClientWrapper) -> None:
        client.sio.on("connect_error", errors.put)

    async with serve(tsio) as connect:
        async with connect(auth={"user": "5"}) as client:
            sid = client.get_sid()
            accepted = client.connected
        left = "disconnected" if await gone.get() == sid else "other"
        with pytest.raises(socketio.exceptions.ConnectionError, match="failed to connect"):
            async with connect(setup=on_error, auth={"user": "x"}):
                pass
        error = await errors.get()
        refusal = (error["message"], error["data"]["status"], [e["type"] for e in error["data"]["errors"]])
    return [accepted, refusal, left]


# -- the test: every scenario above, over each transport -------------------------------------------


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_behaviour(serve: Serve, name: str) -> None:
    run, expected = SCENARIOS[name]
    assert await run(serve) == expected
