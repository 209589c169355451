"""python-socketio's Admin UI instrumentation (``instrument()``) on more than one server of a process.

python-socketio's ``instrument()`` reports engine.io's packets by replacing three methods of
engine.io's socket *class* (``AsyncSocket``, or ``Socket`` for a ``socketio.Server``):
``handle_post_request``, ``_websocket_handler`` and ``_send_ping``. It keeps the method it replaces
in one class attribute per method (``_InstrumentedAsyncServer__handle_post_request``...), which its
replacement calls. A second ``instrument()`` in the process, on any server, keeps the first one's
replacement there instead of engine.io's method, and each replacement then calls itself: every
polling request and every websocket of every server ends in ``RecursionError``, and no client
connects (a test suite that builds and instruments one app per test fails from its second test on).
The replacements also report every server's packets to the instrumentation made last.

``instrument(sio, ...)`` runs python-socketio's own ``instrument()`` with engine.io's methods in
place, so that it keeps the real ones, then puts one replacement per method on the class that
reports each socket's packets to the instrumentation of that socket's server, and runs engine.io's
own method for a server that is not instrumented. An instrumentation python-socketio installed
before, on a server that is not wrapped, is taken over the same way. What is reported is what
python-socketio reports: ``packetsIn``, ``bytesIn``, ``packetsOut`` and ``bytesOut`` in the server
stats and, in development mode, ``socket_connected`` on each ping. ``uninstrument()`` of the object
returned ends the reporting of that server only.

It is the patch ``admin_instrumentation`` (see ``patches.py``), checked when ``wrap()`` runs; the
face calls ``instrument`` only while it is active: when what it needs is not there, one warning
says so and python-socketio's own ``instrument()`` runs. Nothing of engine.io or of
python-socketio's admin module is read at import.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import socketio

from .patches import SERVERS, Patch, first, needs, takes

__all__ = ["ADMIN_INSTRUMENTATION", "ENGINEIO_METHOD", "PREPARE_WEBSOCKET", "admin_needs", "instrument"]

_METHODS = ("handle_post_request", "_websocket_handler", "_send_ping")
_ADMIN = "_zndraw_socketio_admin"  # on an engine.io server: the instrumentation it reports to
_OWN = "_zndraw_socketio_engineio_method"  # on a replacement here: engine.io's method it runs
ENGINEIO_METHOD = _OWN
PREPARE_WEBSOCKET = "_zndraw_socketio_prepare_websocket"
"""On the ``_websocket_handler`` replacement: ``prepare(socket, ws)`` counts ``ws``'s packets; the
server websocket loop (``websocket_loop.py``) calls it and serves the connection itself."""


def _classes(sio: Any) -> tuple[type, type]:
    """``(engine.io's socket class, python-socketio's instrumentation class)`` for ``sio``."""
    if isinstance(sio, socketio.AsyncServer):
        from engineio.async_socket import AsyncSocket
        from socketio.async_admin import InstrumentedAsyncServer

        return AsyncSocket, InstrumentedAsyncServer
    from engineio.socket import Socket
    from socketio.admin import InstrumentedServer

    return Socket, InstrumentedServer


def admin_needs(sio: Any) -> str | None:
    """What ``instrument`` needs of ``sio``, engine.io's socket class and python-socketio's
    instrumentation class."""
    socket_class, admin_class = _classes(sio)
    return first(
        lambda: needs(sio, "instrument", "eio", "manager"),
        lambda: needs(socket_class, *_METHODS, what=f"engine.io's {socket_class.__name__}"),
        lambda: takes(socket_class.handle_post_request, "environ", what="handle_post_request"),
        lambda: takes(socket_class._websocket_handler, "ws", what="_websocket_handler"),
        lambda: needs(
            admin_class,
            "uninstrument",
            "serialize_socket",
            *(_upstream_name(name) for name in _METHODS),
            what=f"python-socketio's {admin_class.__name__}",
        ),
    )


def _instrument_overridden(sio: Any) -> str | None:
    base = socketio.AsyncServer if isinstance(sio, socketio.AsyncServer) else socketio.Server
    if type(sio).instrument is base.instrument:
        return None
    return f"{type(sio).__name__} overrides instrument"


ADMIN_INSTRUMENTATION = Patch(
    "admin_instrumentation",
    "instrument() reporting each server's engine.io packets to its own instrumentation, on any "
    "number of servers of a process",
    SERVERS,
    admin_needs,
    declines=_instrument_overridden,
)


def _upstream_name(name: str) -> str:
    """The name of python-socketio's replacement of the socket method ``name``."""
    return f"_eio_{name.lstrip('_')}"


def _kept_name(admin_class: type, name: str) -> str:
    """The class attribute python-socketio keeps the replaced method ``name`` in (a private name of
    its instrumentation class, mangled)."""
    return f"_{admin_class.__name__}__{name.lstrip('_')}"


def _upstream_instance(method: Any, admin_class: type, name: str) -> Any:
    """The instrumentation whose replacement ``method`` is, when python-socketio installed it."""
    if not isinstance(method, functools.partialmethod) or not method.args:
        return None
    if method.func is not getattr(admin_class, _upstream_name(name), None):
        return None
    return method.args[0]


def _engineio_method(socket_class: type, admin_class: type, name: str) -> Any:
    """engine.io's own method ``name`` of ``socket_class``, under the replacement of this module or
    python-socketio's (whose kept method may be this module's); ``None`` when it is lost (two
    instrumentations of python-socketio's own came first)."""
    method = socket_class.__dict__.get(name)
    for _ in range(2):
        own = getattr(method, _OWN, None)
        if own is not None:
            return own
        if _upstream_instance(method, admin_class, name) is None:
            return method
        method = socket_class.__dict__.get(_kept_name(admin_class, name))
    return None


def instrument(sio: Any, *args: Any, **kwargs: Any) -> Any:
    """python-socketio's ``sio.instrument(*args, **kwargs)``, reporting this server's packets to it
    whatever else of the process is instrumented (see the module); returns its instrumentation."""
    socket_class, admin_class = _classes(sio)
    own = {name: _engineio_method(socket_class, admin_class, name) for name in _METHODS}
    if None in own.values():
        return sio.instrument(*args, **kwargs)
    for name in _METHODS:
        earlier = _upstream_instance(socket_class.__dict__.get(name), admin_class, name)
        if earlier is not None and getattr(earlier.sio.eio, _ADMIN, None) is None:
            setattr(earlier.sio.eio, _ADMIN, earlier)  # a server python-socketio instrumented
        setattr(socket_class, name, own[name])  # what python-socketio keeps: engine.io's own
    make = _async_replacement if isinstance(sio, socketio.AsyncServer) else _sync_replacement
    try:
        admin = sio.instrument(*args, **kwargs)  # raises as python-socketio's does (no auth given)
        setattr(sio.eio, _ADMIN, admin)
        admin.uninstrument = _uninstrument(admin, socket_class)
    finally:  # the servers instrumented before go on reporting either way
        for name in _METHODS:
            setattr(socket_class, name, make(name, own[name]))
    return admin


def _uninstrument(admin: Any, socket_class: type) -> Callable[[], None]:
    upstream = admin.uninstrument

    def uninstrument() -> None:
        """End the reporting of this server; the other instrumented servers go on reporting."""
        current = {name: socket_class.__dict__.get(name) for name in _METHODS}
        upstream()  # this server's own attributes back, and engine.io's methods on the class
        for name, method in current.items():
            setattr(socket_class, name, method)
        if getattr(admin.sio.eio, _ADMIN, None) is admin:
            delattr(admin.sio.eio, _ADMIN)

    return uninstrument


def _connected_reports(admin: Any, socket: Any) -> list[tuple[Any, str]]:
    """The ``socket_connected`` reports of ``socket`` at a ping: one per namespace it is in."""
    manager = admin.sio.manager
    now = datetime.fromtimestamp(time.time(), UTC).isoformat()
    reports = []
    for namespace in manager.get_namespaces():
        sid = manager.sid_from_eio_sid(socket.sid, namespace)
        if sid:
            reports.append((admin.serialize_socket(sid, namespace, socket.sid), now))
    return reports


def _count_post(admin: Any, environ: Any) -> None:
    admin.event_buffer.push("packetsIn")
    admin.event_buffer.push("bytesIn", int(environ.get("CONTENT_LENGTH", 0)))


def _async_replacement(name: str, own: Any) -> Any:
    """The replacement of the ``AsyncSocket`` method ``name``, engine.io's being ``own``."""
    if name == "handle_post_request":

        async def handle_post_request(socket: Any, environ: Any) -> Any:
            result = await own(socket, environ)
            admin = getattr(socket.server, _ADMIN, None)
            if admin is not None:
                _count_post(admin, environ)
            return result

        replacement: Any = handle_post_request
    elif name == "_websocket_handler":

        def prepare(socket: Any, ws: Any) -> None:
            admin = getattr(socket.server, _ADMIN, None)
            if admin is not None:
                _count_async(admin.event_buffer, ws)

        async def _websocket_handler(socket: Any, ws: Any) -> Any:
            prepare(socket, ws)
            return await own(socket, ws)

        replacement = _websocket_handler
        setattr(replacement, PREPARE_WEBSOCKET, prepare)  # for the websocket loop, which runs instead
    else:

        async def _send_ping(socket: Any) -> Any:
            admin = getattr(socket.server, _ADMIN, None)
            if admin is not None and admin.mode == "development":
                for report in _connected_reports(admin, socket):
                    await admin.sio.emit("socket_connected", report, namespace=admin.admin_namespace)
            return await own(socket)

        replacement = _send_ping
    setattr(replacement, _OWN, own)
    return replacement


def _count_async(buffer: Any, ws: Any) -> None:
    """Count the packets and bytes sent and received over the websocket ``ws``."""
    send, wait = ws.send, ws.wait

    async def counted_send(data: Any, *args: Any, **kwargs: Any) -> Any:
        buffer.push("packetsOut")
        buffer.push("bytesOut", len(data))
        return await send(data, *args, **kwargs)

    async def counted_wait() -> Any:
        data = await wait()
        buffer.push("packetsIn")
        buffer.push("bytesIn", len(data or ""))
        return data

    ws.send, ws.wait = counted_send, counted_wait


def _sync_replacement(name: str, own: Any) -> Any:
    """The replacement of the ``Socket`` method ``name``, engine.io's being ``own``."""
    if name == "handle_post_request":

        def handle_post_request(socket: Any, environ: Any) -> Any:
            result = own(socket, environ)
            admin = getattr(socket.server, _ADMIN, None)
            if admin is not None:
                _count_post(admin, environ)
            return result

        replacement: Any = handle_post_request
    elif name == "_websocket_handler":

        def _websocket_handler(socket: Any, ws: Any) -> Any:
            admin = getattr(socket.server, _ADMIN, None)
            if admin is not None:
                _count_sync(admin.event_buffer, ws)
            return own(socket, ws)

        replacement = _websocket_handler
    else:

        def _send_ping(socket: Any) -> Any:
            admin = getattr(socket.server, _ADMIN, None)
            if admin is not None and admin.mode == "development":
                for report in _connected_reports(admin, socket):
                    admin.sio.emit("socket_connected", report, namespace=admin.admin_namespace)
            return own(socket)

        replacement = _send_ping
    setattr(replacement, _OWN, own)
    return replacement


def _count_sync(buffer: Any, ws: Any) -> None:
    """Count the packets and bytes sent and received over the websocket ``ws``."""
    send, wait = ws.send, ws.wait

    def counted_send(data: Any, *args: Any, **kwargs: Any) -> Any:
        buffer.push("packetsOut")
        buffer.push("bytesOut", len(data))
        return send(data, *args, **kwargs)

    def counted_wait() -> Any:
        data = wait()
        buffer.push("packetsIn")
        buffer.push("bytesIn", len(data or ""))
        return data

    ws.send, ws.wait = counted_send, counted_wait
