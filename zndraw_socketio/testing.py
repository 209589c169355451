"""Testing helpers: ``TestClient``, a real socketio client connected to your server in memory, and
``capture_events()``, the events that passed every wrapper while it was open.

::

    async with TestClient(tsio, auth={"token": "t"}) as client:   # tsio = wrap(socketio.AsyncServer())
        assert await client.call(Ping(message="hi"), response_model=Pong) == Pong(reply="hi")

    with TestClient(sync_tsio) as client:                         # wrap(socketio.Server(...))
        client.emit(Ping(message="hi"))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast, overload

import engineio.exceptions
import socketio
import socketio.exceptions

from .chain.capture import CapturedEvent, capture_events
from .faces.wrappers import AsyncClientWrapper, AsyncServerWrapper, SyncClientWrapper, SyncServerWrapper, wrap
from .transport.memory import AsyncMemoryEngine, MemoryEngine

__all__ = ["CapturedEvent", "TestClient", "capture_events"]

URL = "http://testserver"
"""The address a ``TestClient`` connects to; nothing listens there (``Host: testserver``)."""

CONNECT_TIMEOUT = 10.0
"""Seconds a ``TestClient`` waits for the server to accept or refuse each namespace."""

C = TypeVar("C", AsyncClientWrapper, SyncClientWrapper)


class TestClient(Generic[C]):
    """A real python-socketio client, wrapped, connected to the real server ``tsio`` in memory.

    ``async with TestClient(tsio) as client:`` on a wrapped ``socketio.AsyncServer`` yields an
    ``AsyncClientWrapper``; ``with TestClient(tsio) as client:`` on a wrapped ``socketio.Server``
    (``async_mode="threading"``) yields a ``SyncClientWrapper``. No socket, HTTP server or port:
    packets go through python-engineio's and python-socketio's own encoding and handling on both
    ends, so the server sees an ordinary websocket connection (connect handler and typed auth,
    rooms, namespaces, acks, binary attachments, disconnect handler) and its whole chain runs.

    ``auth`` is the connect auth; ``headers`` are the handshake's HTTP headers (the environ's
    ``HTTP_*`` keys, and the ASGI scope's under ``async_mode="asgi"``, as ``SioRequest`` reads
    them); ``namespaces`` are connected on entry (``["/"]`` by default). ``client.sid`` is the sid
    the server knows this client by in ``/``. ``.client`` is the wrapped client before entering,
    to register handlers that must be there when the connection opens.

    A refused connection raises ``socketio.exceptions.ConnectionError(message, data)``, ``data``
    being what the server refused it with (``{"message": ..., "data": <problem detail>}``).
    Leaving the block disconnects and waits until every handler this connection started, the
    server's disconnect handler included, has finished.
    """

    __test__ = False  # not a pytest test class

    @overload
    def __init__(
        self: TestClient[AsyncClientWrapper],
        tsio: AsyncServerWrapper | socketio.AsyncServer,
        *,
        auth: Any = None,
        headers: Mapping[str, str] | None = None,
        namespaces: str | Sequence[str] | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: TestClient[SyncClientWrapper],
        tsio: SyncServerWrapper | socketio.Server,
        *,
        auth: Any = None,
        headers: Mapping[str, str] | None = None,
        namespaces: str | Sequence[str] | None = None,
    ) -> None: ...

    def __init__(
        self,
        tsio: Any,
        *,
        auth: Any = None,
        headers: Mapping[str, str] | None = None,
        namespaces: str | Sequence[str] | None = None,
    ) -> None:
        server = tsio.sio if isinstance(tsio, AsyncServerWrapper | SyncServerWrapper) else tsio
        engine: AsyncMemoryEngine | MemoryEngine
        if isinstance(server, socketio.AsyncServer):
            raw: Any = socketio.AsyncClient(reconnection=False, handle_sigint=False)
            engine = AsyncMemoryEngine(server)
        elif isinstance(server, socketio.Server):
            if server.async_mode != "threading":
                raise TypeError(
                    f"TestClient runs a sync server in async_mode='threading', not {server.async_mode!r}"
                )
            raw = socketio.Client(reconnection=False, handle_sigint=False)
            engine = MemoryEngine(server)
        else:
            raise TypeError(
                "TestClient expects a wrapped socketio server, wrap(socketio.AsyncServer(...)) or "
                f"wrap(socketio.Server(async_mode='threading')), got {type(tsio).__name__}"
            )
        raw.eio = engine  # python-socketio's own client, on the in-memory engine.io client
        engine.on("connect", raw._handle_eio_connect)
        engine.on("message", raw._handle_eio_message)
        engine.on("disconnect", raw._handle_eio_disconnect)
        self.server = server
        """The python-socketio server connected to."""
        self.client: C = cast(Any, wrap(raw))
        """The wrapped client (connected inside the ``with`` block)."""
        self.auth = auth
        self.headers = dict(headers or {})
        self.namespaces = [namespaces] if isinstance(namespaces, str) else list(namespaces or ["/"])
        self._engine = engine

    # -- asyncio -------------------------------------------------------------------------------
    async def __aenter__(self: TestClient[AsyncClientWrapper]) -> AsyncClientWrapper:
        engine = self._engine
        if not isinstance(engine, AsyncMemoryEngine):
            raise TypeError(
                "TestClient of a sync socketio.Server is a sync context manager: "
                "use `with TestClient(tsio) as client:`"
            )
        raw = self.client.sio
        try:
            await raw.connect(URL, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT, **self._options())
        except socketio.exceptions.ConnectionError as exc:
            await engine.drain()
            refused = self._refusal(exc)
            if refused is None:
                raise
            raise refused from exc
        self._opened()
        return self.client

    async def __aexit__(self, *exc_info: object) -> None:
        engine = self._engine
        assert isinstance(engine, AsyncMemoryEngine)
        await self.client.sio.disconnect()
        await engine.drain()

    # -- threads -------------------------------------------------------------------------------
    def __enter__(self: TestClient[SyncClientWrapper]) -> SyncClientWrapper:
        engine = self._engine
        if not isinstance(engine, MemoryEngine):
            raise TypeError(
                "TestClient of a socketio.AsyncServer is an async context manager: "
                "use `async with TestClient(tsio) as client:`"
            )
        raw = self.client.sio
        try:
            raw.connect(URL, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT, **self._options())
        except socketio.exceptions.ConnectionError as exc:
            engine.drain()
            refused = self._refusal(exc)
            if refused is None:
                raise
            raise refused from exc
        self._opened()
        return self.client

    def __exit__(self, *exc_info: object) -> None:
        engine = self._engine
        assert isinstance(engine, MemoryEngine)
        self.client.sio.disconnect()
        engine.drain()

    # -- shared --------------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        return {"headers": self.headers, "auth": self.auth, "namespaces": self.namespaces}

    def _opened(self) -> None:
        raw = self.client.sio
        # python-socketio's client.sid is the engine.io sid; a test wants the one handlers get
        raw.sid = raw.namespaces.get("/", raw.sid)

    def _refusal(self, exc: socketio.exceptions.ConnectionError) -> Exception | None:
        """``exc`` with what the server refused the connection with, or ``None`` if unknown."""
        cause = exc.__cause__
        if isinstance(cause, engineio.exceptions.ConnectionError) and len(cause.args) > 1:
            data = cause.args[1]
        elif self._engine.connect_errors:
            data = self.client.sio.packet_class(encoded_packet=self._engine.connect_errors[0]).data
        else:
            return None
        return socketio.exceptions.ConnectionError(exc.args[0] if exc.args else "Connection refused", data)
