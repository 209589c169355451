"""The handlers of the faces: typed replies, ``event`` naming, 422
and 500 problem details, exception handlers, the middleware chain in and out (its order and a
middleware answering by itself), sync dependencies, and per-event context under concurrency.

Each face talks to a real peer over loopback (see ``faces_support``). No ``from __future__ import
annotations``: the handlers defined in the tests must have hints that resolve at registration.
"""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import pytest
import structlog
import structlog.contextvars
import structlog.testing
from fastapi import FastAPI

from tests.support.faces_support import (
    SIMPLE_FACES,
    FaceName,
    Recorder,
    echo_pong,
    faces,
    handler_faces,
    open_rig,
)
from tests.support.models import Ping, Pong
from zndraw_socketio import (
    Depends,
    EventContext,
    InboundContext,
    Middleware,
    ProblemDetailError,
    SioRequest,
)
from zndraw_socketio.stages import (
    DependenciesStage,
    ExceptionStage,
    LoggingStage,
    NamingStage,
    ValidationStage,
)

if TYPE_CHECKING:
    from tests.conftest import LiveServer


# -- replies of the face's own handlers ---------------------------------------------------------------


@handler_faces
async def test_handler_replies_with_the_model(name: FaceName, live_server: "LiveServer") -> None:
    async with open_rig(name, live_server) as rig:
        rig.on(Ping, echo_pong)
        reply = await rig.peer_call(Ping(message="hi"), response_model=Pong)
        assert reply == Pong(reply="hi")


@handler_faces
async def test_event_decorator_names_the_event_after_the_function(
    name: FaceName, live_server: "LiveServer"
) -> None:
    async with open_rig(name, live_server) as rig:
        shout = rig.face_handler(lambda data: Pong(reply=data.message.upper()), Ping, name="shout")
        rig.face.event(shout)
        assert await rig.peer_call("shout", {"message": "hey"}) == {"reply": "HEY"}


@handler_faces
async def test_handler_validation_failure_replies_422(name: FaceName, live_server: "LiveServer") -> None:
    called = threading.Event()

    def body(data: Ping) -> Pong:
        called.set()
        return echo_pong(data)

    async with open_rig(name, live_server) as rig:
        rig.on(Ping, body, Ping)
        reply = await rig.peer_call("ping", {"message": ["not", "a", "string"]})
        assert reply["kind"] == "error"
        assert reply["status"] == 422
        assert reply["title"]
        assert reply["errors"] and reply["errors"][0]["loc"][-1] == "message"
        assert not called.is_set()

        with pytest.raises(ProblemDetailError) as info:
            await rig.peer_call("ping", {"nope": 1}, response_model=Pong)
        assert info.value.status == 422


@handler_faces
async def test_handler_exception_replies_500_without_the_exception_text(
    name: FaceName, live_server: "LiveServer"
) -> None:
    def body(data: Ping) -> Pong:
        raise RuntimeError("secret-token-1234")

    async with open_rig(name, live_server) as rig:
        rig.on(Ping, body, Ping)
        reply = await rig.peer_call(Ping(message="x"))
        assert reply["kind"] == "error"
        assert reply["status"] == 500
        assert "secret-token-1234" not in json.dumps(reply)
        assert "RuntimeError" not in json.dumps(reply)

        with pytest.raises(ProblemDetailError) as info:
            await rig.peer_call(Ping(message="x"), response_model=Pong)
        assert info.value.status == 500


@handler_faces
async def test_exception_handler_reply(name: FaceName, live_server: "LiveServer") -> None:
    def body(data: Ping) -> Pong:
        if data.message == "key":
            raise KeyError("missing")
        raise ValueError(f"bad {data.message}")

    async with open_rig(name, live_server) as rig:
        if rig.sync:

            @rig.face.exception_handler(ValueError)
            def on_value_error(ctx: EventContext, exc: ValueError) -> dict[str, Any]:
                return {"error": str(exc), "event": ctx.event, "sid": ctx.sid, "data": ctx.data}

            @rig.face.exception_handler(LookupError)
            def on_lookup_error(ctx: EventContext, exc: LookupError) -> dict[str, Any]:
                return {"lookup": type(exc).__name__}

        else:

            @rig.face.exception_handler(ValueError)
            async def on_value_error(ctx: EventContext, exc: ValueError) -> dict[str, Any]:
                return {"error": str(exc), "event": ctx.event, "sid": ctx.sid, "data": ctx.data}

            @rig.face.exception_handler(LookupError)
            def on_lookup_error(ctx: EventContext, exc: LookupError) -> dict[str, Any]:
                return {"lookup": type(exc).__name__}

        rig.on("boom", body, Ping)
        expected_sid = rig.sid if rig.is_server else None
        reply = await rig.peer_call("boom", {"message": "x"})
        assert reply == {"error": "bad x", "event": "boom", "sid": expected_sid, "data": {"message": "x"}}
        assert await rig.peer_call("boom", {"message": "key"}) == {"lookup": "KeyError"}


# -- middleware -----------------------------------------------------------------------------------------


class Gate(Middleware):
    """Answers ``{"blocked": ...}`` itself, without calling the handler, when asked to."""

    def _blocked(self, ctx: InboundContext) -> bool:
        return isinstance(ctx.data, dict) and ctx.data.get("message") == "blocked"

    async def inbound(self, ctx: InboundContext, call_next: Any) -> Any:
        return {"blocked": ctx.event} if self._blocked(ctx) else await call_next(ctx)

    def inbound_sync(self, ctx: InboundContext, call_next: Any) -> Any:
        return {"blocked": ctx.event} if self._blocked(ctx) else call_next(ctx)


@faces
async def test_middleware_order(name: FaceName, live_server: "LiveServer") -> None:
    log: list[tuple[Any, ...]] = []
    a, b, c = Recorder("A", log), Recorder("B", log), Recorder("C", log)
    async with open_rig(name, live_server, middleware=[a]) as rig:
        rig.face.add_middleware(b)
        stack = rig.face.middleware
        assert [type(mw) for mw in stack] == [
            NamingStage,
            LoggingStage,
            ExceptionStage,
            Recorder,
            Recorder,
            ValidationStage,
            DependenciesStage,
        ]
        assert stack[3] is a and stack[4] is b

        # outbound: outer to inner, naming already done, serialisation not yet
        rig.peer.on(Ping, rig.peer_handler(lambda data: {"reply": data["message"]}))
        assert await rig.call(Ping(message="out"), response_model=Pong) == Pong(reply="out")
        assert log == [
            ("A", "out", "ping", "Ping", Pong),
            ("B", "out", "ping", "Ping", Pong),
            ("B", "out-done", "Pong"),
            ("A", "out-done", "Pong"),
        ]
        if name in SIMPLE_FACES:
            return

        # inbound: global middleware, then the handler's own, then the handler
        log.clear()

        def body(data: Ping) -> Pong:
            log.append(("handler", data.message))
            return echo_pong(data)

        rig.on("ask", body, Ping, middleware=[c])
        assert await rig.peer_call("ask", {"message": "in"}) == {"reply": "in"}
        sid = rig.sid if rig.is_server else None
        raw = {"message": "in"}
        assert log == [
            ("A", "in", "ask", "/", sid, raw, ["A"]),
            ("B", "in", "ask", "/", sid, raw, ["A", "B"]),
            ("C", "in", "ask", "/", sid, raw, ["A", "B", "C"]),
            ("handler", "in"),
            ("C", "in-done"),
            ("B", "in-done"),
            ("A", "in-done"),
        ]


@handler_faces
async def test_middleware_may_reply_without_calling_the_handler(
    name: FaceName, live_server: "LiveServer"
) -> None:
    async with open_rig(name, live_server, middleware=[Gate()]) as rig:
        rig.on(Ping, echo_pong)
        assert await rig.peer_call("ping", {"message": "blocked"}) == {"blocked": "ping"}
        assert await rig.peer_call("ping", {"message": "open"}) == {"reply": "open"}


# -- dependencies and context on the handler faces -------------------------------------------------


@handler_faces
async def test_sync_depends(name: FaceName, live_server: "LiveServer") -> None:
    events: list[str] = []

    def get_prefix() -> str:
        return "pre"

    def get_greeting(prefix: Annotated[str, Depends(get_prefix)]) -> str:
        events.append("greeting")
        return f"{prefix}-hello"

    def get_resource(request: SioRequest) -> Iterator[str]:
        events.append("open")
        yield f"resource@{request.app.state.tag}"
        events.append("close")

    def reply(data: Ping, greeting: str, resource: str, ctx: EventContext) -> Pong:
        events.append("handler")
        return Pong(reply=f"{greeting}|{resource}|{data.message}|{ctx.event}")

    app = FastAPI()
    app.state.tag = "app"

    async with open_rig(name, live_server) as rig:
        if rig.is_server:

            def handle_server(
                sid: str,
                data: Ping,
                greeting: Annotated[str, Depends(get_greeting)],
                resource: Annotated[str, Depends(get_resource)],
                ctx: EventContext,
            ) -> Pong:
                assert sid == rig.sid
                return reply(data, greeting, resource, ctx)

            handler: Any = handle_server
        else:

            def handle_client(
                data: Ping,
                greeting: Annotated[str, Depends(get_greeting)],
                resource: Annotated[str, Depends(get_resource)],
                ctx: EventContext,
            ) -> Pong:
                return reply(data, greeting, resource, ctx)

            handler = handle_client
        rig.face.on(Ping, rig.handler(handler))
        rig.face.app = app  # set after registration: read at event time

        assert await rig.peer_call(Ping(message="m"), response_model=Pong) == Pong(
            reply="pre-hello|resource@app|m|ping"
        )
        for _ in range(50):  # the code after ``yield`` may run just after the reply left
            if "close" in events:
                break
            await asyncio.sleep(0.02)
        assert events == ["greeting", "open", "handler", "close"]

        rig.face.dependency_overrides[get_prefix] = lambda: "over"
        assert (await rig.peer_call(Ping(message="n"), response_model=Pong)).reply.startswith("over-hello|")


@pytest.mark.parametrize("name", ["async_server", "sync_server"])
async def test_concurrent_events_keep_their_own_context(name: FaceName, live_server: "LiveServer") -> None:
    """The sync server runs each event in a thread of its own: chains and context stay per event."""

    def body(data: Ping) -> Pong:
        if name == "sync_server":
            time.sleep(0.01)  # let the threads overlap
        structlog.get_logger("user").info("work", n=data.message)
        return Pong(reply=data.message)

    async with open_rig(name, live_server) as rig:
        for i in range(4):
            rig.on(f"ev{i}", body, Ping)
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            replies = await asyncio.gather(
                *(rig.peer_call(f"ev{i % 4}", {"message": str(i)}, response_model=Pong) for i in range(20))
            )
    assert [r.reply for r in replies] == [str(i) for i in range(20)]
    work = sorted((e for e in logs if e.get("event") == "work"), key=lambda e: int(e["n"]))
    assert [(e["sio_event"], e["sid"], e["n"]) for e in work] == [
        (f"ev{i % 4}", rig.sid, str(i)) for i in range(20)
    ]
    inbound = [e for e in logs if e.get("direction") == "in" and e.get("sio_event", "").startswith("ev")]
    assert len(inbound) == 20
    assert all(e["outcome"] == "ok" and e["sid"] == rig.sid for e in inbound)
