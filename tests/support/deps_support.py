"""Helpers shared by the ``test_dependencies_*`` modules: a live server, a client, polling, a dependency.

Not collected by pytest (no ``test_`` prefix).
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import socketio
from fastapi import FastAPI

from zndraw_socketio import AsyncServerWrapper, wrap


def make_server() -> tuple[AsyncServerWrapper, socketio.ASGIApp]:
    """A wrapped AsyncServer mounted in front of a FastAPI app."""
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    return tsio, socketio.ASGIApp(tsio.sio, other_asgi_app=FastAPI())


@asynccontextmanager
async def connected(
    url: str, *, headers: dict[str, str] | None = None, auth: Any = None
) -> AsyncIterator[socketio.AsyncClient]:
    """A raw socketio client connected over websocket, disconnected on exit."""
    client = socketio.AsyncClient()
    await client.connect(url, transports=["websocket"], headers=headers or {}, auth=auth, wait_timeout=5)
    try:
        yield client
    finally:
        await client.disconnect()


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the state lives in plain lists
            await asyncio.sleep(0.01)


def word_of_the_day() -> str:
    """A plain sync dependency with nothing to inject."""
    return "dep"
