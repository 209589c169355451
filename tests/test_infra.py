"""The shared fixtures work, shown with raw python-socketio (no zndraw_socketio)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import redis
import socketio
import structlog
from fastapi import FastAPI

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def make_app() -> tuple[socketio.ASGIApp, FastAPI]:
    """A FastAPI app with a python-socketio server mounted in front of it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.started = True
        yield

    app = FastAPI(lifespan=lifespan)
    app.state.started = False

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "started": app.state.started}

    sio = socketio.AsyncServer(async_mode="asgi")

    @sio.event
    async def echo(sid: str, data: Any) -> Any:
        return data

    return socketio.ASGIApp(sio, other_asgi_app=app), app


async def test_socketio_call_round_trip(live_server: LiveServer) -> None:
    asgi, _ = make_app()
    async with live_server(asgi) as url:
        client = socketio.AsyncClient()
        await client.connect(url, transports=["websocket"], wait_timeout=5)
        try:
            reply = await client.call("echo", {"message": "hello"}, timeout=5)
        finally:
            await client.disconnect()
    assert reply == {"message": "hello"}


async def test_http_route_on_the_same_server(live_server: LiveServer) -> None:
    asgi, app = make_app()
    async with live_server(asgi) as url, httpx.AsyncClient(base_url=url, timeout=5) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    # The lifespan ran: uvicorn passed it through socketio.ASGIApp to FastAPI.
    assert response.json() == {"status": "ok", "started": True}
    assert app.state.started is True


async def test_socketio_and_http_share_one_server(live_server: LiveServer) -> None:
    asgi, _ = make_app()
    async with live_server(asgi) as url, httpx.AsyncClient(base_url=url, timeout=5) as http:
        client = socketio.AsyncClient()
        await client.connect(url, transports=["websocket"], wait_timeout=5)
        try:
            response = await http.get("/health")
            reply = await client.call("echo", [1, 2, 3], timeout=5)
        finally:
            await client.disconnect()
    assert response.status_code == 200
    assert reply == [1, 2, 3]


async def test_server_stops_on_exit(live_server: LiveServer) -> None:
    asgi, _ = make_app()
    async with live_server(asgi) as url:
        pass
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/health")


async def test_servers_get_distinct_ports(live_server: LiveServer) -> None:
    async with live_server(make_app()[0]) as first, live_server(make_app()[0]) as second:
        assert first != second


def test_redis_url_pings(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
    try:
        assert client.ping() is True
    finally:
        client.close()


@pytest.mark.parametrize("run", [1, 2])
def test_structlog_state_does_not_leak_between_tests(run: int) -> None:
    # Each run leaves structlog configured and a context variable bound; the autouse fixtures
    # must hand the next run a clean slate.
    assert not structlog.is_configured()
    assert structlog.contextvars.get_contextvars() == {}
    structlog.configure(processors=[structlog.processors.JSONRenderer()])
    structlog.contextvars.bind_contextvars(sio_event=f"run-{run}")
