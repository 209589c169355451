"""The wrapper stands in for its socketio object wherever an app or python-socketio passes it on:
``socketio.ASGIApp(tsio, app)``, and a client manager swapped in after the handlers were
registered (``manager.set_server(tsio); tsio.manager = manager``), whose calls on its "server",
python-socketio's own underscore names included, reach the real server.

No ``from __future__ import annotations`` here: FastAPI reads the route's ``Depends(tsio)`` from
an annotation that names a local.
"""

import copy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import pytest
import socketio
from fastapi import Depends, FastAPI

from tests.support.helpers import TIMEOUT, Inbox, connected, new_server
from tests.support.models import Ping
from zndraw_socketio import AsyncManagerWrapper, AsyncServerWrapper, wrap

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def test_underscore_names_reach_the_socketio_object() -> None:
    """Reads and writes of names the face does not define, private ones included, are the
    socketio object's; dunder lookups (copy, pickle) stay the wrapper's own."""
    tsio = new_server()
    assert tsio._send_packet == tsio.sio._send_packet
    tsio._marker = 1
    assert tsio.sio._marker == 1
    assert "_marker" not in vars(tsio)
    copied = copy.copy(tsio)
    assert copied.sio is tsio.sio
    with pytest.raises(AttributeError):
        _ = tsio._no_such_private_name
    with pytest.raises(AttributeError):
        _ = tsio.__no_such_dunder__


async def test_a_manager_swapped_in_by_the_lifespan_serves_rooms_on_every_node(
    live_server: "LiveServer", redis_url: str
) -> None:
    """Over Redis, with the wrapper given to ``ASGIApp`` and to ``manager.set_server``: a REST
    route's room emit answers 200 and reaches the room, and so does an emit of another process
    (a write-only manager on the same channel)."""
    channel = f"stand-in-{uuid.uuid4().hex}"
    tsio = new_server()
    received = Inbox()

    @tsio.on("join")
    async def join(sid: str, room: str) -> str:
        await tsio.enter_room(sid, room)
        return "joined"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager = socketio.AsyncRedisManager(redis_url, channel=channel)
        manager.set_server(tsio)
        tsio.manager = manager
        tsio.app = app
        yield

    app = FastAPI(lifespan=lifespan)

    @app.put("/rooms/{room}")
    async def notify(room: str, sio: Annotated[AsyncServerWrapper, Depends(tsio)]) -> dict[str, str]:
        await sio.emit(Ping(message=f"rest {room}"), room=room)
        return {"status": "ok"}

    worker: AsyncManagerWrapper = wrap(
        socketio.AsyncRedisManager(redis_url, channel=channel, write_only=True)
    )
    async with live_server(socketio.ASGIApp(tsio, app)) as url, connected(url) as client:
        client.on("ping", received.put)
        assert await client.call("join", "r1", timeout=TIMEOUT) == "joined"
        async with httpx.AsyncClient() as http:
            response = await http.put(f"{url}/rooms/r1")
        assert response.status_code == 200, response.text
        assert await received.get() == {"message": "rest r1"}
        await worker.emit(Ping(message="worker"), room="r1")
        assert await received.get() == {"message": "worker"}
    tsio_manager: Any = tsio.manager
    assert isinstance(tsio_manager, socketio.AsyncRedisManager)
