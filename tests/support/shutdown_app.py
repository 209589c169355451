"""A server process for the shutdown tests: FastAPI + python-socketio under uvicorn.

    python -m tests.support.shutdown_app PORT GRACE

Its lifespan installs ``shutdown_on_signals(GRACE)``. ``quick`` answers after 0.5 s, ``stuck``
never finishes by itself; its ``yield`` dependency prints ``dependency closed`` when it is closed.
Structlog writes JSON lines to stdout; uvicorn prints ``ready`` through the startup hook.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import socketio
import structlog
import uvicorn
from fastapi import FastAPI

from zndraw_socketio import Depends, wrap


def build(grace: float) -> socketio.ASGIApp:
    """The app: ``quick`` and ``stuck`` handlers behind a FastAPI lifespan."""
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    async def resource() -> AsyncIterator[str]:
        try:
            yield "resource"
        finally:
            print("dependency closed", flush=True)

    @tsio.on("quick")
    async def quick(sid: str, text: str) -> str:
        await asyncio.sleep(0.5)
        return f"done {text}"

    @tsio.on("stuck")
    async def stuck(sid: str, text: str, held: str = Depends(resource)) -> str:
        await asyncio.sleep(3600)
        return "never"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tsio.shutdown_on_signals(grace=grace)
        print("ready", flush=True)
        yield
        await tsio.shutdown(grace=grace)

    return socketio.ASGIApp(tsio.sio, other_asgi_app=FastAPI(lifespan=lifespan))


if __name__ == "__main__":
    structlog.configure(processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()])
    port, grace = int(sys.argv[1]), float(sys.argv[2])
    uvicorn.run(build(grace), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
