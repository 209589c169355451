"""The server process of the end-to-end benchmark: uvicorn + ``socketio.ASGIApp`` on 127.0.0.1.

    python benchmarks/e2e_server.py raw|raw_codec|typed|typed_engineio PORT

``raw``: plain python-socketio with its standard-library codec, a dict handler; ``raw_codec``: the
same with ``zndraw_socketio``'s packet class set on the server object; ``typed``: ``wrap()`` with
its defaults and a typed handler; ``typed_engineio``: the same with engine.io's own websocket
loop (``websocket_loop=False``). Every variant answers ``ping`` with ``{"reply": <message>}``.
Structlog is configured as the README recommends for production (debug entries filtered out).
Prints ``ready`` once it listens.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import socketio
import structlog
import uvicorn
from pydantic import BaseModel

from zndraw_socketio import merge_sio_context, wrap
from zndraw_socketio.transport.codec import PydanticPacket


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


def app_for(variant: str) -> Any:
    """The ASGI app of ``variant``."""
    sio = socketio.AsyncServer(async_mode="asgi")
    if variant.startswith("typed"):
        tsio = wrap(sio, websocket_loop=variant == "typed")

        @tsio.on(Ping)
        async def typed_ping(sid: str, data: Ping) -> Pong:
            return Pong(reply=data.message)

    else:
        if variant == "raw_codec":
            sio.packet_class = PydanticPacket

        async def raw_ping(sid: str, data: dict[str, Any]) -> dict[str, Any]:
            return {"reply": data["message"]}

        sio.on("ping", raw_ping)

    return socketio.ASGIApp(sio)


def production_logging() -> None:
    """structlog as the README recommends for production: debug entries filtered out,
    ``merge_sio_context`` first among the processors (both ends of the benchmark use it)."""
    processors = [merge_sio_context, *structlog.get_config()["processors"]]
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO), processors=processors
    )


async def main(variant: str, port: int) -> None:
    production_logging()
    config = uvicorn.Config(
        app_for(variant), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
