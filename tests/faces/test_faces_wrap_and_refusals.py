"""What ``wrap()`` makes of each python-socketio type and what the faces refuse: the face
per type, pass-through attributes, ``app`` and the AsyncAPI schema;
the type errors for anything else, for middleware whose hooks would never run on a face, and for
async handlers, dependencies and exception handlers on the sync faces.

No peers here. No ``from __future__ import annotations``: the handlers and dependencies defined in
the tests must have hints that resolve at registration.
"""

import asyncio
from typing import Annotated, Any

import pytest
import socketio

from tests.support.faces_support import (
    FaceName,
    Recorder,
    echo_pong,
    faces,
    raw_socketio,
)
from tests.support.models import Ping, Pong
from zndraw_socketio import (
    AsyncClientWrapper,
    AsyncManagerWrapper,
    AsyncServerWrapper,
    AsyncSimpleClientWrapper,
    Depends,
    EventContext,
    InboundContext,
    ManagerWrapper,
    Middleware,
    OutboundContext,
    SimpleClientWrapper,
    SyncClientWrapper,
    SyncServerWrapper,
    wrap,
)

SYNC_HANDLER_FACES: tuple[FaceName, ...] = ("sync_server", "sync_client")
ALL_KINDS: dict[str, tuple[Any, type]] = {
    "AsyncServer": (lambda: socketio.AsyncServer(async_mode="asgi"), AsyncServerWrapper),
    "AsyncClient": (socketio.AsyncClient, AsyncClientWrapper),
    "Server": (lambda: socketio.Server(async_mode="threading"), SyncServerWrapper),
    "Client": (socketio.Client, SyncClientWrapper),
    "AsyncSimpleClient": (socketio.AsyncSimpleClient, AsyncSimpleClientWrapper),
    "SimpleClient": (socketio.SimpleClient, SimpleClientWrapper),
    "AsyncManager": (socketio.AsyncManager, AsyncManagerWrapper),
    "Manager": (socketio.Manager, ManagerWrapper),
    "AsyncRedisManager": (
        lambda: socketio.AsyncRedisManager("redis://127.0.0.1:1/0", write_only=True),
        AsyncManagerWrapper,
    ),
    "RedisManager": (
        lambda: socketio.RedisManager("redis://127.0.0.1:1/0", write_only=True),
        ManagerWrapper,
    ),
}


# -- wrap() and what every face has -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_wrap_returns_the_face_for_each_socketio_type(kind: str) -> None:
    make, face_cls = ALL_KINDS[kind]
    raw = make()
    face = wrap(raw)
    assert type(face) is face_cls
    assert face.sio is raw


@pytest.mark.parametrize(
    "thing",
    [object(), "AsyncServer", None, socketio.AsyncServer, socketio.Namespace("/")],
    ids=["object", "str", "None", "class", "namespace"],
)
def test_wrap_of_anything_else_is_a_type_error(thing: Any) -> None:
    with pytest.raises(TypeError, match="AsyncServer") as info:
        wrap(thing)
    assert type(thing).__name__ in str(info.value)


def test_wrap_of_a_wrapper_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="AsyncServerWrapper"):
        wrap(wrap(socketio.AsyncServer(async_mode="asgi")))  # type: ignore[call-overload]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_app_defaults_to_none_and_stays_on_the_wrapper(kind: str) -> None:
    make, _ = ALL_KINDS[kind]
    raw = make()
    face: Any = wrap(raw)
    assert face.app is None
    marker = object()
    face.app = marker
    assert face.app is marker
    assert getattr(raw, "app", None) is not marker


@faces
def test_asyncapi_schema_on_every_face(name: FaceName) -> None:
    if not hasattr(AsyncServerWrapper, "asyncapi_schema"):
        pytest.skip("asyncapi_schema has not landed on the wrappers yet")
    face: Any = wrap(raw_socketio(name))
    assert callable(getattr(type(face), "asyncapi_schema", None)), f"{type(face).__name__} has none"
    schema = face.asyncapi_schema(title="Faces", version="1.0.0")
    assert schema["asyncapi"].startswith("3.")
    assert schema["info"]["title"] == "Faces"


@faces
def test_unknown_attributes_pass_through(name: FaceName) -> None:
    raw = raw_socketio(name)
    face: Any = wrap(raw)
    for attr in ("connected", "async_mode", "namespace_handlers"):
        if hasattr(raw, attr):
            assert getattr(face, attr) == getattr(raw, attr)
    face.custom_attribute = 42
    assert raw.custom_attribute == 42


# -- middleware a face cannot run ---------------------------------------------------------------------


class AsyncOnly(Middleware):
    async def inbound(self, ctx: InboundContext, call_next: Any) -> Any:
        return await call_next(ctx)


class AsyncOutboundOnly(Middleware):
    async def outbound(self, ctx: OutboundContext, call_next: Any) -> Any:
        return await call_next(ctx)


SYNC_WRAPPABLE: dict[str, Any] = {
    "Server": lambda: socketio.Server(async_mode="threading"),
    "Client": socketio.Client,
    "SimpleClient": socketio.SimpleClient,
    "Manager": socketio.Manager,
}


@pytest.mark.parametrize("kind", SYNC_WRAPPABLE)
@pytest.mark.parametrize("mw_cls", [AsyncOnly, AsyncOutboundOnly])
def test_async_only_middleware_is_refused_on_sync_faces(kind: str, mw_cls: type[Middleware]) -> None:
    make = SYNC_WRAPPABLE[kind]
    with pytest.raises(TypeError, match=mw_cls.__name__):
        wrap(make(), middleware=[mw_cls()])

    face: Any = wrap(make())
    before = face.middleware
    with pytest.raises(TypeError, match=mw_cls.__name__):
        face.add_middleware(mw_cls())
    assert face.middleware == before

    if hasattr(face, "on"):

        def handler(data: Any) -> None:
            return None

        with pytest.raises(TypeError, match=mw_cls.__name__):
            face.on("x", handler, middleware=[mw_cls()])
        assert face.routes == ()
        assert "x" not in face.sio.handlers.get("/", {})

    # a middleware with sync hooks is welcome
    recorder = Recorder("ok", [])
    face.add_middleware(recorder)
    assert recorder in face.middleware


@pytest.mark.parametrize("kind", ["AsyncServer", "AsyncClient", "AsyncSimpleClient", "AsyncManager"])
def test_async_only_middleware_is_fine_on_async_faces(kind: str) -> None:
    make, _ = ALL_KINDS[kind]
    face: Any = wrap(make(), middleware=[AsyncOnly()])
    face.add_middleware(AsyncOutboundOnly())
    assert [type(mw) for mw in face.middleware][3:5] == [AsyncOnly, AsyncOutboundOnly]


class SyncOnly(Middleware):
    """Overrides only the sync hooks."""

    def inbound_sync(self, ctx: InboundContext, call_next: Any) -> Any:
        return call_next(ctx)

    def outbound_sync(self, ctx: OutboundContext, call_next: Any) -> Any:
        return call_next(ctx)


@pytest.mark.parametrize("kind", ["AsyncServer", "AsyncClient", "AsyncSimpleClient", "AsyncManager"])
def test_sync_only_middleware_is_refused_on_async_faces(kind: str) -> None:
    """The mirror of the async-only check: a middleware that would never run is an error."""
    make, _ = ALL_KINDS[kind]
    with pytest.raises(TypeError, match="SyncOnly"):
        wrap(make(), middleware=[SyncOnly()])

    face: Any = wrap(make())
    before = face.middleware
    with pytest.raises(TypeError, match="SyncOnly"):
        face.add_middleware(SyncOnly())
    assert face.middleware == before

    if hasattr(face, "on"):

        async def handler(data: Any) -> None:
            return None

        with pytest.raises(TypeError, match="SyncOnly"):
            face.on("x", handler, middleware=[SyncOnly()])
        assert face.routes == ()

    # a middleware with both kinds of hooks is welcome
    recorder = Recorder("ok", [])
    face.add_middleware(recorder)
    assert recorder in face.middleware


# -- handlers and dependencies on sync faces -------------------------------------------------------------


async def async_dependency() -> str:
    return "async"


async def async_generator_dependency() -> Any:
    yield "async-gen"


def sync_over_async(value: Annotated[str, Depends(async_dependency)]) -> str:
    return value


@pytest.mark.parametrize("name", SYNC_HANDLER_FACES)
def test_async_handler_is_refused_on_sync_faces(name: FaceName) -> None:
    face: Any = wrap(raw_socketio(name))

    async def on_ping(data: Ping) -> Pong:
        return echo_pong(data)

    with pytest.raises(TypeError, match="on_ping"):
        face.on(Ping, on_ping)
    with pytest.raises(TypeError, match="on_ping"):
        face.event(on_ping)
    with pytest.raises(TypeError, match="on_ping"):
        face.on("other")(on_ping)
    assert face.routes == ()
    assert not face.sio.handlers.get("/")


@pytest.mark.parametrize("name", SYNC_HANDLER_FACES)
@pytest.mark.parametrize("dependency", [async_dependency, async_generator_dependency, sync_over_async])
def test_async_dependency_is_refused_on_sync_faces(name: FaceName, dependency: Any) -> None:
    face: Any = wrap(raw_socketio(name))

    def handle(data: Ping, value: Annotated[str, Depends(dependency)]) -> Pong:
        return Pong(reply=value)

    def handle_server(sid: str, data: Ping, value: Annotated[str, Depends(dependency)]) -> Pong:
        return Pong(reply=value)

    with pytest.raises(TypeError, match="async"):
        face.on(Ping, handle_server if name == "sync_server" else handle)
    assert face.routes == ()


@pytest.mark.parametrize("name", SYNC_HANDLER_FACES)
def test_async_exception_handler_is_refused_on_sync_faces(name: FaceName) -> None:
    face: Any = wrap(raw_socketio(name))

    async def on_value_error(ctx: EventContext, exc: ValueError) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"error": str(exc)}

    with pytest.raises(TypeError, match="on_value_error"):
        face.exception_handler(ValueError)(on_value_error)
