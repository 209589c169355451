"""The table of patches (see ``patches.py``): every upstream internal the package relies on.

``PATCHES`` lists them in the order ``wrap()`` installs them. A patch with no installer is one the
chain applies itself while it is active (``future_call``, ``manager_emit``) or that runs later
(``admin_instrumentation`` on ``tsio.instrument()``, ``graceful_shutdown`` on
``tsio.shutdown()``); its check still runs when ``wrap()`` does.
"""

from __future__ import annotations

from typing import Any

import socketio

from .acks import server_call_needs
from .admin import ADMIN_INSTRUMENTATION
from .auth import forget_auth_on_leave
from .client_loop import client_loop_needs, install_client_loops
from .codec import codec_needs
from .guards import guard_reserved_events, guard_simple_client
from .patches import (
    ASYNC_CLIENT,
    ASYNC_SERVER,
    CLIENTS,
    MANAGERS,
    SERVERS,
    SIMPLE_CLIENTS,
    Patch,
    first,
    needs,
    takes,
)
from .publishing import watch_publishes
from .websocket_loop import install_websocket_loop, server_loop_needs
from .wire import install_codec

__all__ = ["PATCHES", "patch_names"]


def _everything(sio: Any) -> bool:
    return True


def _reserved_needs(sio: Any) -> str | None:
    if SIMPLE_CLIENTS(sio):
        return needs(sio, "client_class", "client_kwargs")
    params = ("eio_sid", "namespace", "id", "data") if SERVERS(sio) else ("namespace", "id", "data")
    return first(
        lambda: needs(sio, "_handle_event", "_send_packet", "packet_class"),
        lambda: takes(type(sio)._handle_event, *params, what=f"{type(sio).__name__}._handle_event"),
    )


def _install_reserved(sio: Any, options: Any) -> None:
    if SIMPLE_CLIENTS(sio):
        guard_simple_client(sio)
    else:
        guard_reserved_events(
            sio, "server" if SERVERS(sio) else "client", ASYNC_SERVER(sio) or ASYNC_CLIENT(sio)
        )


def _auth_needs(sio: Any) -> str | None:
    manager: Any = getattr(sio, "manager", None)
    return first(
        lambda: (
            None if isinstance(getattr(sio, "environ", None), dict) else "the server keeps no environ dict"
        ),
        lambda: needs(manager, "basic_disconnect", "eio_sid_from_sid", what="its client manager"),
        lambda: takes(manager.basic_disconnect, "sid", "namespace", what="basic_disconnect"),
    )


def _publisher(sio: Any) -> Any:
    return sio if MANAGERS(sio) else getattr(sio, "manager", None)


def _publishes(sio: Any) -> bool:
    return (SERVERS(sio) or MANAGERS(sio)) and hasattr(_publisher(sio), "_publish")


def _publish_needs(sio: Any) -> str | None:
    return needs(_publisher(sio), "_publish", "_get_logger", what="the pub/sub manager")


def _emit_overridden(sio: Any) -> str | None:
    return "the server class overrides emit" if type(sio).emit is not socketio.AsyncServer.emit else None


def _call_overridden(sio: Any) -> str | None:
    base = socketio.AsyncServer if ASYNC_SERVER(sio) else socketio.AsyncClient
    return f"{type(sio).__name__} overrides call" if type(sio).call is not base.call else None


def _manager_emit_needs(sio: Any) -> str | None:
    manager: Any = getattr(sio, "manager", None)
    return first(
        lambda: needs(manager, "emit", what="its client manager"),
        lambda: takes(manager.emit, "event", "data", "namespace", "room", what="the manager's emit"),
    )


def _shutdown_needs(sio: Any) -> str | None:
    return first(
        lambda: needs(sio, "_handle_event", "_handle_event_internal", "async_handlers"),
        lambda: takes(
            type(sio)._handle_event_internal, "server", "sid", "eio_sid", "data", "namespace", "id"
        ),
    )


PATCHES: tuple[Patch, ...] = (
    Patch(
        "codec",
        "socket.io packets on pydantic-core's JSON, with bounded payloads and binary attachments",
        _everything,
        codec_needs,
        install_codec,
    ),
    Patch(
        "server_websocket_loop",
        "the engine.io server's websocket loop awaiting each packet in place, with a bounded "
        "outbound buffer per connection",
        ASYNC_SERVER,
        server_loop_needs,
        lambda sio, options: install_websocket_loop(sio.eio, options),
    ),
    Patch(
        "client_websocket_loop",
        "the engine.io client's websocket read and write loops awaiting each packet in place",
        ASYNC_CLIENT,
        client_loop_needs,
        lambda sio, options: install_client_loops(sio.eio),
    ),
    Patch(
        "reserved_events",
        "EVENT packets named like a reserved event refused before python-socketio's _handle_event",
        lambda sio: SERVERS(sio) or CLIENTS(sio) or SIMPLE_CLIENTS(sio),
        _reserved_needs,
        _install_reserved,
    ),
    Patch(
        "auth_on_leave",
        "the kept connect auth of a namespace dropped in the manager's basic_disconnect",
        SERVERS,
        _auth_needs,
        lambda sio, options: forget_auth_on_leave(sio),
    ),
    Patch(
        "publish_logging",
        "scale-out publishes the pub/sub manager drops logged through structlog",
        _publishes,
        _publish_needs,
        lambda sio, options: watch_publishes(_publisher(sio)),
    ),
    Patch(
        "future_call",
        "call() awaiting one future instead of python-socketio's wait_for",
        lambda sio: ASYNC_SERVER(sio) or ASYNC_CLIENT(sio),
        server_call_needs,
        declines=_call_overridden,
    ),
    Patch(
        "manager_emit",
        "emit(model, to=sid) handed to the client manager's emit, as the server's own emit does",
        ASYNC_SERVER,
        _manager_emit_needs,
        declines=_emit_overridden,
    ),
    ADMIN_INSTRUMENTATION,
    Patch(
        "graceful_shutdown",
        "tsio.shutdown() finding the running handler tasks and refusing new events",
        ASYNC_SERVER,
        _shutdown_needs,
    ),
)


def patch_names() -> tuple[str, ...]:
    """Every patch's name, in installation order."""
    return tuple(patch.name for patch in PATCHES)
