"""An in-memory engine.io transport: a real socketio client talking to a real socketio server.

The client's engine.io object is one of the classes below; the server gets, in
``server.eio.sockets``, an engine.io socket whose queue is read by the client instead of by a
websocket. Both ends keep python-engineio's and python-socketio's own packet handling: every
packet is encoded on one side and decoded on the other (engine.io and socket.io, text and binary),
the server's engine.io socket receives packets as its websocket loop would (one at a time, the
same connect, disconnect and close paths), and the client runs each message as its engine.io
client does (a task or thread per message). Delivery goes through queues read by pump tasks or
threads: nothing is delivered by recursion. There is no heartbeat (a test connection never times
out) and no polling transport: the connection is a websocket from the start.

The tasks (threads on a sync server) these pumps start, and the server's handler tasks started
while a packet of this connection was being received, are kept, so that ``drain()`` waits for
every handler of the connection to finish.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.parse
from collections.abc import Callable, Coroutine, Iterable, Mapping
from queue import Queue
from typing import Any

import engineio
import engineio.async_socket
import engineio.base_client
import engineio.exceptions
import engineio.socket
from engineio import packet as eio_packet
from socketio import async_server as sio_async_server

__all__ = ["AsyncMemoryEngine", "MemoryEngine", "handshake_environ"]

HOST = "testserver"
PEER = ("127.0.0.1", 0)
_CONNECT_ERROR = "4"  # the socket.io packet type of a refused namespace connect, as text
_BINARY = ("5", "6")  # socket.io BINARY_EVENT and BINARY_ACK headers: attachments follow


def handshake_environ(url: str, headers: Mapping[str, str], *, asgi: bool) -> dict[str, Any]:
    """The WSGI environ of a websocket handshake to ``url`` with ``headers``, plus its ASGI scope
    when the server runs under ASGI (as python-engineio's ASGI driver builds them)."""
    parts = urllib.parse.urlsplit(url)
    merged = {"host": parts.netloc or HOST, "connection": "Upgrade", "upgrade": "websocket"}
    merged.update((name.lower(), str(value)) for name, value in headers.items())
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "RAW_URI": f"{parts.path}?{parts.query}",
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "REMOTE_ADDR": PEER[0],
        "REMOTE_PORT": str(PEER[1]),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
    }
    for name, value in merged.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    if asgi:
        environ["asgi.scope"] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "server": (HOST, 80),
            "client": PEER,
            "root_path": "",
            "path": parts.path,
            "raw_path": parts.path.encode(),
            "query_string": parts.query.encode(),
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in merged.items()],
            "subprotocols": [],
        }
    return environ


def _attachments(data: Any) -> int:
    """How many binary messages follow ``data``, a socket.io packet as engine.io delivered it."""
    if isinstance(data, str) and data[:1] in _BINARY and "-" in data:
        return int(data[1 : data.index("-")])
    return 0


class _Link(engineio.base_client.BaseClient):
    """What both engines share: the server they are connected to, the refusals they saw."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.connect_errors: list[str] = []
        """The encoded socket.io CONNECT_ERROR packets received (a refused namespace each)."""

    def _open(self, url: str, headers: Mapping[str, str] | None, engineio_path: str) -> tuple[str, Any]:
        """The engine.io sid and handshake environ of a new connection (the OPEN handshake)."""
        eio = self.server.eio
        url = self._get_engineio_url(url, engineio_path, "websocket")
        environ = handshake_environ(url, headers or {}, asgi=eio.async_mode == "asgi")
        return eio.generate_id(), environ

    def _connected(self, sid: str) -> None:
        """What the OPEN packet would have told the client."""
        eio = self.server.eio
        self.sid, self.upgrades, self.current_transport = sid, [], "websocket"
        self.ping_interval, self.ping_timeout = eio.ping_interval, eio.ping_timeout
        self.state = "connected"
        self.connect_errors.clear()

    def _note(self, data: Any) -> None:
        if isinstance(data, str) and data[:1] == _CONNECT_ERROR:
            self.connect_errors.append(data)


def _started_by(thread: threading.Thread, owner: Any) -> bool:
    """Whether ``thread`` runs a method of ``owner`` (or has finished running its target)."""
    if not hasattr(thread, "_target"):  # Thread.run drops its target when it ends
        return True
    return getattr(thread._target, "__self__", None) is owner  # pyright: ignore[reportAttributeAccessIssue]


def _refused(eio: Any, sid: str, verdict: Any) -> engineio.exceptions.ConnectionError:
    eio.sockets.pop(sid, None)
    return engineio.exceptions.ConnectionError("Unexpected status code 401 in server response", verdict)


class _InMemorySocket:
    """What both server ends of an in-memory connection are: a websocket from the start, no
    heartbeat (mixed into engine.io's sync and async socket classes)."""

    def __init__(self, server: Any, sid: str) -> None:
        super().__init__(server, sid)  # type: ignore[call-arg]  # engine.io's socket, next in the MRO
        self.connected = self.upgraded = True
        self.last_ping = None

    def schedule_ping(self) -> None:
        """No heartbeat in memory."""


# -- asyncio ---------------------------------------------------------------------------------------


class _AsyncServerSocket(_InMemorySocket, engineio.async_socket.AsyncSocket):
    """The server's end of an in-memory connection (asyncio)."""


class AsyncMemoryEngine(_Link, engineio.AsyncClient):
    """An ``engineio.AsyncClient`` connected in memory to the ``socketio.AsyncServer`` ``server``."""

    def __init__(self, server: Any) -> None:
        _Link.__init__(self, server)
        engineio.AsyncClient.__init__(self, handle_sigint=False)
        self.tasks: set[asyncio.Task[Any]] = set()
        self._inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()

    async def connect(
        self, url: str, headers: Any = None, transports: Any = None, engineio_path: str = "engine.io"
    ) -> bool:
        if self.state != "disconnected":
            raise ValueError("Client is not in a disconnected state")
        sid, environ = self._open(url, headers, engineio_path)
        eio = self.server.eio
        socket = eio.sockets[sid] = _AsyncServerSocket(eio, sid)
        verdict = await eio._trigger_event("connect", sid, environ, run_async=False)
        if verdict is not None and verdict is not True:
            raise _refused(eio, sid, verdict)
        self._connected(sid)
        self._inbox = asyncio.Queue()
        self._spawn(self._serve(socket, self._inbox))
        self.read_loop_task = self._spawn(self._read(socket))
        try:
            await self._trigger_event("connect", run_async=False)
        except Exception as exc:
            await self.disconnect(abort=True)
            raise engineio.exceptions.ConnectionError(f"Connect handler failed: {exc}") from exc
        return True

    async def _send_packet(self, pkt: Any) -> None:
        if self.state == "connected":
            self._inbox.put_nowait(pkt.encode())

    async def disconnect(self, abort: bool = False, reason: Any = None) -> None:
        if self.state == "connected":
            await self._send_packet(eio_packet.Packet(eio_packet.CLOSE))
            self.state = "disconnecting"
            await self._trigger_event("disconnect", reason or self.reason.CLIENT_DISCONNECT, run_async=False)
            reader = self.read_loop_task
            if not abort and reader is not None and reader is not asyncio.current_task():
                await reader
            self.state = "disconnected"
        await self._reset()

    async def drain(self) -> None:
        """Wait until every task of this connection, the server's handlers included, is done."""
        current = asyncio.current_task()
        while pending := [task for task in self.tasks if not task.done() and task is not current]:
            await asyncio.wait(pending)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._keep(task)
        return task

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, socket: _AsyncServerSocket, inbox: asyncio.Queue[str | bytes | None]) -> None:
        """The server's websocket loop: receive each packet in turn, then close."""
        eio = socket.server
        handlers = sio_async_server.task_reference_holder
        while (encoded := await inbox.get()) is not None and len(encoded) <= eio.max_http_buffer_size:
            pkt = eio_packet.Packet(encoded_packet=encoded)
            before = set(handlers)
            try:
                await socket.receive(pkt)
            except Exception:
                eio.logger.exception("Unknown receive error")
            for task in handlers - before:  # the handler tasks this packet started
                self._keep(task)
            if pkt.packet_type == eio_packet.CLOSE:
                break
        await socket.queue.put(None)
        await socket.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
        if eio.sockets.get(socket.sid) is socket:
            del eio.sockets[socket.sid]

    async def _read(self, socket: _AsyncServerSocket) -> None:
        """The client's read loop over what the server's socket sends."""
        queue = socket.queue
        while (pkt := await queue.get()) is not None:
            queue.task_done()
            if self.state != "connected":
                continue
            received = eio_packet.Packet(encoded_packet=pkt.encode())
            if received.packet_type == eio_packet.MESSAGE:
                self._note(received.data)
                self._spawn(self._trigger_event("message", received.data, run_async=False))
            else:
                await self._receive_packet(received)
        queue.task_done()
        if self.state == "connected":
            await self._trigger_event("disconnect", self.reason.TRANSPORT_ERROR, run_async=False)
            await self._reset()


# -- threads ---------------------------------------------------------------------------------------


class _ServerSocket(_InMemorySocket, engineio.socket.Socket):
    """The server's end of an in-memory connection (threads)."""


class MemoryEngine(_Link, engineio.Client):
    """An ``engineio.Client`` connected in memory to the ``socketio.Server`` ``server``
    (``async_mode="threading"``)."""

    def __init__(self, server: Any) -> None:
        _Link.__init__(self, server)
        engineio.Client.__init__(self, handle_sigint=False)
        self.threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._inbox: Queue[str | bytes | None] = Queue()

    def connect(
        self, url: str, headers: Any = None, transports: Any = None, engineio_path: str = "engine.io"
    ) -> bool:
        if self.state != "disconnected":
            raise ValueError("Client is not in a disconnected state")
        sid, environ = self._open(url, headers, engineio_path)
        eio = self.server.eio
        socket = eio.sockets[sid] = _ServerSocket(eio, sid)
        verdict = eio._trigger_event("connect", sid, environ, run_async=False)
        if verdict is not None and verdict is not True:
            raise _refused(eio, sid, verdict)
        self._connected(sid)
        self._inbox = Queue()
        self._spawn(self._serve, socket, self._inbox)
        self.read_loop_task = self._spawn(self._read, socket)
        try:
            self._trigger_event("connect", run_async=False)
        except Exception as exc:
            self.disconnect(abort=True)
            raise engineio.exceptions.ConnectionError(f"Connect handler failed: {exc}") from exc
        return True

    def _send_packet(self, pkt: Any) -> None:
        if self.state == "connected":
            self._inbox.put(pkt.encode())

    def disconnect(self, abort: bool = False, reason: Any = None) -> None:
        if self.state == "connected":
            self._send_packet(eio_packet.Packet(eio_packet.CLOSE))
            self.state = "disconnecting"
            self._trigger_event("disconnect", reason or self.reason.CLIENT_DISCONNECT, run_async=False)
            reader = self.read_loop_task
            if not abort and reader is not None and reader is not threading.current_thread():
                reader.join()
            self.state = "disconnected"
        self._reset()

    def drain(self) -> None:
        """Wait until every thread of this connection, the server's handlers included, is done."""
        current = threading.current_thread()
        while pending := [t for t in list(self.threads) if t.is_alive() and t is not current]:
            for thread in pending:
                thread.join()

    def _spawn(self, target: Callable[..., Any], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._keep([thread])
        thread.start()
        return thread

    def _keep(self, threads: Iterable[threading.Thread]) -> None:
        with self._lock:
            self.threads = {t for t in self.threads if t.is_alive()} | set(threads)

    def _serve(self, socket: _ServerSocket, inbox: Queue[str | bytes | None]) -> None:
        """The server's websocket loop: receive each packet in turn, then close."""
        eio = socket.server
        sio = self.server
        while (encoded := inbox.get()) is not None and len(encoded) <= eio.max_http_buffer_size:
            pkt = eio_packet.Packet(encoded_packet=encoded)
            before = set(threading.enumerate())
            try:
                socket.receive(pkt)
            except Exception:
                eio.logger.exception("Unknown receive error")
            self._keep(t for t in threading.enumerate() if t not in before and _started_by(t, sio))
            if pkt.packet_type == eio_packet.CLOSE:
                break
        socket.queue.put(None)
        socket.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
        if eio.sockets.get(socket.sid) is socket:
            del eio.sockets[socket.sid]

    def _read(self, socket: _ServerSocket) -> None:
        """The client's read loop over what the server's socket sends; a thread per message, a
        binary message with its attachments in one thread (so that they arrive in order)."""
        queue = socket.queue
        group: list[Any] = []
        expected = 0
        while (pkt := queue.get()) is not None:
            queue.task_done()
            if self.state != "connected":
                continue
            received = eio_packet.Packet(encoded_packet=pkt.encode())
            if received.packet_type != eio_packet.MESSAGE:
                self._receive_packet(received)
                continue
            self._note(received.data)
            if expected:
                expected -= 1
            else:
                expected = _attachments(received.data)
            group.append(received.data)
            if not expected:
                self._spawn(self._deliver, group)
                group = []
        queue.task_done()
        if self.state == "connected":
            self._trigger_event("disconnect", self.reason.TRANSPORT_ERROR, run_async=False)
            self._reset()

    def _deliver(self, messages: list[Any]) -> None:
        for data in messages:
            self._trigger_event("message", data, run_async=False)
