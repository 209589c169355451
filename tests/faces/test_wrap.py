"""wrap() and the faces: type checks, attribute passthrough, guarded state, ``.app``."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import socketio
from fastapi import FastAPI

from zndraw_socketio import AsyncClientWrapper, AsyncServerWrapper, wrap


@pytest.mark.parametrize("thing", [object(), "socketio", None, socketio.AsyncServer, FastAPI()])
def test_wrap_refuses_what_is_not_socketio(thing: Any) -> None:
    with pytest.raises(TypeError, match="Expected socketio instance"):
        wrap(thing)


def test_wrap_picks_the_face() -> None:
    server = socketio.AsyncServer(async_mode="asgi")
    client = socketio.AsyncClient()
    tsio = wrap(server)
    tclient = wrap(client)
    assert type(tsio) is AsyncServerWrapper
    assert type(tclient) is AsyncClientWrapper
    assert tsio.sio is server
    assert tclient.sio is client


def test_unknown_attributes_read_through() -> None:
    server = socketio.AsyncServer(async_mode="asgi", async_handlers=False)
    tsio = wrap(server)
    assert tsio.async_handlers is False
    assert tsio.manager is server.manager
    assert tsio.reason is server.reason
    assert tsio.enter_room == server.enter_room  # bound methods of the same object


def test_unknown_attributes_write_through() -> None:
    server = socketio.AsyncServer(async_mode="asgi")
    tsio = wrap(server)
    tsio.async_handlers = False
    assert server.async_handlers is False
    tsio.custom_attribute = {"x": 1}
    assert server.custom_attribute == {"x": 1}  # type: ignore[attr-defined]
    assert tsio.custom_attribute == {"x": 1}
    assert "custom_attribute" not in vars(tsio)


def test_missing_attribute_raises_attribute_error() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    with pytest.raises(AttributeError):
        _ = tsio.no_such_thing
    assert getattr(tsio, "no_such_thing", "default") == "default"


def test_private_names_pass_through_and_dunders_do_not() -> None:
    """python-socketio's managers call private methods on the server they were given."""
    server = socketio.AsyncServer(async_mode="asgi")
    tsio = wrap(server)
    assert tsio._trigger_event == server._trigger_event
    with pytest.raises(AttributeError):
        _ = tsio.__wrapped__


def test_copy_does_not_recurse() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    duplicate = copy.copy(tsio)
    assert type(duplicate) is AsyncServerWrapper
    assert duplicate.sio is tsio.sio


def test_handler_table_cannot_be_replaced() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    @tsio.on("x")
    async def x(sid: str) -> None:
        return None

    with pytest.raises(AttributeError, match="handlers"):
        tsio.handlers = {}
    with pytest.raises(AttributeError, match="namespace_handlers"):
        tsio.namespace_handlers = {}
    assert set(tsio.sio.handlers["/"]) == {"x"}
    assert tsio.handlers is tsio.sio.handlers  # reading is fine


def test_app_defaults_to_none_and_is_settable() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    assert tsio.app is None
    app = FastAPI()
    tsio.app = app
    assert tsio.app is app
    assert not hasattr(tsio.sio, "app")  # the app lives on the wrapper, not on socketio
    tclient = wrap(socketio.AsyncClient())
    assert tclient.app is None


def test_server_face_is_its_own_dependency() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    assert tsio() is tsio


def test_wrap_passes_middleware() -> None:
    from zndraw_socketio import Middleware

    class Mine(Middleware):
        pass

    mine = Mine()
    assert mine in wrap(socketio.AsyncClient(), middleware=[mine]).middleware


def test_repr_names_the_socketio_object() -> None:
    server = socketio.AsyncServer(async_mode="asgi")
    assert repr(wrap(server)) == f"AsyncServerWrapper({server!r})"
