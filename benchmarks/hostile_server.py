"""The server process of ``hostile_clients.py``: uvicorn + ``socketio.ASGIApp`` on 127.0.0.1.

    python benchmarks/hostile_server.py raw|typed

``raw``: the handlers on a plain ``socketio.AsyncServer(async_mode="asgi")``; ``typed``: the same
handlers on ``zndraw_socketio.wrap()`` of one, with its defaults (``Bounds()``). The handlers:

- ``join``: enters room ``"room"``, returns ``"joined"``;
- ``blob``: returns the number of its arguments;
- ``health``: returns ``"ok"``;
- ``flood(n)``: emits ``n`` events ``big`` of 64 KiB to the caller, without waiting for it;
- ``broadcast(n)``: emits ``n`` events ``big`` of 64 KiB to room ``"room"``.

The server binds a free port itself and prints ``ready <port>`` once it listens; each disconnect
is printed as ``disconnect <sid> <reason>``. Nothing else is logged (uvicorn, python-socketio and
structlog are quiet), so the measured process does no logging work.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import socket
import sys
from typing import Any

import socketio
import structlog
import uvicorn

CHUNK = "x" * 65536
"""The payload of one ``big`` event: 64 KiB of text (one websocket frame, no attachments)."""


def quiet_logging() -> None:
    """No log output from structlog, the standard library's loggers or uvicorn."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    logging.disable(logging.CRITICAL)


def die_with_parent() -> None:
    """Linux: this process is killed when the process that started it ends, however it ends."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def said(*words: object) -> None:
    print(*words, flush=True)


def raw_app() -> Any:
    """The handlers on plain python-socketio."""
    sio = socketio.AsyncServer(async_mode="asgi")

    async def join(sid: str) -> str:
        await sio.enter_room(sid, "room")
        return "joined"

    async def blob(sid: str, *args: Any) -> int:
        return len(args)

    async def health(sid: str) -> str:
        return "ok"

    async def flood(sid: str, n: int) -> int:
        for _ in range(n):
            await sio.emit("big", CHUNK, to=sid)
        return n

    async def broadcast(sid: str, n: int) -> int:
        for _ in range(n):
            await sio.emit("big", CHUNK, room="room")
        return n

    async def disconnect(sid: str, reason: str) -> None:
        said("disconnect", sid, reason)

    for handler in (join, blob, health, flood, broadcast, disconnect):
        sio.on(handler.__name__, handler)
    return socketio.ASGIApp(sio)


def typed_app() -> Any:
    """The same handlers on ``wrap()`` of a plain server, with its defaults."""
    from zndraw_socketio import wrap  # imported here: the raw server does without it

    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    @tsio.on("join")
    async def join(sid: str) -> str:
        await tsio.enter_room(sid, "room")
        return "joined"

    @tsio.on("blob")
    async def blob(sid: str, *args: Any) -> int:
        return len(args)

    @tsio.on("health")
    async def health(sid: str) -> str:
        return "ok"

    @tsio.on("flood")
    async def flood(sid: str, n: int) -> int:
        for _ in range(n):
            await tsio.emit("big", CHUNK, to=sid)
        return n

    @tsio.on("broadcast")
    async def broadcast(sid: str, n: int) -> int:
        for _ in range(n):
            await tsio.emit("big", CHUNK, room="room")
        return n

    @tsio.event
    async def disconnect(sid: str, reason: str) -> None:
        said("disconnect", sid, reason)

    return socketio.ASGIApp(tsio.sio)


async def main(variant: str) -> None:
    die_with_parent()
    quiet_logging()
    app = typed_app() if variant == "typed" else raw_app()
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started:  # uvicorn offers no event to wait on
        if serving.done():
            await serving  # raises what stopped it
            return
        await asyncio.sleep(0.01)
    said("ready", port)
    await serving


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("raw", "typed"):
        sys.exit("usage: hostile_server.py raw|typed")
    asyncio.run(main(sys.argv[1]))
