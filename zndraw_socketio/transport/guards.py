"""Guards in front of python-socketio's EVENT handling: reserved event names, and a draining server.

python-socketio hands an EVENT packet's name to the same handler table as its own connection
events, so a connected client that sends an EVENT named ``connect`` would run the connect
handler with an ``environ`` (and ``auth``) it wrote itself, and one named ``disconnect`` the
disconnect handler while it stays connected. ``guard_reserved_events`` puts a check in front of
the object's EVENT handling: an EVENT named like an event that socket.io itself raises
(``connect``, ``disconnect``; on a client also ``connect_error`` and ``__disconnect_final``) is
logged as a failed event and, when it asked for an ack, answered with a 404 problem detail, as an
event no handler takes. A simple client makes its client when it connects: ``guard_simple_client``
gives it a client class whose instances are guarded from the start.

``refuse_events`` replaces that handling on a server that is shutting down: every new event is
answered with a 503 problem detail at once, and no handler starts. Both answer through one
``_Refusal``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import socketio
import structlog
from socketio import packet

from ..events.drive import ready
from ..events.logsafe import log_safely
from ..events.route import Role
from ..payloads.problems import http_problem, unavailable_problem

__all__ = [
    "CLIENT_RESERVED",
    "SERVER_RESERVED",
    "guard_reserved_events",
    "guard_simple_client",
    "refuse_events",
    "reserved_problem",
]

SERVER_RESERVED = ("connect", "disconnect")
"""Event names a server's handlers receive only from socket.io's own connection handling."""
CLIENT_RESERVED = ("connect", "disconnect", "connect_error", "__disconnect_final")
"""Event names a client's handlers receive only from socket.io's own connection handling
(``__disconnect_final``: python-socketio's end of a connection, which a simple client waits on)."""

_GUARD = "_zndraw_socketio_reserved_guard"
_GUARDED_CLASSES: dict[type, type] = {}  # a client class -> its guarded subclass


def reserved_problem(event: str) -> dict[str, Any]:
    """The 404 reply to an EVENT packet named like the reserved event ``event``."""
    return http_problem(404, f"{event!r} is a reserved event name: no handler takes it as an event", event)


class _Refusal:
    """Answers an EVENT packet without running any handler: one failed-event log entry and, when
    the packet asked for an ack, ``problem(event)`` as the reply. A packet of a namespace the peer
    is not connected to is dropped, as python-socketio drops it."""

    def __init__(self, sio: Any, role: Role, is_async: bool) -> None:
        self.sio, self.server, self.is_async = sio, role == "server", is_async
        self.log = structlog.get_logger("zndraw_socketio")

    def __call__(
        self,
        eio_sid: Any,
        namespace: str | None,
        ack_id: Any,
        event: Any,
        problem: Callable[[str], dict[str, Any]],
        error: str,
    ) -> Any:
        sio = self.sio
        namespace = namespace or "/"
        if self.server:
            sid = sio.manager.sid_from_eio_sid(eio_sid, namespace)
            connected = sid is not None and sio.manager.is_connected(sid, namespace)
        else:
            sid, connected = None, namespace in sio.namespaces
        if not connected:
            return ready(None) if self.is_async else None
        name = event if isinstance(event, str) else None
        log_safely(
            self.log.error,
            "sio event failed",
            sio_event=name,
            sid=sid,
            namespace=namespace,
            direction="in",
            outcome="error",
            error=error,
        )
        if ack_id is None:
            return ready(None) if self.is_async else None
        reply = sio.packet_class(packet.ACK, namespace=namespace, data=[problem(name or "")], id=ack_id)
        return sio._send_packet(eio_sid, reply) if self.server else sio._send_packet(reply)


def guard_reserved_events(sio: Any, role: Role, is_async: bool) -> None:
    """Refuse EVENT packets named like a reserved event on the server or client ``sio``.

    The check is one tuple lookup per event in front of python-socketio's own ``_handle_event``,
    which is called as before for every other name.
    """
    handle: Callable[..., Any] = sio._handle_event
    if getattr(handle, _GUARD, False):  # wrapped twice: one check is enough
        return
    refuse = _Refusal(sio, role, is_async)

    if role == "server":
        names = SERVER_RESERVED

        def handle_server_event(eio_sid: Any, namespace: str | None, ack_id: Any, data: Any) -> Any:
            if data and data[0] in names:
                return refuse(eio_sid, namespace, ack_id, data[0], reserved_problem, "ReservedEventName")
            return handle(eio_sid, namespace, ack_id, data)

        setattr(handle_server_event, _GUARD, True)
        sio._handle_event = handle_server_event
        return
    names = CLIENT_RESERVED

    def handle_client_event(namespace: str | None, ack_id: Any, data: Any) -> Any:
        if data and data[0] in names:
            return refuse(None, namespace, ack_id, data[0], reserved_problem, "ReservedEventName")
        return handle(namespace, ack_id, data)

    setattr(handle_client_event, _GUARD, True)
    sio._handle_event = handle_client_event


def guard_simple_client(simple: Any) -> None:
    """Guard the client a simple client (``AsyncSimpleClient``, ``SimpleClient``) makes on each
    ``connect()``: its ``client_class`` becomes a subclass that guards every instance it makes."""
    base = simple.client_class
    if getattr(base, _GUARD, False):
        return
    guarded = _GUARDED_CLASSES.get(base)
    if guarded is None:
        is_async = issubclass(base, socketio.AsyncClient)

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            base.__init__(self, *args, **kwargs)
            guard_reserved_events(self, "client", is_async)

        guarded = type(
            base.__name__, (base,), {"__init__": __init__, _GUARD: True, "__module__": base.__module__}
        )
        _GUARDED_CLASSES[base] = guarded
    simple.client_class = guarded


def refuse_events(server: Any, is_async: bool) -> Callable[[], None]:
    """Answer every new EVENT packet of ``server`` with a 503 problem detail, without running a
    handler, until the returned function is called (it puts the previous handling back)."""
    handle = server._handle_event
    refuse = _Refusal(server, "server", is_async)

    def handle_while_draining(eio_sid: Any, namespace: str | None, ack_id: Any, data: Any) -> Any:
        event = data[0] if data else None
        return refuse(eio_sid, namespace, ack_id, event, unavailable_problem, "ShuttingDown")

    server._handle_event = handle_while_draining

    def restore() -> None:
        if server._handle_event is handle_while_draining:
            server._handle_event = handle

    return restore
