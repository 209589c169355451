"""``SioRequest.state``: ``None`` on a request built by hand without an app (as in 0.1.6), one
``State`` per event on the requests the wrapper builds, with or without ``.app``."""

from __future__ import annotations

from typing import Annotated, Any

import socketio
from fastapi import FastAPI
from starlette.datastructures import State

from tests.support.helpers import TIMEOUT, new_server
from zndraw_socketio import Depends, SioRequest, wrap
from zndraw_socketio.testing import TestClient

ENVIRON = {"REMOTE_ADDR": "10.0.0.1", "HTTP_HOST": "example.org", "PATH_INFO": "/socket.io/"}


def test_a_request_built_without_an_app_has_no_state() -> None:
    """``SioRequest()``, ``SioRequest(app=None)`` and ``SioRequest(app=None, environ=...)`` have
    ``state is None``; the rest of the request is as before (the environ's headers and client)."""
    assert SioRequest().state is None
    assert SioRequest(app=None).state is None
    request = SioRequest(app=None, environ=dict(ENVIRON))
    assert request.state is None
    assert request.headers is not None and request.headers["host"] == "example.org"
    assert request.client is not None and request.client.host == "10.0.0.1"


def test_a_request_built_with_an_app_has_a_state_of_its_own() -> None:
    """With an app, ``state`` is a ``State``: the same object on every read, another one for
    another request, and not the app's ``state``."""
    app = FastAPI()
    first, second = SioRequest(app=app), SioRequest(app=app, environ=dict(ENVIRON))
    assert isinstance(first.state, State)
    assert first.state is first.state
    assert second.state is not first.state
    assert first.state is not app.state


def marks(request: SioRequest) -> list[str]:
    """A dependency that leaves a mark in the event's state."""
    state = request.state
    assert state is not None
    state.marks = ["dependency"]
    return state.marks


async def test_each_event_of_a_wrapper_without_an_app_has_its_state() -> None:
    """A handler and its dependency share one ``State`` per event even though the wrapper has no
    ``.app``: what the dependency put there is seen by the handler, and the next event starts
    afresh."""
    tsio = new_server()
    assert tsio.app is None

    @tsio.on("visit")
    async def visit(
        sid: str, data: int, seen: Annotated[list[str], Depends(marks)], request: SioRequest
    ) -> dict[str, Any]:
        state = request.state
        assert state is not None
        state.marks.append(f"handler {data}")
        return {"app": request.app, "marks": state.marks, "shared": seen is state.marks}

    async with TestClient(tsio) as client:
        replies = [await client.call("visit", n, timeout=TIMEOUT) for n in (1, 2)]
    assert replies == [
        {"app": None, "marks": ["dependency", "handler 1"], "shared": True},
        {"app": None, "marks": ["dependency", "handler 2"], "shared": True},
    ]


async def test_a_client_handlers_request_has_a_state_without_an_app() -> None:
    """On a typed client without ``.app``, the request of an event from the server has a
    ``State`` too (its connection attributes are ``None``)."""
    tsio = new_server()
    async with TestClient(tsio) as client:
        typed: Any = client
        assert typed.app is None

        @typed.on("probe")
        async def probe(data: int, request: SioRequest) -> dict[str, Any]:
            return {"state": isinstance(request.state, State), "environ": request.environ}

        reply = await tsio.call("probe", 1, to=client.sid, timeout=TIMEOUT)
    assert reply == {"state": True, "environ": None}


def test_a_sync_server_event_without_an_app_has_a_state() -> None:
    """The same on a wrapped ``socketio.Server`` (``async_mode="threading"``), in memory."""
    tsio = wrap(socketio.Server(async_mode="threading"))

    @tsio.on("visit")
    def visit(sid: str, data: int, request: SioRequest) -> bool:
        return isinstance(request.state, State)

    with TestClient(tsio) as client:
        assert client.call("visit", 1, timeout=TIMEOUT) is True
