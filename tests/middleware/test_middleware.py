"""Custom middleware: order, installation, per-handler stacks, short-circuits, errors, connect.

What outbound middleware sees of ``emit``/``call`` is in ``test_middleware_outbound.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import socketio
import socketio.exceptions
from pydantic import ValidationError

from tests.support.helpers import (
    TIMEOUT,
    Inbox,
    OutboundSpy,
    asgi_app,
    connected,
    connected_wrapped,
    new_server,
    record_sids,
)
from tests.support.models import Ping, Pong
from zndraw_socketio import (
    EventContext,
    InboundContext,
    Middleware,
    OutboundContext,
    wrap,
)
from zndraw_socketio.di.signature import build_route
from zndraw_socketio.middleware import InboundNext, OutboundNext
from zndraw_socketio.stages import (
    DependenciesStage,
    ExceptionStage,
    LoggingStage,
    NamingStage,
    ValidationStage,
)

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class Recorder(Middleware):
    """Records ``name:in``/``name:out`` around every inbound event into a shared list."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        self.log.append(f"{self.name}:in:{ctx.event}")
        result = await call_next(ctx)
        self.log.append(f"{self.name}:out:{ctx.event}")
        return result


def ping_server(log: list[str], middleware: list[Middleware] | None = None) -> Any:
    tsio = new_server(middleware=middleware or [])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        log.append(f"handler:{data.message}")
        return Pong(reply=data.message)

    return tsio


async def test_two_middlewares_run_in_order(live_server: LiveServer) -> None:
    log: list[str] = []
    tsio = ping_server(log, [Recorder("A", log), Recorder("B", log)])
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
    assert log == ["A:in:ping", "B:in:ping", "handler:m", "B:out:ping", "A:out:ping"]


async def test_add_middleware_after_registration_recomposes(live_server: LiveServer) -> None:
    log: list[str] = []
    tsio = ping_server(log)
    entry_before = tsio.sio.handlers["/"]["ping"]
    tsio.add_middleware(Recorder("A", log))
    tsio.add_middleware(Recorder("B", log))
    assert tsio.sio.handlers["/"]["ping"] is not entry_before  # the chain was composed again
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "x"}, timeout=TIMEOUT) == {"reply": "x"}
    assert log == ["A:in:ping", "B:in:ping", "handler:x", "B:out:ping", "A:out:ping"]


async def test_per_handler_middleware_runs_inside_global_and_only_there(live_server: LiveServer) -> None:
    log: list[str] = []
    tsio = new_server(middleware=[Recorder("global", log)])

    @tsio.on(Ping, middleware=[Recorder("local1", log), Recorder("local2", log)])
    async def ping(sid: str, data: Ping) -> Pong:
        log.append("handler:ping")
        return Pong(reply=data.message)

    @tsio.on("other")
    async def other(sid: str) -> str:
        log.append("handler:other")
        return "o"

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        await client.call("ping", {"message": "m"}, timeout=TIMEOUT)
        await client.call("other", timeout=TIMEOUT)
    assert log == [
        "global:in:ping",
        "local1:in:ping",
        "local2:in:ping",
        "handler:ping",
        "local2:out:ping",
        "local1:out:ping",
        "global:out:ping",
        "global:in:other",
        "handler:other",
        "global:out:other",
    ]


class ShortCircuit(Middleware):
    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        if isinstance(ctx.data, dict) and ctx.data.get("message") == "blocked":
            return {"blocked": True, "event": ctx.event}
        if ctx.data == {"message": "model"}:
            return Pong(reply="from middleware")
        return await call_next(ctx)


async def test_short_circuit_value_is_the_reply(live_server: LiveServer) -> None:
    log: list[str] = []
    tsio = ping_server(log, [ShortCircuit()])
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "blocked"}, timeout=TIMEOUT) == {
            "blocked": True,
            "event": "ping",
        }
        assert await client.call("ping", {"message": "model"}, timeout=TIMEOUT) == {
            "reply": "from middleware"
        }
        assert await client.call("ping", {"message": "fine"}, timeout=TIMEOUT) == {"reply": "fine"}
    assert log == ["handler:fine"]


class Forbidden(Exception):
    pass


class Guard(Middleware):
    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        if ctx.event == "ping" and ctx.data == {"message": "forbidden"}:
            raise Forbidden("no entry")
        return await call_next(ctx)


async def test_middleware_exception_reaches_exception_handler(live_server: LiveServer) -> None:
    log: list[str] = []
    tsio = ping_server(log, [Guard()])

    @tsio.exception_handler(Forbidden)
    async def on_forbidden(ctx: EventContext, exc: Forbidden) -> dict[str, Any]:
        return {"status": 403, "detail": str(exc), "event": ctx.event}

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        got = await client.call("ping", {"message": "forbidden"}, timeout=TIMEOUT)
    assert got == {"status": 403, "detail": "no entry", "event": "ping"}
    assert log == []


class Inspector(Middleware):
    """Sees the raw payload (it sits outside validation) and may catch validation errors."""

    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        self.seen.append((ctx.event, ctx.namespace, ctx.sid is not None, ctx.data))
        try:
            return await call_next(ctx)
        except ValidationError as exc:
            return {"caught": exc.error_count()}


async def test_user_middleware_sits_outside_validation(live_server: LiveServer) -> None:
    seen: list[Any] = []
    tsio = ping_server([], [Inspector(seen)])
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "ok"}, timeout=TIMEOUT) == {"reply": "ok"}
        assert await client.call("ping", {"message": 3}, timeout=TIMEOUT) == {"caught": 1}
    assert seen == [("ping", "/", True, {"message": "ok"}), ("ping", "/", True, {"message": 3})]


class Stateful(Middleware):
    def __init__(self, observed: list[dict[str, Any]]) -> None:
        self.observed = observed

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        self.observed.append(dict(ctx.state))  # always empty: the state is per event
        ctx.state["message"] = ctx.data["message"]
        return await call_next(ctx)


class StateReader(Middleware):
    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        ctx.state["seen_by_inner"] = ctx.state["message"].upper()
        return await call_next(ctx)


async def test_state_is_per_event(live_server: LiveServer) -> None:
    observed: list[dict[str, Any]] = []
    tsio = new_server(middleware=[Stateful(observed), StateReader()])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping, ctx: InboundContext) -> dict[str, Any]:
        return dict(ctx.state)

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {
            "message": "a",
            "seen_by_inner": "A",
        }
        assert await client.call("ping", {"message": "b"}, timeout=TIMEOUT) == {
            "message": "b",
            "seen_by_inner": "B",
        }
    assert observed == [{}, {}]


async def test_client_middleware_sees_both_directions(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    seen: list[Any] = []
    inbound: list[Any] = []
    client = wrap(socketio.AsyncClient(), middleware=[OutboundSpy(seen), Inspector(inbound)])

    @client.on("note")
    async def note(data: str) -> str:
        return data

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        assert await client.call(Ping(message="c"), timeout=TIMEOUT) == {"reply": "c"}
        sid = await sids.get()
        assert await tsio.call("note", "hello", to=sid, timeout=TIMEOUT) == "hello"
    assert seen == [
        ("call", "ping", Ping(message="c"), {"timeout": TIMEOUT}, None),
        ("result", {"reply": "c"}),
    ]
    # on a client the sid is None
    assert inbound == [("note", "/", False, "hello")]


class OutboundShortCircuit(Middleware):
    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        if ctx.event == "ping":
            return "not sent"
        return await call_next(ctx)


async def test_outbound_short_circuit_sends_nothing(live_server: LiveServer) -> None:
    tsio = new_server()
    inbox = Inbox()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> None:
        inbox.put(data)

    async with live_server(asgi_app(tsio)) as url:
        client = wrap(socketio.AsyncClient(), middleware=[OutboundShortCircuit()])
        async with connected(url, client):
            assert await client.emit(Ping(message="x")) == "not sent"
            assert await inbox.nothing_within(0.2)
        async with connected_wrapped(url) as plain:
            await plain.emit(Ping(message="y"))
            assert await inbox.get() == Ping(message="y")


class AuthGuard(Middleware):
    """Refuses connections whose auth lacks the right token; ``ctx.data`` of a connect is the auth."""

    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        if ctx.event == "connect":
            self.seen.append(ctx.data)
            if ctx.data != {"token": "ok"}:
                raise socketio.exceptions.ConnectionRefusedError("denied", {"need": "token"})
        return await call_next(ctx)


async def test_middleware_can_refuse_a_connection(live_server: LiveServer) -> None:
    seen: list[Any] = []
    tsio = new_server(middleware=[AuthGuard(seen)])
    connects = Inbox()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        connects.put(sid)

    async with live_server(asgi_app(tsio)) as url:
        refused = socketio.AsyncClient(reconnection=False)
        errors = Inbox()
        refused.on("connect_error", errors.put)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(url, transports=["websocket"], auth={"token": "bad"}, wait_timeout=TIMEOUT)
        assert await errors.get() == {"message": "denied", "data": {"need": "token"}}
        assert connects.empty()
        async with connected(url, auth={"token": "ok"}) as client:
            assert await connects.get() == client.get_sid("/")
    assert seen == [{"token": "bad"}, {"token": "ok"}]


# -- the stack as an object ------------------------------------------------------------------------


def test_middleware_property_lists_the_whole_stack() -> None:
    a, b, c = Recorder("a", []), Recorder("b", []), ShortCircuit()
    tsio = new_server(middleware=[a, b])
    tsio.add_middleware(c)
    stack = tsio.middleware
    assert [type(m) for m in stack] == [
        NamingStage,
        LoggingStage,
        ExceptionStage,
        Recorder,
        Recorder,
        ShortCircuit,
        ValidationStage,
        DependenciesStage,
    ]
    assert stack[3:6] == (a, b, c)


def test_middleware_class_instead_of_instance_is_refused() -> None:
    with pytest.raises(TypeError, match="pass an instance"):
        new_server(middleware=[ShortCircuit])  # type: ignore[list-item]
    tsio = new_server()
    with pytest.raises(TypeError, match="pass an instance"):
        tsio.add_middleware(ShortCircuit)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pass an instance"):
        tsio.on("x", lambda sid: None, middleware=[ShortCircuit])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="Middleware instance"):
        tsio.add_middleware(object())  # type: ignore[arg-type]
    assert tsio.middleware[3:-2] == ()
    assert "x" not in tsio.sio.handlers.get("/", {})


async def _nxt(ctx: Any) -> Any:
    return None


def test_idle_middleware_is_left_out_of_the_chain() -> None:
    async def handler(sid: str, data: Ping) -> None:
        return None

    route = build_route("ping", "/", handler, "server")
    assert Middleware().wrap_inbound(route, _nxt) is _nxt
    assert Middleware().wrap_outbound(_nxt) is _nxt
    # a middleware with only one hook is left out of the other direction
    assert ShortCircuit().wrap_outbound(_nxt) is _nxt
    assert ShortCircuit().wrap_inbound(route, _nxt) is not _nxt
    assert OutboundShortCircuit().wrap_inbound(route, _nxt) is _nxt
    assert OutboundShortCircuit().wrap_outbound(_nxt) is not _nxt
