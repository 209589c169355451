"""One scale-out server node in a process of its own, for ``tests/transport/test_scale_out_engines.py``.

    python -m tests.support.scale_out_node --engine redis|rabbitmq --url URL --channel CHANNEL --port PORT

Serves ``wrap(socketio.AsyncServer(async_mode="asgi", client_manager=<manager>))`` with uvicorn on
127.0.0.1, where the manager is python-socketio's ``AsyncRedisManager`` or ``AsyncAioPikaManager``
on ``CHANNEL`` (the Redis channel, or the RabbitMQ fanout exchange). ``--port 0`` takes a free
port. Prints ``ready http://127.0.0.1:<port>`` once it listens and serves until SIGTERM or SIGINT,
or until its parent process is gone.

Typed handlers (models in ``tests/support/scale_out_models.py``): ``Join`` enters the caller into a room,
``Trigger`` makes this node ``emit(Notice(...), room=...)``, ``ProbeRequest`` makes it emit a
``Probe`` to one sid. The node's name, ``node:<port>``, is the ``origin`` of its notices.

``manager_for`` and ``close_manager`` are shared with the worker, ``tests/support/scale_out_worker.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
from typing import Any, Literal, cast

import socketio
import structlog
import uvicorn

from tests.support.scale_out_models import Join, Joined, Notice, Probe, ProbeRequest, Trigger, Triggered
from zndraw_socketio import AsyncServerWrapper, wrap

Engine = Literal["redis", "rabbitmq"]
ENGINES: tuple[Engine, ...] = ("redis", "rabbitmq")
HOST = "127.0.0.1"


def manager_for(engine: Engine, url: str, channel: str, *, write_only: bool = False) -> socketio.AsyncManager:
    """python-socketio's client manager of ``engine`` on ``channel`` (a RabbitMQ exchange name)."""
    if engine == "redis":
        return socketio.AsyncRedisManager(url, channel=channel, write_only=write_only)
    return socketio.AsyncAioPikaManager(url, channel=channel, write_only=write_only)


async def close_manager(manager: socketio.AsyncManager) -> None:
    """Stop a pub/sub manager's listener task and close the connections it opened."""
    state = cast(Any, manager)
    task = getattr(state, "thread", None)
    if isinstance(task, asyncio.Future) and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5.0)
    for name in ("pubsub", "redis"):  # AsyncRedisManager
        conn = getattr(state, name, None)
        if conn is not None:
            await conn.aclose()
    publisher = getattr(state, "publisher_connection", None)  # AsyncAioPikaManager
    if publisher is not None:
        await publisher.close()


def build_server(manager: socketio.AsyncManager, node: str) -> AsyncServerWrapper:
    """The wrapped server of one node, its typed handlers registered."""
    tsio = wrap(socketio.AsyncServer(async_mode="asgi", client_manager=manager))

    @tsio.on(Join)
    async def join(sid: str, data: Join) -> Joined:
        await tsio.enter_room(sid, data.room)
        return Joined(room=data.room, node=node)

    @tsio.on(Trigger)
    async def trigger(sid: str, data: Trigger) -> Triggered:
        await tsio.emit(Notice(text=data.text, origin=node), room=data.room)
        return Triggered(node=node)

    @tsio.on(ProbeRequest)
    async def probe(sid: str, data: ProbeRequest) -> None:
        await tsio.emit(Probe(token=data.token), to=data.sid)

    return tsio


async def exit_with_parent(server: uvicorn.Server) -> None:
    """Ask ``server`` to exit once the process that started this one is gone (say, a test run
    killed outright), so that no node outlives its test."""
    parent = os.getppid()
    while True:
        await asyncio.sleep(0.5)
        if os.getppid() != parent:
            server.should_exit = True
            return


async def serve(engine: Engine, url: str, channel: str, port: int) -> None:
    """Serve one node on ``HOST:port`` until uvicorn is told to exit."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        port = sock.getsockname()[1]
        manager = manager_for(engine, url, channel)
        tsio = build_server(manager, f"node:{port}")
        config = uvicorn.Config(
            socketio.ASGIApp(tsio.sio),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        watch = asyncio.create_task(exit_with_parent(server))
        try:
            while not server.started:
                if serving.done():
                    serving.result()
                    raise RuntimeError("uvicorn stopped before it started serving")
                await asyncio.sleep(0.01)
            print(f"ready http://{HOST}:{port}", flush=True)
            await serving
        finally:
            watch.cancel()
            await close_manager(manager)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description="One scale-out server node (tests).")
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.engine, args.url, args.channel, args.port))


if __name__ == "__main__":
    main()
