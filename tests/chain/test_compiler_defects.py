"""One test per defect the single compiler removed: what used to differ between the default stack
and the same stack with a pass-through user middleware, and the compatibility promises of 0.1.6."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Annotated, Any

import pytest
import socketio
import structlog
from starlette.datastructures import URL, Address, Headers

from tests.support.differential import PassEverything, run_case
from tests.support.differential_cases import CASES
from tests.support.faces_support import (
    FACES,
    TIMEOUT,
    FaceName,
    Recorder,
    open_rig,
    raw_socketio,
    simple_faces,
)
from tests.support.inprocess import AsyncServerPeer, event_packet
from tests.support.models import Ping, Pong
from zndraw_socketio import (
    Depends,
    Emits,
    EventContext,
    InboundContext,
    Middleware,
    OutboundContext,
    SioRequest,
    merge_sio_context,
    wrap,
)
from zndraw_socketio.middleware import InboundNext
from zndraw_socketio.stages import (
    DependenciesStage,
    ExceptionStage,
    LoggingStage,
    NamingStage,
    ValidationStage,
)

if TYPE_CHECKING:
    from tests.conftest import LiveServer

STACKS = {"default": [], "pass-through": [PassEverything()]}
CASE = {case.name: case for case in CASES}


def quiet_debug() -> None:
    """structlog with debug entries filtered out, as in production."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            merge_sio_context,
            structlog.contextvars.merge_contextvars,
            structlog.testing.LogCapture(),
        ],
    )


@pytest.mark.parametrize(
    "shape", ["wraps_decorated", "callable_object", "partial", "plain_def_returning_awaitable"]
)
async def test_a_handler_returning_an_awaitable_is_awaited(shape: str) -> None:
    for stack in ("none", "one"):
        result = await run_case("async_server", CASE[shape], stack)
        assert result["valid"]["sent"] in (['31[{"reply":"hi"}]'], ['31[{"reply":"hi!"}]']), (shape, stack)


SEEN: list[tuple[str, int]] = []


def dependency(ctx: InboundContext) -> str:
    """Records the context it gets and writes to its state."""
    SEEN.append(("dependency", id(ctx)))
    ctx.state["from_dependency"] = 1
    return "d"


def real() -> str:
    """The dependency the override test replaces."""
    return "real"


@pytest.mark.parametrize("stack", list(STACKS))
async def test_dependency_handler_and_exception_handler_share_one_context(stack: str) -> None:
    peer = AsyncServerPeer()
    tsio = wrap(peer.sio, middleware=STACKS[stack])
    seen = SEEN
    seen.clear()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping, ctx: EventContext, d: Annotated[str, Depends(dependency)]) -> Pong:
        assert isinstance(ctx, InboundContext)
        seen.append(("handler", id(ctx)))
        assert type(ctx.values[0]) is Ping  # validated, not the raw payload
        raise ValueError("boom")

    @tsio.exception_handler(ValueError)
    def on_error(ctx: EventContext, exc: ValueError) -> dict[str, Any]:
        assert isinstance(ctx, InboundContext)
        seen.append(("exception handler", id(ctx)))
        return {"state": ctx.state}

    await peer.connect()
    await peer.feed(event_packet("ping", {"message": "m"}))
    assert peer.acks() == ['31[{"state":{"from_dependency":1}}]']
    assert [who for who, _ in seen] == ["dependency", "handler", "exception handler"]
    assert len({ident for _, ident in seen}) == 1


@pytest.mark.parametrize("stack", list(STACKS))
async def test_a_wrong_keyword_to_emit_raises_on_await_and_is_logged(stack: str) -> None:
    quiet_debug()
    peer = AsyncServerPeer()
    tsio = wrap(peer.sio, middleware=STACKS[stack])
    await peer.connect()
    await tsio.emit(Ping(message="first"), to=peer.sid)  # the model class is known: the fast path
    await tsio.emit(Ping(message="second"), to=peer.sid)
    capture = structlog.get_config()["processors"][-1]
    capture.entries.clear()
    pending = tsio.emit(Ping(message="m"), to=peer.sid, no_such_keyword=1)  # nothing raised yet
    with pytest.raises(TypeError, match="no_such_keyword"):
        await pending
    (entry,) = capture.entries
    assert (entry["sio_event"], entry["direction"], entry["outcome"], entry["error"]) == (
        "ping",
        "out",
        "error",
        "TypeError",
    )


@pytest.mark.parametrize("face", ["async_server", "async_client"])
async def test_emit_and_call_fail_on_await_on_async_faces(face: FaceName) -> None:
    tsio: Any = wrap(raw_socketio(face))
    for pending in (
        tsio.emit(Ping(message="m"), {"also": "data"}),
        tsio.emit(Ping(message="m"), data={"also": "data"}),
        tsio.call(Ping(message="m"), data={"also": "data"}, response_model=Pong),
        tsio.emit(Ping),
        tsio.emit(42),
    ):
        with pytest.raises(TypeError):
            await pending


@pytest.mark.parametrize("name", FACES)
async def test_model_and_data_keyword_are_refused_on_every_face(name: FaceName) -> None:
    tsio: Any = wrap(raw_socketio(name))
    for method in ("emit", "call"):
        with pytest.raises(TypeError, match="Cannot provide both"):
            result = getattr(tsio, method)(Ping(message="m"), data={"x": 1})
            if asyncio.iscoroutine(result):
                await result


async def failing_ping(stack: str, exception_handler: Any) -> tuple[AsyncServerPeer, Any]:
    """A connected peer whose ``ping`` handler raises ``ValueError``, taken by ``exception_handler``."""
    peer = AsyncServerPeer()
    tsio = wrap(peer.sio, middleware=STACKS[stack])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        raise ValueError("boom")

    tsio.exception_handler(ValueError)(exception_handler)
    await peer.connect()
    return peer, tsio


async def test_error_entries_come_in_the_same_order_on_every_stack() -> None:
    def unserialisable(ctx: EventContext, exc: ValueError) -> Any:
        return object()

    results = {}
    for stack in STACKS:
        peer, _ = await failing_ping(stack, unserialisable)
        with structlog.testing.capture_logs() as logs:
            await peer.feed(event_packet("ping", {"message": "m"}))
        results[stack] = ([e["event"] for e in logs], peer.acks())
    assert results["default"] == results["pass-through"]
    events, acks = results["default"]
    assert events == ["sio reply not serialisable", "sio event failed"]
    assert '"status":500' in acks[0]


async def test_a_cancellation_inside_an_exception_handler_is_logged_the_same_on_every_stack() -> None:
    async def cancelled(ctx: EventContext, exc: ValueError) -> Any:
        raise asyncio.CancelledError

    results = {}
    for stack in STACKS:
        peer, tsio = await failing_ping(stack, cancelled)
        entry = tsio.sio.handlers["/"]["ping"]
        with structlog.testing.capture_logs() as logs, pytest.raises(asyncio.CancelledError):
            await entry(peer.sid, {"message": "m"})
        results[stack] = [(e["event"], e["error"], e["outcome"]) for e in logs]
    assert results["default"] == results["pass-through"] == [("sio event failed", "CancelledError", "error")]


@pytest.mark.parametrize(
    "stage",
    [NamingStage, LoggingStage, ExceptionStage, ValidationStage, DependenciesStage],
)
def test_built_in_stages_cannot_be_added_as_user_middleware(stage: type) -> None:
    instance = stage() if stage is not DependenciesStage else stage({}, lambda ctx: SioRequest())
    with pytest.raises(TypeError, match="built-in stage"):
        wrap(socketio.AsyncServer(), middleware=[instance])
    tsio = wrap(socketio.AsyncServer())
    with pytest.raises(TypeError, match="built-in stage"):
        tsio.add_middleware(instance)
    with pytest.raises(TypeError, match="built-in stage"):
        tsio.on("x", lambda sid: None, middleware=[instance])
    names = [type(mw).__name__ for mw in tsio.middleware]
    assert names == [
        "NamingStage",
        "LoggingStage",
        "ExceptionStage",
        "ValidationStage",
        "DependenciesStage",
    ]


async def test_overrides_apply_on_the_next_event_per_wrapper_in_bounded_memory() -> None:
    peers = [AsyncServerPeer(), AsyncServerPeer()]
    wrappers = [wrap(peer.sio) for peer in peers]
    for tsio in wrappers:

        @tsio.on(Ping)
        async def ping(sid: str, data: Ping, w: Annotated[str, Depends(real)]) -> Pong:
            return Pong(reply=w)

    for peer in peers:
        await peer.connect()

    async def replies() -> list[str]:
        out = []
        for peer in peers:
            peer.sent.clear()
            await peer.feed(event_packet("ping", {"message": "m"}))
            out.append(peer.acks()[0])
        return out

    assert await replies() == ['31[{"reply":"real"}]'] * 2
    for i in range(300):  # many distinct replacements, one at a time
        wrappers[0].dependency_overrides[real] = functools.partial(str, f"fake{i}")
        assert (await replies())[0] == f'31[{{"reply":"fake{i}"}}]'
    assert (await replies())[1] == '31[{"reply":"real"}]'  # the other wrapper is untouched
    plans = wrappers[0]._core.stages.dependencies.plans
    assert 0 < len(plans) <= plans.limit
    wrappers[0].dependency_overrides.clear()
    assert await replies() == ['31[{"reply":"real"}]'] * 2


async def test_the_exception_stage_tells_middleware_what_it_did() -> None:
    seen: list[tuple[Any, bool]] = []

    class Observer(Middleware):
        async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
            try:
                return await call_next(ctx)
            finally:
                seen.append((type(ctx.error).__name__ if ctx.error else None, ctx.handled))

    peer = AsyncServerPeer()
    tsio = wrap(peer.sio, middleware=[Observer()])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        raise ValueError("boom")

    @tsio.exception_handler(ValueError)
    def handled(ctx: EventContext, exc: ValueError) -> str:
        return "handled"

    await peer.connect()
    await peer.feed(event_packet("ping", {"message": "m"}))
    assert peer.acks() == ['31["handled"]']
    # the user middleware runs inside the exception stage: it sees the exception pass through
    assert seen == [(None, False)]


@simple_faces
async def test_receive_runs_the_inbound_chain(name: FaceName, live_server: LiveServer) -> None:
    log: list[tuple[Any, ...]] = []
    async with open_rig(name, live_server, middleware=[Recorder("mw", log)]) as rig:
        with structlog.testing.capture_logs() as logs:
            await rig.peer_emit(Pong(reply="typed"))
            event, data = await rig.run(rig.face.receive, response_model=Pong, timeout=TIMEOUT)
            await rig.peer_emit("bad", {"nope": 1})
            with pytest.raises(Exception, match="validation error"):
                await rig.run(rig.face.receive, response_model=Pong, timeout=TIMEOUT)
    assert (event, data) == ("pong", Pong(reply="typed"))
    inbound = [entry for entry in log if entry[1] == "in"]
    assert [(e[2], e[5]) for e in inbound] == [("pong", {"reply": "typed"}), ("bad", {"nope": 1})]
    entries = [e for e in logs if e["event"] in ("sio event", "sio event failed") and e["direction"] == "in"]
    assert [(e["sio_event"], e["outcome"]) for e in entries] == [("pong", "ok"), ("bad", "error")]


def test_sio_request_is_constructible_as_in_0_1_6() -> None:
    request = SioRequest(app="app", environ=None)
    assert request.app == "app"
    assert (request.headers, request.client, request.url, request.query_params, request.scope) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert request.cookies == {}
    assert request.auth is None
    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "REMOTE_PORT": "5000",
        "HTTP_HOST": "example.org",
        "HTTP_COOKIE": "a=1",
        "PATH_INFO": "/socket.io/",
        "QUERY_STRING": "x=1",
        "zndraw_socketio.auth": {"/": {"token": "t"}},
    }
    request = SioRequest(app=None, environ=environ)
    assert isinstance(request.headers, Headers) and request.headers["host"] == "example.org"
    assert request.client == Address("10.0.0.1", 5000)
    assert isinstance(request.url, URL) and request.url.path == "/socket.io/"
    assert request.query_params is not None and request.query_params["x"] == "1"
    assert request.cookies == {"a": "1"}
    assert request.auth == {"token": "t"}
    assert request.state is request.state


def test_emits_without_a_model_declares_nothing() -> None:
    assert Emits().models == ()


@pytest.mark.parametrize("stack", list(STACKS))
async def test_an_exception_handler_sees_the_validated_payload(stack: str) -> None:
    peer = AsyncServerPeer()
    tsio = wrap(peer.sio, middleware=STACKS[stack])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        raise ValueError("boom")

    @tsio.exception_handler(ValueError)
    def on_error(ctx: EventContext, exc: ValueError) -> list[str]:
        assert isinstance(ctx, InboundContext)
        return [type(value).__name__ for value in ctx.values] + [str(ctx.data)]

    await peer.connect()
    await peer.feed(event_packet("ping", {"message": "m"}))
    assert peer.acks() == ["31[[\"Ping\",\"{'message': 'm'}\"]]"]


def _slots(obj: Any) -> dict[str, Any]:
    names = [name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ())]
    assert names, type(obj)
    return {name: getattr(obj, name) for name in names}


async def test_contexts_equal_the_constructed_ones() -> None:
    """The contexts a middleware sees equal, field by field, ones its constructor builds."""
    seen: list[Any] = []

    class Keep(Middleware):
        async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
            seen.append(_slots(ctx))
            return await call_next(ctx)

        async def outbound(self, ctx: OutboundContext, call_next: Any) -> Any:
            seen.append(_slots(ctx))
            return await call_next(ctx)

    peer = AsyncServerPeer()
    tsio = wrap(peer.sio, middleware=[Keep()])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    await peer.connect()
    await peer.feed(event_packet("ping", {"message": "m"}))
    await tsio.emit(Ping(message="o"), to=peer.sid)
    inbound, outbound = seen
    (route,) = tsio.routes
    assert inbound == _slots(InboundContext(route, "ping", "/", peer.sid, (peer.sid,), ({"message": "m"},)))
    expected = OutboundContext("emit", "ping", Ping(message="o"), {"to": peer.sid}, None)
    assert outbound == _slots(expected)
