"""What ``zndraw_socketio`` exports: 0.1.6's names with their meaning, the types a middleware is
annotated with, and no built-in stage offered as user middleware."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import socketio

import zndraw_socketio
from zndraw_socketio import Middleware, wrap
from zndraw_socketio.stages import Stage

PUBLISHED_0_1_6 = [
    "AsyncServerWrapper",
    "AsyncClientWrapper",
    "SyncServerWrapper",
    "SyncClientWrapper",
    "SimpleClientWrapper",
    "AsyncSimpleClientWrapper",
    "EventContext",
    "SioRequest",
    "Emits",
    "Depends",
    "get_event_name",
    "wrap",
]


def test_the_published_names_stay_importable_with_their_meaning() -> None:
    for name in PUBLISHED_0_1_6:
        assert hasattr(zndraw_socketio, name), name
    faces = {
        socketio.AsyncServer(async_mode="asgi"): zndraw_socketio.AsyncServerWrapper,
        socketio.AsyncClient(): zndraw_socketio.AsyncClientWrapper,
        socketio.Server(): zndraw_socketio.SyncServerWrapper,
        socketio.Client(): zndraw_socketio.SyncClientWrapper,
        socketio.SimpleClient(): zndraw_socketio.SimpleClientWrapper,
        socketio.AsyncSimpleClient(): zndraw_socketio.AsyncSimpleClientWrapper,
    }
    for sio, face in faces.items():
        assert type(wrap(sio)) is face
    assert zndraw_socketio.get_event_name(zndraw_socketio.SioRequest) == "sio_request"


def test_every_exported_name_is_documented_and_listed() -> None:
    for name in zndraw_socketio.__all__:
        if name == "__version__":
            continue
        value = getattr(zndraw_socketio, name)
        if inspect.isclass(value) or inspect.isfunction(value):  # the call_next aliases are types
            assert inspect.getdoc(value), name
    assert {"InboundNext", "OutboundNext", "InboundNextSync", "OutboundNextSync"} <= set(
        zndraw_socketio.__all__
    )


def test_no_built_in_stage_is_exported_as_middleware() -> None:
    for name in zndraw_socketio.__all__:
        value = getattr(zndraw_socketio, name)
        assert not (isinstance(value, type) and issubclass(value, Stage)), name
    middleware = importlib.import_module("zndraw_socketio.middleware")
    for name in middleware.__all__:
        value = getattr(middleware, name)
        assert not (isinstance(value, type) and issubclass(value, Stage)), name
    assert not issubclass(Middleware, Stage)


def test_the_top_level_holds_at_most_ten_modules() -> None:
    root = Path(inspect.getfile(zndraw_socketio)).parent
    modules = [p for p in Path(root).iterdir() if p.suffix == ".py"]
    assert len(modules) <= 10, sorted(p.name for p in modules)
    too_long = [
        str(p.relative_to(root)) for p in Path(root).rglob("*.py") if len(p.read_text().splitlines()) > 420
    ]
    assert too_long == []
