"""PrometheusMiddleware: every series and label, read from a real CollectorRegistry, with real
clients over loopback (and the sync face), plus /metrics served beside the socket.io app."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import socketio
import socketio.exceptions
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, make_asgi_app
from pydantic import BaseModel

from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected, connected_wrapped, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, InboundContext, Middleware, ProblemDetail, wrap
from zndraw_socketio.middleware import InboundNext
from zndraw_socketio.middleware.prometheus import PrometheusMiddleware
from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(30)


class Notice(BaseModel):
    text: str


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One sample's value (``None`` when the registry has no such sample)."""
    return registry.get_sample_value(name, labels)


def events(
    registry: CollectorRegistry, direction: str, namespace: str, event: str, outcome: str
) -> float | None:
    labels = {"direction": direction, "namespace": namespace, "event": event, "outcome": outcome}
    return registry.get_sample_value("socketio_events_total", labels)


def metered_server(metrics: PrometheusMiddleware, gate: asyncio.Event | None = None) -> AsyncServerWrapper:
    """A server whose handlers succeed, fail, reply with problems, take bytes and catch all."""
    tsio = new_server(middleware=[metrics], async_handlers=False)

    @tsio.on(Ping, emits=[Notice])
    async def ping(sid: str, data: Ping) -> Pong:
        if gate is not None:
            await gate.wait()
        return Pong(reply=data.message)

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        raise RuntimeError("boom")

    @tsio.on("refuse")
    async def refuse(sid: str) -> ProblemDetail:
        return ProblemDetail(title="Forbidden", status=403)

    @tsio.on("blob")
    async def blob(sid: str, data: bytes) -> int:
        return len(data)

    @tsio.on("*", namespace="/")
    async def anything(event: str, sid: str, data: Any = None) -> str:
        return f"caught {event}"

    return tsio


async def test_every_inbound_series_and_label(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMiddleware(registry=registry)
    async with live_server(asgi_app(metered_server(metrics))) as url, connected(url) as client:
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a"}
        assert await client.call("ping", {"message": "b"}, timeout=TIMEOUT) == {"reply": "b"}
        assert (await client.call("ping", {"message": 1}, timeout=TIMEOUT))["status"] == 422
        assert (await client.call("boom", timeout=TIMEOUT))["status"] == 500
        assert (await client.call("refuse", timeout=TIMEOUT))["status"] == 403
        assert await client.call("blob", b"x" * 1000, timeout=TIMEOUT) == 1000
        assert await client.call("made-up-1", timeout=TIMEOUT) == "caught made-up-1"
        assert await client.call("made-up-2", timeout=TIMEOUT) == "caught made-up-2"
    assert events(registry, "in", "/", "ping", "ok") == 2
    assert events(registry, "in", "/", "ping", "error") == 1  # the 422: validation failed inside
    assert events(registry, "in", "/", "boom", "error") == 1  # an exception went through
    assert events(registry, "in", "/", "boom", "ok") == 0
    assert events(registry, "in", "/", "refuse", "error") == 1  # a problem-detail reply
    assert events(registry, "in", "/", "blob", "ok") == 1
    assert events(registry, "in", "/", "unknown", "ok") == 2  # the catch-all: no name of its own
    assert events(registry, "in", "/", "made-up-1", "ok") is None
    duration = {"direction": "in", "namespace": "/", "event": "ping"}
    assert value(registry, "socketio_event_duration_seconds_count", **duration) == 3
    assert value(registry, "socketio_event_duration_seconds_bucket", **duration, le="+Inf") == 3
    assert 0 < (value(registry, "socketio_event_duration_seconds_sum", **duration) or 0) < 3 * TIMEOUT
    assert value(registry, "socketio_events_in_progress", namespace="/", event="ping") == 0
    blob = {"direction": "in", "namespace": "/", "event": "blob"}
    assert value(registry, "socketio_payload_bytes_sum", **blob) == 1000
    assert value(registry, "socketio_payload_bytes_bucket", **blob, le="256.0") == 0
    assert value(registry, "socketio_payload_bytes_bucket", **blob, le="1024.0") == 1
    assert value(registry, "socketio_payload_bytes_count", **blob) == 1
    assert value(registry, "socketio_payload_bytes_count", **duration) is None  # a dict: size unknown


async def test_events_in_progress_while_a_handler_runs(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    gate = asyncio.Event()
    tsio = metered_server(PrometheusMiddleware(registry=registry), gate)
    tsio.sio.async_handlers = True
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        calls = [
            asyncio.ensure_future(client.call("ping", {"message": str(i)}, timeout=TIMEOUT)) for i in range(2)
        ]
        for _ in range(200):
            if value(registry, "socketio_events_in_progress", namespace="/", event="ping") == 2:
                break
            await asyncio.sleep(0.01)
        assert value(registry, "socketio_events_in_progress", namespace="/", event="ping") == 2
        gate.set()
        assert await asyncio.gather(*calls) == [{"reply": "0"}, {"reply": "1"}]
    assert value(registry, "socketio_events_in_progress", namespace="/", event="ping") == 0


async def test_a_catch_all_namespace_labels_its_namespaces_unknown(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    tsio = new_server(middleware=[PrometheusMiddleware(registry=registry)], namespaces="*")

    @tsio.on(Ping, namespace="*")
    async def ping(namespace: str, sid: str, data: Ping) -> Pong:
        return Pong(reply=namespace)

    async with (
        live_server(asgi_app(tsio)) as url,
        connected(url, namespaces=["/room-1", "/room-2"]) as client,
    ):
        for room in ("/room-1", "/room-2"):
            assert await client.call("ping", {"message": "m"}, namespace=room, timeout=TIMEOUT) == {
                "reply": room
            }
    assert events(registry, "in", "unknown", "ping", "ok") == 2  # a registered event, any namespace
    assert events(registry, "in", "/room-1", "ping", "ok") is None


async def test_outbound_emits_and_calls(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMiddleware(registry=registry)
    tsio = metered_server(metrics)
    tsio.sio.async_handlers = True  # socketio's call() needs it
    client = wrap(socketio.AsyncClient())
    received = Inbox()

    @client.on(Notice)
    async def notice(data: Notice) -> None:
        received.put(data)

    @client.on("question")
    async def question(data: str) -> Any:
        return {"kind": "error", "title": "No", "status": 400} if data == "bad" else "yes"

    sids: Inbox = Inbox()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        sids.put(sid)

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        await tsio.emit(Notice(text="hi"), to=sid)
        await received.get()
        await tsio.emit("notice", {"text": "by name"}, to=sid)  # a string, but a declared name
        await received.get()
        await tsio.emit("dynamic-name-42", {"x": 1}, to=sid)
        await tsio.emit("blob", b"abc", to=sid)  # a registered name
        assert await tsio.call("question", "good", to=sid, timeout=TIMEOUT) == "yes"
        assert (await tsio.call("question", "bad", to=sid, timeout=TIMEOUT))["status"] == 400
        with pytest.raises(socketio.exceptions.TimeoutError):
            await tsio.call("question", "slow", to=sid, timeout=0.001, namespace="/nowhere")
    assert events(registry, "out", "/", "notice", "ok") == 2  # declared in emits=[Notice]
    assert events(registry, "out", "/", "unknown", "ok") == 2  # unregistered names: dynamic-name-42, question
    assert events(registry, "out", "/", "blob", "ok") == 1
    assert events(registry, "out", "/", "unknown", "error") == 1  # question's 400 reply
    assert events(registry, "out", "/unknown", "unknown", "error") is None
    assert events(registry, "out", "unknown", "unknown", "error") == 1  # an unregistered namespace
    out_blob = {"direction": "out", "namespace": "/", "event": "blob"}
    assert value(registry, "socketio_payload_bytes_sum", **out_blob) == 3
    assert (
        value(
            registry, "socketio_event_duration_seconds_count", direction="out", namespace="/", event="notice"
        )
        == 2
    )
    assert (
        value(registry, "socketio_events_in_progress", namespace="/", event="notice") is None
    )  # inbound only


async def test_a_problem_reply_to_a_call_counts_as_an_error(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    client = wrap(socketio.AsyncClient(), middleware=[PrometheusMiddleware(registry=registry)])
    tsio = metered_server(PrometheusMiddleware(registry=CollectorRegistry()))
    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        assert await client.call(Ping(message="m"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="m")
        with pytest.raises(Exception, match="422"):
            await client.call("ping", {"message": 1}, response_model=Pong, timeout=TIMEOUT)
        problem = await client.call("refuse", response_model=Pong | ProblemDetail, timeout=TIMEOUT)
        assert isinstance(problem, ProblemDetail)
    assert events(registry, "out", "/", "ping", "ok") == 1  # a model: its name is bounded
    assert events(registry, "out", "/", "ping", "error") == 1  # ProblemDetailError went through
    assert events(registry, "out", "/", "unknown", "error") == 1  # the 403 as data, still an error


async def test_connections_are_read_from_the_server_when_scraped(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMiddleware(registry=registry)
    tsio = new_server(middleware=[metrics])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on(Ping, namespace="/chat")
    async def chat_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    metrics.track_connections(tsio)
    assert value(registry, "socketio_connections", namespace="/") == 0
    async with live_server(asgi_app(tsio)) as url:
        async with connected(url) as one, connected(url, namespaces=["/", "/chat"]) as two:
            assert await one.call("ping", {"message": "1"}, timeout=TIMEOUT) == {"reply": "1"}
            assert await two.call("ping", {"message": "2"}, namespace="/chat", timeout=TIMEOUT) == {
                "reply": "2"
            }
            assert value(registry, "socketio_connections", namespace="/") == 2
            assert value(registry, "socketio_connections", namespace="/chat") == 1
        for _ in range(200):  # the server sees the disconnects a moment later
            if value(registry, "socketio_connections", namespace="/") == 0:
                break
            await asyncio.sleep(0.01)
    assert value(registry, "socketio_connections", namespace="/") == 0
    assert value(registry, "socketio_connections", namespace="/chat") == 0
    with pytest.raises(TypeError, match="socketio server or client"):
        metrics.track_connections(object())


async def test_a_client_tracks_its_own_connections(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMiddleware(registry=registry)
    tsio = metered_server(PrometheusMiddleware(registry=CollectorRegistry()))
    async with live_server(asgi_app(tsio)) as url, connected_wrapped(url) as client:
        metrics.track_connections(client)
        assert value(registry, "socketio_connections", namespace="/") == 1


async def test_middleware_sees_no_connect_without_a_connect_handler(live_server: LiveServer) -> None:
    seen: list[str] = []

    class Spy(Middleware):
        async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
            seen.append(ctx.event)
            return await call_next(ctx)

    tsio = new_server(middleware=[Spy()])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        await client.call("ping", {"message": "m"}, timeout=TIMEOUT)
    assert seen == ["ping"]  # why socketio_connections reads the server instead of counting events


async def test_a_rate_limit_inside_counts_its_429_as_an_error(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    tsio = new_server(middleware=[PrometheusMiddleware(registry=registry), RateLimitMiddleware("1/hour")])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        await client.call("ping", {"message": "1"}, timeout=TIMEOUT)
        await client.call("ping", {"message": "2"}, timeout=TIMEOUT)
    assert events(registry, "in", "/", "ping", "ok") == 1
    assert events(registry, "in", "/", "ping", "error") == 1


def test_the_sync_face() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMiddleware(registry=registry)
    tsio = wrap(socketio.Server(async_mode="threading"), middleware=[metrics])

    @tsio.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    metrics.track_connections(tsio)
    with serve_wsgi(socketio.WSGIApp(tsio.sio)) as url:
        client = socketio.Client()
        client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            for i in range(5):
                assert client.call("ping", {"message": str(i)}, timeout=TIMEOUT) == {"reply": str(i)}
            assert value(registry, "socketio_connections", namespace="/") == 1
        finally:
            client.disconnect()
    assert events(registry, "in", "/", "ping", "ok") == 5
    assert value(registry, "socketio_events_in_progress", namespace="/", event="ping") == 0


def test_a_prefix_and_buckets_of_your_own_and_no_duplicates() -> None:
    registry = CollectorRegistry()
    PrometheusMiddleware(registry=registry, prefix="chat", buckets=(0.1, 1.0))
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        PrometheusMiddleware(registry=registry, prefix="chat")
    PrometheusMiddleware(registry=registry)  # another prefix: fine


async def test_metrics_served_beside_the_socketio_app(live_server: LiveServer) -> None:
    registry = CollectorRegistry()
    tsio = metered_server(PrometheusMiddleware(registry=registry))
    app = FastAPI()
    app.mount("/metrics", make_asgi_app(registry=registry))
    async with live_server(asgi_app(tsio, app)) as url, connected(url) as client:
        await client.call("ping", {"message": "a"}, timeout=TIMEOUT)
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get("/metrics/")
    assert response.status_code == 200
    text = response.text
    assert 'socketio_events_total{direction="in",event="ping",namespace="/",outcome="ok"} 1.0' in text
    assert "# TYPE socketio_event_duration_seconds histogram" in text
    assert (
        'socketio_event_duration_seconds_bucket{direction="in",event="ping",le="+Inf",namespace="/"} 1.0'
        in text
    )
