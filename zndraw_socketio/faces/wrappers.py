"""The faces users hold: thin wrappers over one ``Core``, one per kind of socketio object."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, Self, TypeVar, overload

import socketio
from typing_extensions import TypeForm

from ..events.route import Role
from ..middleware.base import Middleware
from ..transport.admin import instrument
from ..transport.bounds import Bounds
from ..transport.patches import Options
from ..transport.registry import patch_names
from ..transport.shutdown import drain, on_signals
from .base import AsyncSender, Face, Handlers, SyncSender

Codec = Literal["pydantic"] | None
"""``wrap(..., codec=...)``: ``"pydantic"`` (pydantic-core's JSON on the wire) or ``None``."""

__all__ = [
    "AsyncClientWrapper",
    "AsyncManagerWrapper",
    "AsyncServerWrapper",
    "AsyncSimpleClientWrapper",
    "ManagerWrapper",
    "SimpleClientWrapper",
    "SyncClientWrapper",
    "SyncServerWrapper",
    "wrap",
]

T = TypeVar("T")


class _ServerFace(Handlers):
    """What both server faces add: ``Depends(tsio)`` support and namespace registration."""

    def __call__(self) -> Self:
        """Return the wrapper itself, so that ``Depends(tsio)`` injects it into a FastAPI route."""
        return self

    def register_namespace(self, namespace_handler: Any) -> None:
        """socketio's ``register_namespace``; its connect handler keeps ``request.auth`` working."""
        self._core.register_namespace(namespace_handler)

    def instrument(self, *args: Any, **kwargs: Any) -> Any:
        """socketio's ``instrument()`` (the Socket.IO Admin UI), with socketio's arguments; returns
        its instrumentation. Any number of servers of a process may be instrumented, each one
        reporting its own packets (socketio's own fails every connection with ``RecursionError``
        from the second instrumented server of a process on)."""
        if not self._core.active("admin_instrumentation"):
            return self.sio.instrument(*args, **kwargs)
        return instrument(self.sio, *args, **kwargs)


class AsyncServerWrapper(_ServerFace, AsyncSender):
    """A typed face over ``socketio.AsyncServer``."""

    async def shutdown(self, grace: float = 10.0) -> None:
        """Shut down gracefully, then stop python-socketio's background tasks (its ``shutdown()``).

        New events are answered with a 503 problem detail at once; the handlers already running
        get ``grace`` seconds to finish and reply; the rest are cancelled, their ``yield``
        dependencies closed, and their callers answered with the 503 while the connection is
        open. Handlers that python-socketio runs inline (``async_handlers=False``) are not
        waited for. Calling it again does nothing more.
        """
        patched = self._core.active("graceful_shutdown")  # else python-socketio's own, at once
        if not patched or await drain(self.sio, grace):
            await self.sio.shutdown()

    def shutdown_on_signals(self, grace: float = 10.0) -> None:
        """Run ``shutdown(grace)`` when SIGTERM or SIGINT arrives, then hand the signal to the
        handler installed before (uvicorn's), so that in-flight handlers reply before uvicorn
        closes the connections. Call it from the app's lifespan startup."""
        on_signals(lambda: self.shutdown(grace))


class AsyncClientWrapper(Handlers, AsyncSender):
    """A typed face over ``socketio.AsyncClient``."""

    _role: Role = "client"


class SyncServerWrapper(_ServerFace, SyncSender):
    """A typed face over ``socketio.Server``; handlers, dependencies and middleware hooks are sync."""


class SyncClientWrapper(Handlers, SyncSender):
    """A typed face over ``socketio.Client``; handlers, dependencies and middleware hooks are sync."""

    _role: Role = "client"


class AsyncSimpleClientWrapper(AsyncSender):
    """A typed face over ``socketio.AsyncSimpleClient``; usable as ``async with``."""

    _role: Role = "client"

    @overload
    async def receive(self, response_model: TypeForm[T], timeout: float | None = None) -> tuple[str, T]: ...

    @overload
    async def receive(self, response_model: None = None, timeout: float | None = None) -> tuple[str, Any]: ...

    async def receive(self, response_model: Any = None, timeout: float | None = None) -> tuple[str, Any]:
        """Wait for the next event and return ``(event, data)``, ``data`` validated against
        ``response_model`` when given (``None`` for an event without arguments, a tuple for
        several)."""
        event, *args = await self.sio.receive(timeout=timeout)
        return event, await self._core.receiver(response_model)(event, *args)

    async def __aenter__(self) -> AsyncSimpleClientWrapper:
        await self.sio.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.sio.__aexit__(*exc_info)


class SimpleClientWrapper(SyncSender):
    """A typed face over ``socketio.SimpleClient``; usable as ``with``."""

    _role: Role = "client"

    @overload
    def receive(self, response_model: TypeForm[T], timeout: float | None = None) -> tuple[str, T]: ...

    @overload
    def receive(self, response_model: None = None, timeout: float | None = None) -> tuple[str, Any]: ...

    def receive(self, response_model: Any = None, timeout: float | None = None) -> tuple[str, Any]:
        """Wait for the next event and return ``(event, data)``, ``data`` validated against
        ``response_model`` when given (``None`` for an event without arguments, a tuple for
        several)."""
        event, *args = self.sio.receive(timeout=timeout)
        return event, self._core.receiver(response_model)(event, *args)

    def __enter__(self) -> SimpleClientWrapper:
        self.sio.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sio.__exit__(*exc_info)


class AsyncManagerWrapper(AsyncSender):
    """A typed face over an async client manager (e.g. ``socketio.AsyncRedisManager(url,
    write_only=True)``): a worker process emits typed events to clients on every server node."""


class ManagerWrapper(SyncSender):
    """A typed face over a client manager (e.g. ``socketio.RedisManager(url, write_only=True)``)."""


_FACES: tuple[tuple[type, type[Face]], ...] = (
    (socketio.AsyncServer, AsyncServerWrapper),
    (socketio.AsyncClient, AsyncClientWrapper),
    (socketio.Server, SyncServerWrapper),
    (socketio.Client, SyncClientWrapper),
    (socketio.AsyncSimpleClient, AsyncSimpleClientWrapper),
    (socketio.SimpleClient, SimpleClientWrapper),
    (socketio.AsyncManager, AsyncManagerWrapper),
    (socketio.Manager, ManagerWrapper),
)


@overload
def wrap(
    sio: socketio.AsyncServer,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> AsyncServerWrapper: ...
@overload
def wrap(
    sio: socketio.AsyncClient,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> AsyncClientWrapper: ...
@overload
def wrap(
    sio: socketio.Server,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> SyncServerWrapper: ...
@overload
def wrap(
    sio: socketio.Client,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> SyncClientWrapper: ...
@overload
def wrap(
    sio: socketio.AsyncSimpleClient,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> AsyncSimpleClientWrapper: ...
@overload
def wrap(
    sio: socketio.SimpleClient,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> SimpleClientWrapper: ...
@overload
def wrap(
    sio: socketio.AsyncManager,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> AsyncManagerWrapper: ...
@overload
def wrap(
    sio: socketio.Manager,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> ManagerWrapper: ...


def _checked_names(names: Iterable[str]) -> list[str]:
    known = patch_names()
    names = [names] if isinstance(names, str) else list(names)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown patch names {unknown!r}; the patches are {list(known)!r}")
    return names


def wrap(
    sio: Any,
    *,
    middleware: Iterable[Middleware] = (),
    codec: Codec = "pydantic",
    websocket_loop: bool = True,
    bounds: Bounds | None = None,
    skip_patches: Iterable[str] = (),
) -> Any:
    """Wrap a python-socketio object in its typed face, with ``middleware`` installed.

    Takes ``AsyncServer``, ``AsyncClient``, ``Server``, ``Client``, ``AsyncSimpleClient``,
    ``SimpleClient`` and the client managers (``AsyncRedisManager(url, write_only=True)``...);
    raises ``TypeError`` for anything else.

    ``codec="pydantic"`` (the default) gives ``sio`` itself a socket.io packet class on
    pydantic-core's JSON (and its client manager the same JSON): faster, and valid JSON on the
    wire (``NaN`` and ``±Infinity`` are sent as ``null``); received payloads are bounded (nesting
    and integer length), and an undecodable packet that asked for an ack is answered with a 400
    problem detail. A serializer or ``json=`` module chosen for ``sio`` is kept. ``codec=None``
    leaves python-socketio's codec as it is.

    ``websocket_loop=True`` (the default) gives the engine.io server of an ``AsyncServer``, and the
    engine.io client of an ``AsyncClient``, websocket loops that do what engine.io's own do but
    await each packet in place, without a task and a timer per packet; ``False`` keeps
    engine.io's loops (which the simple clients and the synchronous faces always keep).

    ``bounds`` (``Bounds()`` by default) limits what a peer can make ``sio`` hold: binary
    attachments per packet, their bytes and waiting time, and each websocket connection's
    outbound buffer. Every use of a python-socketio or python-engineio internal is a named patch,
    checked here against what is installed (``tsio.patches`` says which are active);
    ``skip_patches`` names patches to leave out, and a patch whose check fails is left out with
    one warning. A mock with ``spec=`` gets none of them.
    """
    if codec not in ("pydantic", None):
        raise ValueError(f"codec must be 'pydantic' or None, got {codec!r}")
    skipped = {name: "switched off with wrap(skip_patches=...)" for name in _checked_names(skip_patches)}
    if codec is None:
        skipped["codec"] = "switched off with wrap(codec=None)"
    if not websocket_loop:
        skipped["server_websocket_loop"] = skipped["client_websocket_loop"] = (
            "switched off with wrap(websocket_loop=False)"
        )
    options = Options(bounds=bounds if bounds is not None else Bounds(), skipped=skipped)
    for kind, face in _FACES:
        if isinstance(sio, kind):
            return face(sio, middleware=middleware, options=options)
    raise TypeError(
        "Expected socketio instance (AsyncServer, AsyncClient, Server, Client, AsyncSimpleClient, "
        f"SimpleClient or a client manager), got {type(sio).__name__}"
    )
