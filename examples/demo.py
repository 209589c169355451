"""zndraw_socketio demo: a FastAPI app with a typed socket.io server and a typed client, in one process.

    python examples/demo.py           # a short exchange with the structured logs on screen, then exit
    python examples/demo.py --serve   # the same, then keep serving for a browser until Ctrl-C
    python examples/demo.py --batteries  # also rate limiting, Prometheus (/metrics) and OpenTelemetry

Everything runs on 127.0.0.1 (a free port unless ``--port`` is given); no other service is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from typing import Annotated

import httpx
import socketio
import structlog
import uvicorn
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from zndraw_socketio import (
    AsyncClientWrapper,
    AsyncServerWrapper,
    Emits,
    ProblemDetail,
    ProblemDetailError,
    merge_sio_context,
    wrap,
)

log = structlog.get_logger("demo")


# -- the events: plain pydantic models; the event name is the class name in snake_case ------------
class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


class JoinRoom(BaseModel):
    room: str


class RoomMessage(BaseModel):
    room: str
    text: str


class Divide(BaseModel):
    a: float
    b: float


class Quotient(BaseModel):
    value: float


class Announcement(BaseModel):
    text: str


# -- the server: FastAPI for HTTP, a wrapped AsyncServer for socket.io, one ASGI app ---------------
app = FastAPI(title="zndraw_socketio demo")
tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
tsio.app = app  # handlers' dependencies reach it as request.app
asgi_app = socketio.ASGIApp(tsio.sio, other_asgi_app=app)


@tsio.on(Ping)
async def ping(sid: str, data: Ping) -> Pong:
    # sio_event, sid and namespace are bound while the handler runs: this line carries them too
    log.info("handling a ping", message=data.message)
    return Pong(reply=data.message.upper())


@tsio.on(JoinRoom, emits=[RoomMessage])
async def join_room(sid: str, data: JoinRoom) -> None:
    await tsio.enter_room(sid, data.room)
    await tsio.emit(RoomMessage(room=data.room, text=f"{sid} joined"), room=data.room)


@tsio.on(Divide)
async def divide(sid: str, data: Divide) -> Quotient:
    return Quotient(value=data.a / data.b)  # b == 0 raises: the caller gets a 500, not a timeout


@app.get("/")
async def index() -> dict[str, str]:
    return {"socket.io": "/socket.io/", "try it": "/docs (POST /announce emits to every client)"}


@app.post("/announce")
async def announce(
    text: str, sio: Annotated[AsyncServerWrapper, Depends(tsio), Emits(Announcement)]
) -> dict[str, str]:
    await sio.emit(Announcement(text=text))
    return {"status": "sent"}


# -- the client: a wrapped AsyncClient with typed handlers ----------------------------------------
def make_client(inbox: asyncio.Queue[BaseModel]) -> AsyncClientWrapper:
    client = wrap(socketio.AsyncClient(reconnection=False))

    @client.on(RoomMessage)
    async def on_room_message(data: RoomMessage) -> None:
        await inbox.put(data)

    @client.on(Announcement)
    async def on_announcement(data: Announcement) -> None:
        print(f"client received: {data!r}")
        await inbox.put(data)

    return client


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


async def exchange(client: AsyncClientWrapper, inbox: asyncio.Queue[BaseModel], url: str) -> None:
    step("1. typed call: Ping -> Pong")
    pong = await client.call(Ping(message="hello"), response_model=Pong, timeout=5)
    print(f"reply: {pong!r}")

    step("2. the server emits a typed RoomMessage to the client's room")
    await client.emit(JoinRoom(room="lobby"))
    print(f"client received: {await asyncio.wait_for(inbox.get(), 5)!r}")

    step("3. a bad payload: the caller gets a 422 problem detail at once")
    try:
        await client.call("ping", {"message": 42}, response_model=Pong, timeout=5)
    except ProblemDetailError as exc:
        print(f"ProblemDetailError: {exc}")
        print(f"problem detail: {exc.problem.model_dump(exclude_none=True)}")

    step("4. a handler that raises: 500, no exception text (response_model=Quotient | ProblemDetail)")
    result = await client.call(Divide(a=1, b=0), response_model=Quotient | ProblemDetail, timeout=5)
    print(f"reply: {result!r}")

    step("5. a REST route emits a typed Announcement to every client")
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/announce", params={"text": "hello from REST"})
    print(f"POST /announce -> {response.status_code} {response.json()}")
    await asyncio.wait_for(inbox.get(), 5)


# -- the batteries (--batteries) ------------------------------------------------------------------
def install_batteries() -> None:
    """Rate limiting (10 events per second per connection), Prometheus metrics at /metrics and
    OpenTelemetry spans (the global providers: no-op unless the app configures the SDK)."""
    from prometheus_client import CollectorRegistry, make_asgi_app

    from zndraw_socketio.middleware.opentelemetry import OpenTelemetryMiddleware
    from zndraw_socketio.middleware.prometheus import PrometheusMiddleware
    from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware

    registry = CollectorRegistry()
    metrics = PrometheusMiddleware(registry=registry)
    tsio.add_middleware(metrics)  # outermost of the three: it counts the rate limit's 429s
    tsio.add_middleware(OpenTelemetryMiddleware())
    tsio.add_middleware(RateLimitMiddleware("10/second"))
    metrics.track_connections(tsio)
    app.mount("/metrics", make_asgi_app(registry=registry))


async def batteries(client: AsyncClientWrapper, url: str) -> None:
    step("6. batteries: 25 pings at once against a limit of 10/second, then GET /metrics")
    replies = await asyncio.gather(
        *(
            client.call(Ping(message="burst"), response_model=Pong | ProblemDetail, timeout=5)
            for _ in range(25)
        )
    )
    refused = [r for r in replies if isinstance(r, ProblemDetail)]
    title = refused[0].title if refused else "-"
    print(f"{len(replies) - len(refused)} replied, {len(refused)} refused: {title}")
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/metrics/")
    for line in response.text.splitlines():
        if line.startswith("socketio_connections{") or (
            line.startswith("socketio_events_total") and 'event="ping"' in line
        ):
            print(line)


# -- running it -----------------------------------------------------------------------------------
def configure_logging() -> None:
    """Console logs with debug visible, so that every event's entry is on screen."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    structlog.configure(
        processors=[
            merge_sio_context,  # sio_event/sid/namespace in handlers' own lines (one context variable)
            structlog.contextvars.merge_contextvars,  # what the app binds itself
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S"),
            structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )


async def main(port: int, serve: bool, with_batteries: bool = False) -> None:
    configure_logging()
    if with_batteries:
        install_batteries()
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))  # port 0: the system picks a free one
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(asgi_app, log_level="warning", lifespan="off"))
    server_task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if server_task.done():
            server_task.result()  # startup failed: raise why
        await asyncio.sleep(0.02)
    print(f"server listening on {url}", flush=True)

    inbox: asyncio.Queue[BaseModel] = asyncio.Queue()
    client = make_client(inbox)
    try:
        await client.connect(url, wait_timeout=5)
        await exchange(client, inbox, url)
        if with_batteries:
            await batteries(client, url)
        if serve:
            stop = asyncio.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)
            print(f"\nserving on {url}/ (try {url}/docs); Ctrl-C stops", flush=True)
            await stop.wait()
    finally:
        await client.disconnect()
        server.should_exit = True
        await server_task
    print("\ndone", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--serve", action="store_true", help="keep serving after the exchange")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--batteries", action="store_true", help="add rate limiting, Prometheus (/metrics) and OpenTelemetry"
    )
    args = parser.parse_args()
    asyncio.run(main(args.port, args.serve, args.batteries))
