"""Prometheus metrics with ``PrometheusMiddleware``, served at ``/metrics`` beside the socket.io app.

    python examples/prometheus_metrics.py

A typed server handles a few events from a client (through ``zndraw_socketio.testing.TestClient``,
in memory), then the example fetches ``GET /metrics/`` from the same ASGI app and prints the
``socketio_*`` lines.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import socketio
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, make_asgi_app
from pydantic import BaseModel

from zndraw_socketio import wrap
from zndraw_socketio.middleware.prometheus import PrometheusMiddleware
from zndraw_socketio.testing import TestClient


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


registry = CollectorRegistry()  # or leave it out: prometheus-client's global REGISTRY
metrics = PrometheusMiddleware(registry=registry)
tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[metrics])
metrics.track_connections(tsio)  # socketio_connections{namespace}

app = FastAPI()
app.mount("/metrics", make_asgi_app(registry=registry))  # prometheus-client's own ASGI app
asgi_app = socketio.ASGIApp(tsio.sio, other_asgi_app=app)  # what uvicorn serves


@tsio.on(Ping)
async def ping(sid: str, data: Ping) -> Pong:
    if data.message == "boom":
        raise RuntimeError("boom")
    return Pong(reply=data.message)


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    async with TestClient(tsio) as client:
        await client.call(Ping(message="hello"))
        await client.call(Ping(message="boom"))  # a 500: outcome="error"
        await client.emit("nobody-handles-this")  # no handler: socketio never calls the chain
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi_app), base_url="http://app"
        ) as http:
            response = await http.get("/metrics/")
    for line in response.text.splitlines():
        if line.startswith(("socketio_events_total", "socketio_connections", "socketio_events_in_progress")):
            print(line)
    print("done")


if __name__ == "__main__":
    asyncio.run(main())
