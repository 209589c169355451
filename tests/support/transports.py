"""One test, two transports: a wrapped client connected to the server over a real loopback
websocket (uvicorn on 127.0.0.1), or in memory (``zndraw_socketio.testing.TestClient``).

Usage::

    async with serving(transport, tsio, live_server) as connect, connect(auth=...) as client:
        reply = await client.call("event", {...}, timeout=TIMEOUT)

(``live_server`` is the conftest fixture; the loopback transport serves with it.)

``connect(setup=..., auth=..., headers=..., namespaces=...)`` yields a connected
``AsyncClientWrapper`` (``setup(client)`` runs before it connects, to register client handlers)
and disconnects it on exit. On both transports the server's sid for the client is
``client.get_sid()``. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import socketio

from tests.support.helpers import TIMEOUT, asgi_app
from zndraw_socketio import AsyncClientWrapper, AsyncServerWrapper, wrap
from zndraw_socketio.testing import TestClient

if TYPE_CHECKING:
    from tests.conftest import LiveServer

TRANSPORTS = ("loopback", "memory")

Setup = Callable[[AsyncClientWrapper], Any]


class Connect(Protocol):
    """What ``serving`` yields: opens one connected client."""

    def __call__(
        self,
        *,
        setup: Setup | None = None,
        auth: Any = None,
        headers: dict[str, str] | None = None,
        namespaces: Sequence[str] | None = None,
    ) -> AbstractAsyncContextManager[AsyncClientWrapper]: ...


Serve = Callable[[AsyncServerWrapper], AbstractAsyncContextManager[Connect]]
"""``serving`` with its transport chosen: ``serve(tsio)``."""


@asynccontextmanager
async def serving(
    transport: str, tsio: AsyncServerWrapper, live_server: LiveServer
) -> AsyncIterator[Connect]:
    """Make ``tsio`` reachable over ``transport`` (one of ``TRANSPORTS``); yield its ``connect``."""
    if transport == "memory":
        yield partial(_in_memory, tsio)
    elif transport == "loopback":
        async with live_server(asgi_app(tsio)) as url:
            yield partial(_over_loopback, url)
    else:  # pragma: no cover - a typo in a test
        raise ValueError(f"unknown transport {transport!r}, expected one of {TRANSPORTS}")


@asynccontextmanager
async def _in_memory(
    tsio: AsyncServerWrapper,
    *,
    setup: Setup | None = None,
    auth: Any = None,
    headers: dict[str, str] | None = None,
    namespaces: Sequence[str] | None = None,
) -> AsyncIterator[AsyncClientWrapper]:
    test_client = TestClient(tsio, auth=auth, headers=headers, namespaces=namespaces)
    if setup is not None:
        setup(test_client.client)
    async with test_client as client:
        yield client


@asynccontextmanager
async def _over_loopback(
    url: str,
    *,
    setup: Setup | None = None,
    auth: Any = None,
    headers: dict[str, str] | None = None,
    namespaces: Sequence[str] | None = None,
) -> AsyncIterator[AsyncClientWrapper]:
    client = wrap(socketio.AsyncClient(reconnection=False))
    if setup is not None:
        setup(client)
    await client.sio.connect(
        url,
        transports=["websocket"],
        headers=headers or {},
        auth=auth,
        namespaces=list(namespaces or ["/"]),
        wait_timeout=TIMEOUT,
    )
    try:
        yield client
    finally:
        await client.sio.disconnect()
