"""Reserved event names: an EVENT packet named like an event that socket.io itself raises
(``connect``, ``disconnect``; on a client also ``connect_error``) never reaches that event's
handler.

python-socketio hands an EVENT packet's name to the same handler table as its own connection
events, so a connected client that sends an EVENT named ``connect`` would run the connect
handler with an ``environ`` (and ``auth``) it wrote itself, and one named ``disconnect`` the
disconnect handler while it stays connected. ``guard_reserved_events`` puts a check in front of
the object's EVENT handling: such a packet is logged as a failed event and, when it asked for an
ack, answered with a 404 problem detail, as an event no handler takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from socketio import packet

from ._drive import ready
from ._logsafe import log_safely
from .problems import http_problem
from .routing import Role

__all__ = ["CLIENT_RESERVED", "SERVER_RESERVED", "guard_reserved_events", "reserved_problem"]

SERVER_RESERVED = ("connect", "disconnect")
"""Event names a server's handlers receive only from socket.io's own connection handling."""
CLIENT_RESERVED = ("connect", "disconnect", "connect_error")
"""Event names a client's handlers receive only from socket.io's own connection handling."""

_GUARD = "_zndraw_socketio_reserved_guard"


def reserved_problem(event: str) -> dict[str, Any]:
    """The 404 reply to an EVENT packet named like the reserved event ``event``."""
    return http_problem(404, f"{event!r} is a reserved event name: no handler takes it as an event", event)


def guard_reserved_events(sio: Any, role: Role, is_async: bool) -> None:
    """Refuse EVENT packets named like a reserved event on the server or client ``sio``.

    The check is one tuple lookup per event in front of python-socketio's own ``_handle_event``,
    which is called as before for every other name.
    """
    handle: Callable[..., Any] = sio._handle_event
    if getattr(handle, _GUARD, False):  # wrapped twice: one check is enough
        return
    log = structlog.get_logger("zndraw_socketio")

    def refuse(eio_sid: Any, namespace: str | None, ack_id: Any, event: str) -> Any:
        namespace = namespace or "/"
        if role == "server":
            sid = sio.manager.sid_from_eio_sid(eio_sid, namespace)
            connected = sid is not None and sio.manager.is_connected(sid, namespace)
        else:
            sid, connected = None, namespace in sio.namespaces
        if not connected:  # python-socketio drops an event of a namespace it is not connected to
            return ready(None) if is_async else None
        log_safely(
            log.error,
            "sio event failed",
            sio_event=event,
            sid=sid,
            namespace=namespace,
            direction="in",
            outcome="error",
            error="ReservedEventName",
        )
        if ack_id is None:
            return ready(None) if is_async else None
        reply = sio.packet_class(packet.ACK, namespace=namespace, data=[reserved_problem(event)], id=ack_id)
        return sio._send_packet(eio_sid, reply) if role == "server" else sio._send_packet(reply)

    if role == "server":
        names = SERVER_RESERVED

        def handle_server_event(eio_sid: Any, namespace: str | None, ack_id: Any, data: Any) -> Any:
            if data and data[0] in names:
                return refuse(eio_sid, namespace, ack_id, data[0])
            return handle(eio_sid, namespace, ack_id, data)

        setattr(handle_server_event, _GUARD, True)
        sio._handle_event = handle_server_event
        return
    names = CLIENT_RESERVED

    def handle_client_event(namespace: str | None, ack_id: Any, data: Any) -> Any:
        if data and data[0] in names:
            return refuse(None, namespace, ack_id, data[0])
        return handle(namespace, ack_id, data)

    setattr(handle_client_event, _GUARD, True)
    sio._handle_event = handle_client_event
