"""FastAPI routes that emit over Socket.IO: ``Depends(tsio)`` with ``Emits``, over real sockets."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import pytest
import socketio
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from zndraw_socketio import AsyncClientWrapper, AsyncServerWrapper, Emits, wrap

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.timeout(20)


class SessionLeft(BaseModel):
    room_id: str
    user_id: str


class SelectionChanged(BaseModel):
    key: str
    ids: list[int]


def make_app() -> tuple[AsyncServerWrapper, FastAPI, socketio.ASGIApp]:
    app = FastAPI()
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    tsio.app = app

    @tsio.on("join")
    async def join(sid: str, room: str) -> dict[str, str]:
        await tsio.enter_room(sid, room)
        return {"joined": room}

    @app.put("/{key}/selection")
    async def update_selection(
        sio: Annotated[AsyncServerWrapper, Depends(tsio), Emits(SessionLeft, SelectionChanged)],
        key: str,
        user: str = "anonymous",
    ) -> dict[str, Any]:
        """Update the selection and tell the room.

        More text that is not the summary.
        """
        await sio.emit(SessionLeft(room_id=key, user_id=user), room=key)
        await sio.emit(SelectionChanged(key=key, ids=[1, 2]), room=key)
        return {"status": "ok", "same_wrapper": sio is tsio}

    return tsio, app, socketio.ASGIApp(tsio.sio, other_asgi_app=app)


@asynccontextmanager
async def typed_client(url: str, inbox: list[Any]) -> AsyncIterator[AsyncClientWrapper]:
    """A wrapped client that records the typed events it receives."""
    ctsio = wrap(socketio.AsyncClient())

    @ctsio.on(SessionLeft)
    async def on_left(data: SessionLeft) -> None:
        inbox.append(data)

    @ctsio.on(SelectionChanged)
    async def on_selection(data: SelectionChanged) -> None:
        inbox.append(data)

    @ctsio.on("marker")
    async def on_marker(data: int) -> None:
        inbox.append(("marker", data))

    await ctsio.connect(url, transports=["websocket"], wait_timeout=5)
    try:
        yield ctsio
    finally:
        await ctsio.disconnect()


async def test_rest_route_emits_typed_events_to_a_room(live_server: "LiveServer") -> None:
    tsio, _, asgi = make_app()
    in_room: list[Any] = []
    elsewhere: list[Any] = []
    async with (
        live_server(asgi) as url,
        typed_client(url, in_room) as member,
        typed_client(url, elsewhere) as outsider,
        httpx.AsyncClient(base_url=url, timeout=5) as http,
    ):
        assert await member.call("join", "scene-1", timeout=5) == {"joined": "scene-1"}
        assert await outsider.call("join", "scene-2", timeout=5) == {"joined": "scene-2"}
        response = await http.put("/scene-1/selection", params={"user": "u-7"})
        # a broadcast after the REST emits: one connection delivers in order, so once the marker is
        # in, everything sent to that client before it is in too
        await tsio.emit("marker", 1)
        async with asyncio.timeout(5):
            while len(in_room) < 3 or len(elsewhere) < 1:  # noqa: ASYNC110 - plain lists
                await asyncio.sleep(0.01)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "same_wrapper": True}
    assert in_room == [
        SessionLeft(room_id="scene-1", user_id="u-7"),
        SelectionChanged(key="scene-1", ids=[1, 2]),
        ("marker", 1),
    ]
    assert type(in_room[0]) is SessionLeft
    assert elsewhere == [("marker", 1)]


def test_the_sio_parameter_is_not_part_of_the_http_interface() -> None:
    _, app, _ = make_app()
    operation = app.openapi()["paths"]["/{key}/selection"]["put"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [("key", "path"), ("user", "query")]
    assert "requestBody" not in operation


def test_emits_models_and_calling_the_wrapper() -> None:
    assert Emits(SessionLeft).models == (SessionLeft,)
    assert Emits(SessionLeft, SelectionChanged).models == (SessionLeft, SelectionChanged)
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    assert tsio() is tsio
    sync_tsio = wrap(socketio.Server())
    assert sync_tsio() is sync_tsio
    assert Emits().models == ()  # as in 0.1.6: declares nothing
    with pytest.raises(TypeError):
        Emits(SessionLeft(room_id="r", user_id="u"))
