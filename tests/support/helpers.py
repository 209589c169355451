"""Helpers for the end-to-end tests: a typed server behind FastAPI and real connected clients.

Usage::

    tsio = new_server()
    ...register handlers...
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        reply = await client.call("event", {...}, timeout=TIMEOUT)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import socketio
from fastapi import FastAPI

from zndraw_socketio import (
    AsyncClientWrapper,
    AsyncServerWrapper,
    InboundContext,
    Middleware,
    OutboundContext,
    wrap,
)
from zndraw_socketio.middleware import InboundNext, OutboundNext

TIMEOUT = 5
"""Upper bound, in seconds, for every wait on the network in these tests."""

ClientT = TypeVar("ClientT", socketio.AsyncClient, AsyncClientWrapper)


class Passthrough(Middleware):
    """A user middleware that changes nothing: its presence makes the chain the composed one."""

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        return await call_next(ctx)

    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        return await call_next(ctx)


class OutboundSpy(Middleware):
    """Records ``(kind, event, data, kwargs, response_model)`` of every outbound event, then
    ``("result", result)``, into a shared list."""

    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        self.seen.append((ctx.kind, ctx.event, ctx.data, dict(ctx.kwargs), ctx.response_model))
        result = await call_next(ctx)
        self.seen.append(("result", result))
        return result


STACKS = ("default", "pass-through")
"""The two stacks most tests run under: the default one, and the same with one pass-through user
middleware. Behaviour must not differ between them (the compiled entry is the same, with or
without the user chain inside it)."""


def stack(shape: str) -> list[Middleware]:
    """The user middleware that gives a chain of ``shape`` (one of ``STACKS``)."""
    assert shape in STACKS
    return [] if shape == "default" else [Passthrough()]


def new_server(middleware: Iterable[Middleware] = (), **server_kwargs: Any) -> AsyncServerWrapper:
    """A typed face over a fresh ``socketio.AsyncServer(async_mode="asgi")``."""
    return wrap(socketio.AsyncServer(async_mode="asgi", **server_kwargs), middleware=middleware)


def asgi_app(tsio: AsyncServerWrapper, app: FastAPI | None = None) -> socketio.ASGIApp:
    """FastAPI behind the socket.io server, as an application serves them."""
    return socketio.ASGIApp(tsio.sio, other_asgi_app=app if app is not None else FastAPI())


def raw_sio(client: socketio.AsyncClient | AsyncClientWrapper) -> socketio.AsyncClient:
    """The python-socketio client behind ``client`` (itself when it is not wrapped)."""
    return client.sio if isinstance(client, AsyncClientWrapper) else client


@asynccontextmanager
async def connected(
    url: str,
    client: ClientT | None = None,
    *,
    namespaces: list[str] | None = None,
    auth: Any = None,
) -> AsyncIterator[ClientT]:
    """Connect ``client`` (a new raw ``socketio.AsyncClient`` by default) over websocket to ``url``,
    yield it, and disconnect it at the end."""
    peer: Any = client if client is not None else socketio.AsyncClient()
    sio = raw_sio(peer)
    await sio.connect(url, transports=["websocket"], namespaces=namespaces, auth=auth, wait_timeout=TIMEOUT)
    try:
        yield peer
    finally:
        await sio.disconnect()


@asynccontextmanager
async def connected_wrapped(
    url: str, *, namespaces: list[str] | None = None, auth: Any = None
) -> AsyncIterator[AsyncClientWrapper]:
    """``connected`` with a new typed client."""
    async with connected(url, wrap(socketio.AsyncClient()), namespaces=namespaces, auth=auth) as peer:
        yield peer


class Inbox:
    """Collects what handlers receive, for a test to wait on with a bounded timeout."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def put(self, item: Any) -> None:
        """Record one received item."""
        self.queue.put_nowait(item)

    async def get(self, timeout: float = TIMEOUT) -> Any:
        """The next item, waiting at most ``timeout`` seconds."""
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def nothing_within(self, seconds: float) -> bool:
        """True when nothing arrives within ``seconds``."""
        try:
            await asyncio.wait_for(self.queue.get(), seconds)
        except TimeoutError:
            return True
        return False

    def empty(self) -> bool:
        """True when nothing is waiting to be read."""
        return self.queue.empty()


def record_sids(tsio: AsyncServerWrapper) -> Inbox:
    """Register a connect handler on ``tsio`` that records each connecting client's sid; return
    the inbox the sids arrive in."""
    sids = Inbox()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        sids.put(sid)

    return sids


def typed_client() -> AsyncClientWrapper:
    """A new typed client, not connected yet."""
    return wrap(socketio.AsyncClient())


async def wait_for_condition(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait until ``check()`` is true, at most ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - a predicate over state no event announces
            await asyncio.sleep(0.01)
