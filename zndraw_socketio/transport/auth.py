"""Forgetting the kept connect ``auth`` of a namespace when a client leaves it (a patch of the
client manager's ``basic_disconnect``)."""

from __future__ import annotations

from typing import Any

from ..events.auth import AUTH_KEY

__all__ = ["forget_auth_on_leave"]

_FORGETS = "_zndraw_socketio_forgets_auth"


def forget_auth_on_leave(server: Any) -> None:
    """Make ``server`` drop the auth kept for a namespace when a client leaves it.

    Every way out of a namespace goes through the client manager's ``basic_disconnect``: a
    refused connect, the client or the server disconnecting, the connection closing. The kept
    auth goes with it, so a refused connect keeps nothing and a connection keeps the auth of the
    namespaces it is connected to only. Installed once per manager, on the manager object.
    """
    manager = getattr(server, "manager", None)
    environs = getattr(server, "environ", None)
    if manager is None or not isinstance(environs, dict) or getattr(manager, _FORGETS, False):
        return
    disconnect = manager.basic_disconnect

    def basic_disconnect(sid: Any, namespace: Any, **kwargs: Any) -> Any:
        eio_sid = manager.eio_sid_from_sid(sid, namespace or "/")
        try:
            return disconnect(sid, namespace, **kwargs)
        finally:
            environ = environs.get(eio_sid) if eio_sid is not None else None
            kept = environ.get(AUTH_KEY) if isinstance(environ, dict) else None
            if kept:
                kept.pop(namespace or "/", None)

    manager.basic_disconnect = basic_disconnect
    setattr(manager, _FORGETS, True)
