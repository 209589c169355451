"""Websocket loops for asyncio engine.io servers and clients that wait on each packet in place,
installed per instance.

python-engineio's server (``AsyncSocket._websocket_handler`` and its writer) and client
(``AsyncClient._read_loop_websocket`` and ``_write_loop``) wait for every packet read or written
through ``asyncio.wait_for``, the server's reads through ``asyncio.ensure_future`` too. On Python
3.11 each of those waits costs a task, a waiter future, a timer and one more turn of the event loop:
about a fifth of a server's CPU time per round trip. The loops here do what engine.io's do, step for
step, with the same timeouts, limits, flags, log lines and the same ``task_done`` accounting of the
queue, but await the transport and the queue directly: the client's loops each under one
``asyncio.timeout``, the server's under one timer per timeout period (``_Watch``), since arming a
timer per packet is itself a tenth of a server's round trip. Two things differ, both for the better:
the packets a client queues just before it closes (python-socketio's ``disconnect()`` queues a
DISCONNECT) are sent, where engine.io's write loop woke too late to send them, so the server now
hears "client disconnect" instead of "transport close"; and a frame that is no engine.io packet at
all (empty, or not starting with a packet type) closes the connection with one warning and an
immediate disconnect, where engine.io's server handler let the decoding error escape and left the
session to its ping timeout.

Only the engine.io object given changes. ``install_websocket_loop(eio)``: the server's ``_async``
driver table becomes a copy whose ``websocket`` factory hands ``serve_websocket`` instead of the
socket's own handler to the driver's websocket class (ASGI, aiohttp, tornado, sanic: unchanged).
``install_client_loops(eio)``: the client's two loop methods are shadowed on the instance; its write
loop over long-polling stays engine.io's.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from engineio import packet as eio_packet
from engineio.exceptions import SocketIsClosedError, UnknownPacketError

from .admin import ENGINEIO_METHOD, PREPARE_WEBSOCKET
from .buffers import bound_outbound, release, serving

__all__ = ["install_websocket_loop", "serve_websocket", "server_loop_needs"]

_INSTALLED = "_zndraw_websocket_loop"


def _own_handler() -> Any:
    """engine.io's own server websocket handler, looked up when a loop is installed (never at
    import: a rename upstream switches the patch off instead of breaking the import)."""
    from engineio.async_socket import AsyncSocket

    handler = AsyncSocket._websocket_handler  # under the admin instrumentation's, when it is on
    return AsyncSocket, getattr(handler, ENGINEIO_METHOD, handler)


def server_loop_needs(sio: Any) -> str | None:
    """What ``install_websocket_loop`` needs of ``sio.eio`` and engine.io (see ``patches.py``)."""
    try:
        socket_class, _ = _own_handler()
    except (ImportError, AttributeError) as exc:
        return f"engine.io's AsyncSocket._websocket_handler is gone ({exc})"
    eio = getattr(sio, "eio", None)
    drivers = getattr(eio, "_async", None)
    if not isinstance(drivers, dict) or "websocket" not in drivers:
        return "the engine.io server has no _async driver table with a websocket factory"
    for name in (
        "reason",
        "get_queue_empty_exception",
        "ping_interval",
        "ping_timeout",
        "max_http_buffer_size",
    ):
        if not hasattr(eio, name):
            return f"the engine.io server has no {name!r}"
    for name in ("receive", "close", "send"):
        if not hasattr(socket_class, name):
            return f"engine.io's AsyncSocket has no {name!r}"
    if "reason" not in inspect.signature(socket_class.close).parameters:
        return "engine.io's AsyncSocket.close takes no reason"
    return None


def install_websocket_loop(eio: Any, options: Any = None) -> None:
    """Give the asyncio engine.io server ``eio`` the websocket loop of this module (once), with
    the outbound buffer bound of ``options.bounds`` (``Bounds()`` by default)."""
    socket_class, own_handler = _own_handler()
    bounds = getattr(options, "bounds", None)
    limit = bounds.max_buffered_bytes if bounds is not None else None
    drivers = eio._async
    factory = drivers.get("websocket")
    if factory is None or getattr(factory, _INSTALLED, False):
        return

    def websocket(handler: Callable[..., Any], server: Any) -> Any:
        socket = getattr(handler, "__self__", None)
        method = getattr(handler, "__func__", None)
        # engine.io's own handler, or the admin instrumentation's in front of it (admin.py), whose
        # counting of the websocket's packets runs first
        prepare = getattr(method, PREPARE_WEBSOCKET, None)
        if method is not own_handler and not (
            prepare is not None and getattr(method, ENGINEIO_METHOD, None) is own_handler
        ):
            return factory(handler, server)
        if isinstance(socket, socket_class):

            async def serve(ws: Any) -> None:
                if prepare is not None:
                    prepare(socket, ws)
                bound_outbound(socket, limit)
                await serve_websocket(socket, ws)

            handler = serve
        return factory(handler, server)

    setattr(websocket, _INSTALLED, True)
    eio._async = {**drivers, "websocket": websocket}


async def serve_websocket(socket: Any, ws: Any) -> None:
    """Serve engine.io ``socket`` over the websocket ``ws``: the upgrade handshake when the socket
    is already connected by polling, then the reader here and the writer task until either ends."""
    server = socket.server
    if socket.connected:  # an upgrade from polling: the probe, the end of the poll, the UPGRADE
        socket.upgrading = True  # holds the polling transport's sends during the upgrade
        try:
            probe = eio_packet.Packet(encoded_packet=await _received(ws, server))
        except OSError:  # pragma: no cover - the client left during the upgrade
            return
        if probe.packet_type != eio_packet.PING or probe.data != "probe":
            server.logger.info("%s: Failed websocket upgrade, no PING packet", socket.sid)
            socket.upgrading = False
            return
        await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
        await socket.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
        try:
            data = await _received(ws, server)
        except OSError:  # pragma: no cover - the client left during the upgrade
            socket.upgrading = False
            return
        if eio_packet.Packet(encoded_packet=data).packet_type != eio_packet.UPGRADE:
            socket.upgraded = False
            server.logger.info(
                "%s: Failed websocket upgrade, expected UPGRADE packet, received %s instead.",
                socket.sid,
                data,
            )
            socket.upgrading = False
            return
        socket.upgraded = True
        socket.upgrading = False
    else:
        socket.connected = True
        socket.upgraded = True

    writer = asyncio.ensure_future(_write(socket, ws))
    serving(socket, writer)
    server.logger.info("%s: Upgrade to websocket successful", socket.sid)
    watch = _Watch(server.ping_interval + server.ping_timeout)
    while True:
        watch.wait()
        try:
            data = await _received(ws, server)
        except (Exception, asyncio.CancelledError):  # silent too long, a closed transport, a
            break  # packet over the size limit; a cancellation ends the handler the same way
        finally:
            watch.waiting = False
        if data is None:  # closed by the client
            break
        try:
            pkt = eio_packet.Packet(encoded_packet=data)
        except ValueError:  # not an engine.io packet (engine.io's own handler raises out here)
            server.logger.warning("%s: Undecodable packet received, closing the connection", socket.sid)
            break
        try:
            await socket.receive(pkt)
        except UnknownPacketError:  # as engine.io's handler: ignored
            pass
        except SocketIsClosedError:  # pragma: no cover - closed while the packet was handled
            server.logger.info("Receive error -- socket is closed")
            break
        except Exception:  # pragma: no cover - logged, and the connection goes on
            server.logger.exception("Unknown receive error")
    watch.stop()
    await socket.queue.put(None)  # the writer's signal to end
    await asyncio.wait([writer])  # ended, or cancelled for a full outbound buffer
    await socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


class _Watch:
    """The timeout of every wait of one loop, kept by one timer per timeout period instead of
    one armed and cancelled per packet (what ``asyncio.timeout`` costs on every wait): a wait
    that began ``timeout`` seconds ago and is still waiting cancels the loop's task."""

    __slots__ = ("_handle", "_loop", "_task", "_timeout", "since", "waiting")

    def __init__(self, timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._timeout = timeout
        self.since = self._loop.time()
        self.waiting = False
        self._handle = self._loop.call_later(timeout, self._check)

    def wait(self) -> None:
        """A wait begins now."""
        self.since = self._loop.time()
        self.waiting = True

    def _check(self) -> None:
        if self._task is None or self._task.done():  # the loop ended without stop()
            return
        left = self.since + self._timeout - self._loop.time() if self.waiting else self._timeout
        if left <= 0 and self._task is not None:
            self._task.cancel()
            return
        self._handle = self._loop.call_later(left, self._check)

    def stop(self) -> None:
        """The loop ended: no more checks."""
        self._handle.cancel()


async def _received(ws: Any, server: Any) -> Any:
    """The next packet's data from ``ws``; ``ValueError`` when it is over the server's limit."""
    data = await ws.wait()
    if data and len(data) > server.max_http_buffer_size:
        raise ValueError("packet is too large")
    return data


async def _write(socket: Any, ws: Any) -> None:
    """Send the packets queued on ``socket`` over ``ws`` until the queue says to stop (``None``),
    nothing is queued within the ping interval plus timeout, or a send fails; then close ``ws``."""
    server = socket.server
    queue = socket.queue
    empty = server.get_queue_empty_exception()
    watch = _Watch(server.ping_interval + server.ping_timeout)
    while True:
        watch.wait()
        try:
            first = await queue.get()
        except asyncio.CancelledError:  # nothing to send for too long, or the end
            break
        finally:
            watch.waiting = False
        queue.task_done()
        if first is None:
            break
        packets = [first]
        while True:  # everything else already queued goes out in the same turn
            try:
                pkt = queue.get_nowait()
            except empty:
                break
            queue.task_done()
            if pkt is None:  # left for the next turn, which ends the writer
                queue.put_nowait(None)
                break
            packets.append(pkt)
        try:
            for pkt in packets:
                await ws.send(pkt.encode())
                release(socket, pkt)
        except Exception:
            break
        except asyncio.CancelledError:  # a connection over its outbound buffer: hold nothing
            packets.clear()
            raise
    watch.stop()
    await ws.close()
