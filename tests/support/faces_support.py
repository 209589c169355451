"""Helpers for the face matrix: real peers over loopback for each of the six faces.

Every face under test talks to a real python-socketio peer in the same process:

- a server face (``AsyncServerWrapper`` under uvicorn, ``SyncServerWrapper`` under werkzeug's
  threaded WSGI server with simple-websocket) is reached by a wrapped ``AsyncClient`` peer;
- a client face (``AsyncClientWrapper``, ``SyncClientWrapper`` and both simple clients) connects to
  a wrapped ``AsyncServer`` peer served by uvicorn.

The peer always lives in the test's event loop. Blocking calls on synchronous faces go through
``asyncio.to_thread`` so that the loop keeps serving uvicorn and the peer meanwhile.

Also shared by the ``test_faces_*`` modules: the ``faces``/``handler_faces``/``simple_faces``
parametrize marks, ``echo_pong`` and the ``Recorder`` middleware.
"""

import asyncio
import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import socketio
from fastapi import FastAPI
from pydantic import BaseModel
from werkzeug.serving import make_server

from tests.support.models import Ping, Pong
from zndraw_socketio import (
    AsyncClientWrapper,
    AsyncServerWrapper,
    InboundContext,
    Middleware,
    OutboundContext,
    wrap,
)

TIMEOUT = 5.0

FaceName = Literal["async_server", "async_client", "sync_server", "sync_client", "async_simple", "simple"]

FACES: tuple[FaceName, ...] = (
    "async_server",
    "async_client",
    "sync_server",
    "sync_client",
    "async_simple",
    "simple",
)
HANDLER_FACES: tuple[FaceName, ...] = ("async_server", "async_client", "sync_server", "sync_client")
SERVER_FACES: tuple[FaceName, ...] = ("async_server", "sync_server")
SYNC_FACES: tuple[FaceName, ...] = ("sync_server", "sync_client", "simple")
SIMPLE_FACES: tuple[FaceName, ...] = ("async_simple", "simple")

faces = pytest.mark.parametrize("name", FACES)
handler_faces = pytest.mark.parametrize("name", HANDLER_FACES)
simple_faces = pytest.mark.parametrize("name", SIMPLE_FACES)


def echo_pong(data: Ping) -> Pong:
    return Pong(reply=data.message)


class Recorder(Middleware):
    """Records the order it sees events in, on async and sync faces alike."""

    def __init__(self, label: str, log: list[tuple[Any, ...]]) -> None:
        self.label = label
        self.log = log

    def _in(self, ctx: InboundContext) -> None:
        ctx.state.setdefault("seen", []).append(self.label)
        self.log.append(
            (self.label, "in", ctx.event, ctx.namespace, ctx.sid, ctx.data, list(ctx.state["seen"]))
        )

    def _out(self, ctx: OutboundContext) -> None:
        self.log.append((self.label, "out", ctx.event, type(ctx.data).__name__, ctx.response_model))

    async def inbound(self, ctx: InboundContext, call_next: Any) -> Any:
        self._in(ctx)
        result = await call_next(ctx)
        self.log.append((self.label, "in-done"))
        return result

    def inbound_sync(self, ctx: InboundContext, call_next: Any) -> Any:
        self._in(ctx)
        result = call_next(ctx)
        self.log.append((self.label, "in-done"))
        return result

    async def outbound(self, ctx: OutboundContext, call_next: Any) -> Any:
        self._out(ctx)
        result = await call_next(ctx)
        self.log.append((self.label, "out-done", type(result).__name__))
        return result

    def outbound_sync(self, ctx: OutboundContext, call_next: Any) -> Any:
        self._out(ctx)
        result = call_next(ctx)
        self.log.append((self.label, "out-done", type(result).__name__))
        return result


def raw_socketio(name: FaceName) -> Any:
    """A fresh python-socketio object of the kind the face ``name`` wraps."""
    if name == "async_server":
        return socketio.AsyncServer(async_mode="asgi")
    if name == "sync_server":
        return socketio.Server(async_mode="threading")
    if name == "async_client":
        return socketio.AsyncClient()
    if name == "sync_client":
        return socketio.Client()
    if name == "async_simple":
        return socketio.AsyncSimpleClient()
    return socketio.SimpleClient()


def asgi_app(server: Any) -> socketio.ASGIApp:
    """A FastAPI app with the python-socketio ``server`` mounted in front of it."""
    return socketio.ASGIApp(server, other_asgi_app=FastAPI())


@contextlib.contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app with werkzeug's threaded server (websockets through simple-websocket)
    from a daemon thread; yield its base URL and shut it down afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="werkzeug"
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@dataclass
class Rig:
    """One face under test, connected to its peer.

    ``sid`` is the client's sid as the server knows it (the peer's when the face is a server, the
    face's when it is a client).
    """

    name: FaceName
    face: Any
    peer: Any
    sid: str
    loop: asyncio.AbstractEventLoop
    _queues: dict[str, asyncio.Queue[Any]] = field(default_factory=dict)

    @property
    def sync(self) -> bool:
        """True for the synchronous faces (their calls block; their handlers are sync)."""
        return self.name in SYNC_FACES

    @property
    def is_server(self) -> bool:
        return self.name in SERVER_FACES

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a method of the face: awaited on async faces, in a worker thread on sync ones."""
        if self.sync:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return await fn(*args, **kwargs)

    def handler(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` as a handler for this face: as is on sync faces, as an ``async def`` with the
        same signature and hints on async faces."""
        if self.sync:
            return fn

        @functools.wraps(fn)
        async def async_handler(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return async_handler

    def face_handler(
        self, body: Callable[[Any], Any], model: Any = Any, *, name: str | None = None
    ) -> Callable[..., Any]:
        """A handler for the face whose payload parameter is hinted ``model`` and whose reply is
        ``body(data)``: ``(sid, data)`` on servers, ``(data)`` on clients, sync or async as the
        face requires; its ``__name__`` is ``name`` when given."""
        if self.is_server:

            def server_handler(sid: str, data: model) -> Any:  # type: ignore[valid-type]
                return body(data)

            fn: Callable[..., Any] = server_handler
        else:

            def client_handler(data: model) -> Any:  # type: ignore[valid-type]
                return body(data)

            fn = client_handler
        if name is not None:
            fn.__name__ = fn.__qualname__ = name
        return self.handler(fn)

    def on(
        self,
        event: str | type[BaseModel],
        body: Callable[[Any], Any],
        model: Any = None,
        **kwargs: Any,
    ) -> Callable[..., Any]:
        """Register on the face ``face_handler(body, model)`` for ``event``; ``model`` defaults to
        the event's model class, else ``Any``. ``kwargs`` go to ``face.on``."""
        if model is None:
            model = event if isinstance(event, type) else Any
        handler = self.face_handler(body, model)
        self.face.on(event, handler, **kwargs)
        return handler

    def peer_handler(self, body: Callable[[Any], Any], model: Any = Any) -> Callable[..., Any]:
        """An async handler for the peer whose payload parameter is hinted ``model`` and whose
        reply is ``body(data)``: ``(sid, data)`` when the peer is the server."""
        if self.is_server:  # the peer is a client

            async def on_client(data: model) -> Any:  # type: ignore[valid-type]
                return body(data)

            return on_client

        async def on_server(sid: str, data: model) -> Any:  # type: ignore[valid-type]
            return body(data)

        return on_server

    # -- the face speaks ----------------------------------------------------------------------
    async def emit(self, *args: Any, **kwargs: Any) -> Any:
        """``face.emit(...)`` towards the peer."""
        if self.is_server:
            kwargs.setdefault("to", self.sid)
        return await self.run(self.face.emit, *args, **kwargs)

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        """``face.call(...)`` towards the peer, with a bounded timeout."""
        if self.is_server:
            kwargs.setdefault("to", self.sid)
        kwargs.setdefault("timeout", TIMEOUT)
        return await self.run(self.face.call, *args, **kwargs)

    # -- the peer speaks ----------------------------------------------------------------------
    async def peer_call(self, *args: Any, **kwargs: Any) -> Any:
        """``peer.call(...)`` towards the face (the face's handlers reply), bounded."""
        if not self.is_server:
            kwargs.setdefault("to", self.sid)
        kwargs.setdefault("timeout", TIMEOUT)
        return await self.peer.call(*args, **kwargs)

    async def peer_emit(self, *args: Any, **kwargs: Any) -> Any:
        """``peer.emit(...)`` towards the face."""
        if not self.is_server:
            kwargs.setdefault("to", self.sid)
        return await self.peer.emit(*args, **kwargs)

    # -- collecting what arrives ----------------------------------------------------------------
    def queue(self, key: str) -> asyncio.Queue[Any]:
        """A queue that handlers on any thread may ``put`` into."""
        return self._queues.setdefault(key, asyncio.Queue())

    def put(self, key: str, item: Any) -> None:
        """Put ``item`` in queue ``key`` from any thread."""
        queue = self.queue(key)
        self.loop.call_soon_threadsafe(queue.put_nowait, item)

    async def get(self, key: str) -> Any:
        """The next item of queue ``key``, waiting at most ``TIMEOUT``."""
        return await asyncio.wait_for(self.queue(key).get(), TIMEOUT)

    def peer_collects(self, event: str | type[BaseModel], model: Any) -> str:
        """Register a peer handler for ``event`` that validates its payload as ``model`` and
        collects it; return the queue key."""
        key = f"peer:{event if isinstance(event, str) else event.__name__}"
        put = self.put
        self.peer.on(event, self.peer_handler(lambda data: put(key, data), model))
        return key


@contextlib.asynccontextmanager
async def open_rig(
    name: FaceName,
    live_server: Callable[[Any], contextlib.AbstractAsyncContextManager[str]],
    *,
    middleware: Iterable[Middleware] = (),
) -> AsyncIterator[Rig]:
    """Build the face ``name`` (with ``middleware``) and its peer, connect them, yield the rig."""
    loop = asyncio.get_running_loop()
    face: Any = wrap(raw_socketio(name), middleware=middleware)
    if name in SERVER_FACES:
        client: AsyncClientWrapper = wrap(socketio.AsyncClient())
        if name == "async_server":
            serving: Any = live_server(asgi_app(face.sio))
        else:
            serving = _async_cm(serve_wsgi(socketio.WSGIApp(face.sio)))
        async with serving as url:
            await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
            try:
                yield Rig(name, face, client, client.get_sid("/"), loop)
            finally:
                await client.disconnect()
        return

    server: AsyncServerWrapper = wrap(socketio.AsyncServer(async_mode="asgi"))
    connected: asyncio.Queue[str] = asyncio.Queue()

    @server.on("connect")
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        connected.put_nowait(sid)

    async with live_server(asgi_app(server.sio)) as url:
        rig = Rig(name, face, server, "", loop)
        await rig.run(face.connect, url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            rig.sid = await asyncio.wait_for(connected.get(), TIMEOUT)
            yield rig
        finally:
            await rig.run(face.disconnect)


@contextlib.asynccontextmanager
async def _async_cm(cm: contextlib.AbstractContextManager[str]) -> AsyncIterator[str]:
    with cm as value:
        yield value
