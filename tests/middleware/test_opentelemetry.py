"""OpenTelemetryMiddleware with the SDK's in-memory span exporter and metric reader: span names,
kinds, attributes, parents and links, errors, metrics, over loopback on an async server, a client
and the sync server, and the no-op default."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import socketio
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, ProblemDetail, wrap
from zndraw_socketio.middleware.opentelemetry import OpenTelemetryMiddleware

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(30)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


class Notice(BaseModel):
    text: str


def context_of(span: ReadableSpan) -> Any:
    """A finished span's own context."""
    assert span.context is not None
    return span.context


@dataclass
class Telemetry:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def middleware(self) -> OpenTelemetryMiddleware:
        return OpenTelemetryMiddleware(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        spans = list(self.spans.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def one(self, name: str) -> ReadableSpan:
        (span,) = self.finished(name)
        return span

    def points(self, metric: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for m in scope.metrics
            if m.name == metric
            for point in m.data.data_points
        ]


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Telemetry(spans, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def traced_server(telemetry: Telemetry) -> AsyncServerWrapper:
    tsio = new_server(middleware=[telemetry.middleware()], async_handlers=False)
    inner = telemetry.tracer_provider.get_tracer("app")

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        pass

    @tsio.on(Ping, emits=[Notice])
    async def ping(sid: str, data: Ping) -> Pong:
        with inner.start_as_current_span("inside the handler"):
            await tsio.emit(Notice(text="n"), to=sid)
        return Pong(reply=data.message)

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        raise RuntimeError("boom")

    @tsio.on("refuse")
    async def refuse(sid: str, status: int) -> ProblemDetail:
        return ProblemDetail(title="No", status=status)

    @tsio.on("*")
    async def anything(event: str, sid: str, *args: Any) -> str:
        return event

    @tsio.event
    async def disconnect(sid: str, reason: Any = None) -> None:
        pass

    return tsio


async def test_spans_of_a_connection_and_its_events(live_server: LiveServer, telemetry: Telemetry) -> None:
    tsio = traced_server(telemetry)
    (middleware,) = [mw for mw in tsio.middleware if isinstance(mw, OpenTelemetryMiddleware)]
    async with live_server(asgi_app(tsio)) as url:
        client = socketio.AsyncClient()
        await client.connect(url, headers={"traceparent": TRACEPARENT}, transports=["websocket"])
        try:
            assert await client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
            sid = client.get_sid("/")
        finally:
            await client.disconnect()
    connect = telemetry.one("connect /")
    assert connect.kind is SpanKind.SERVER
    assert connect.parent is not None and format(connect.parent.span_id, "016x") == PARENT_ID
    assert format(context_of(connect).trace_id, "032x") == TRACE_ID  # the handshake's trace
    assert connect.attributes == {
        "messaging.system": "socketio",
        "messaging.operation.name": "connect",
        "socketio.namespace": "/",
        "socketio.sid": sid,
    }
    process = telemetry.one("process ping")
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is None  # a trace of its own...
    assert [link.context for link in process.links] == [connect.context]  # ...linked to the connect
    assert process.attributes == {
        "messaging.system": "socketio",
        "messaging.destination.name": "ping",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "socketio.namespace": "/",
        "socketio.sid": sid,
    }
    assert process.status.status_code is StatusCode.UNSET
    inside = telemetry.one("inside the handler")
    assert inside.parent is not None and inside.parent.span_id == context_of(process).span_id
    send = telemetry.one("send notice")
    assert send.kind is SpanKind.PRODUCER
    assert send.parent is not None and send.parent.span_id == context_of(inside).span_id
    assert send.attributes == {
        "messaging.system": "socketio",
        "messaging.destination.name": "notice",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "socketio.namespace": "/",
        "socketio.to": sid,
    }
    disconnect = telemetry.one("process disconnect")
    assert [link.context for link in disconnect.links] == [connect.context]
    assert middleware._connections == {}  # the disconnect forgot the connection


async def test_failures_set_error_type_and_5xx_the_error_status(
    live_server: LiveServer, telemetry: Telemetry
) -> None:
    async with live_server(asgi_app(traced_server(telemetry))) as url, connected(url) as client:
        assert (await client.call("boom", timeout=TIMEOUT))["status"] == 500
        assert (await client.call("ping", {"message": 1}, timeout=TIMEOUT))["status"] == 422
        assert (await client.call("refuse", 403, timeout=TIMEOUT))["status"] == 403
        assert (await client.call("refuse", 503, timeout=TIMEOUT))["status"] == 503
    boom = telemetry.one("process boom")
    assert boom.attributes is not None and boom.attributes["error.type"] == "RuntimeError"
    assert boom.status.status_code is StatusCode.ERROR
    assert [event.name for event in boom.events] == ["exception"]
    invalid = telemetry.one("process ping")  # a ValidationError: a 4xx, not the server's fault
    assert invalid.attributes is not None
    assert invalid.attributes["error.type"] == "pydantic_core._pydantic_core.ValidationError"
    assert invalid.status.status_code is StatusCode.UNSET
    forbidden, unavailable = telemetry.finished("process refuse")
    assert forbidden.attributes is not None and forbidden.attributes["error.type"] == "403"
    assert forbidden.status.status_code is StatusCode.UNSET
    assert unavailable.attributes is not None and unavailable.attributes["error.type"] == "503"
    assert unavailable.status.status_code is StatusCode.ERROR


async def test_a_catch_all_names_the_event_and_keeps_metrics_to_its_template(
    live_server: LiveServer, telemetry: Telemetry
) -> None:
    async with live_server(asgi_app(traced_server(telemetry))) as url, connected(url) as client:
        assert await client.call("made-up", timeout=TIMEOUT) == "made-up"
    span = telemetry.one("process made-up")
    assert span.attributes is not None
    assert span.attributes["messaging.destination.name"] == "made-up"
    assert span.attributes["messaging.destination.template"] == "*"
    templated = [
        p
        for p in telemetry.points("messaging.process.duration")
        if "messaging.destination.template" in p.attributes
    ]
    (point,) = templated
    assert "messaging.destination.name" not in point.attributes  # bounded: the template only


async def test_duration_metrics_carry_the_span_attributes_without_the_sid(
    live_server: LiveServer, telemetry: Telemetry
) -> None:
    client = wrap(socketio.AsyncClient(), middleware=[telemetry.middleware()])
    tsio = traced_server(telemetry)
    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        assert await client.call(Ping(message="a"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="a")
        assert await client.call(Ping(message="b"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="b")
        problem = await client.call("refuse", 409, response_model=ProblemDetail, timeout=TIMEOUT)
        assert problem.status == 409
    process = {
        "messaging.system": "socketio",
        "messaging.destination.name": "ping",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "socketio.namespace": "/",
    }
    (inbound,) = [p for p in telemetry.points("messaging.process.duration") if dict(p.attributes) == process]
    assert inbound.count == 2 and 0 < inbound.sum < 2 * TIMEOUT
    assert inbound.explicit_bounds[0] == 0.005
    outbound = {
        p.attributes["messaging.destination.name"]: p
        for p in telemetry.points("messaging.client.operation.duration")
    }
    assert outbound["ping"].count == 2  # the client's two calls
    assert dict(outbound["ping"].attributes) == {
        "messaging.system": "socketio",
        "messaging.destination.name": "ping",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "socketio.namespace": "/",
    }
    assert outbound["refuse"].attributes["error.type"] == "409"  # a problem reply to a call
    assert [span.parent for span in telemetry.finished("send ping")] == [None, None]  # no span was current


def test_the_sync_server(telemetry: Telemetry) -> None:
    tsio = wrap(socketio.Server(async_mode="threading"), middleware=[telemetry.middleware()])
    inner = telemetry.tracer_provider.get_tracer("app")

    @tsio.event
    def connect(sid: str, environ: dict[str, Any]) -> None:
        pass

    @tsio.on(Ping)
    def ping(sid: str, data: Ping) -> Pong:
        with inner.start_as_current_span("inside the handler"):
            tsio.emit(Notice(text="n"), to=sid)
        return Pong(reply=data.message)

    with serve_wsgi(socketio.WSGIApp(tsio.sio)) as url:
        client = socketio.Client()
        client.connect(
            url, headers={"traceparent": TRACEPARENT}, transports=["websocket"], wait_timeout=TIMEOUT
        )
        try:
            assert client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
        finally:
            client.disconnect()
    connect_span = telemetry.one("connect /")
    assert connect_span.parent is not None and format(connect_span.parent.span_id, "016x") == PARENT_ID
    process = telemetry.one("process ping")
    assert [link.context for link in process.links] == [connect_span.context]
    inside = telemetry.one("inside the handler")
    assert inside.parent is not None and inside.parent.span_id == context_of(process).span_id
    send = telemetry.one("send notice")
    assert send.parent is not None and send.parent.span_id == context_of(inside).span_id


async def test_a_connect_without_traceparent_or_environ_still_gets_a_span(
    live_server: LiveServer, telemetry: Telemetry
) -> None:
    tsio = new_server(middleware=[telemetry.middleware()])
    seen = Inbox()

    @tsio.event
    async def connect(sid: str) -> None:  # no environ: no headers to read
        seen.put(sid)

    async with live_server(asgi_app(tsio)) as url:
        client = socketio.AsyncClient()
        await client.connect(url, headers={"traceparent": TRACEPARENT}, transports=["websocket"])
        await seen.get()
        await client.disconnect()
    span = telemetry.one("connect /")
    assert span.parent is None and format(context_of(span).trace_id, "032x") != TRACE_ID


async def test_the_noop_default_changes_nothing(live_server: LiveServer) -> None:
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)  # nothing set globally
    tsio = new_server(middleware=[OpenTelemetryMiddleware()])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        assert not trace.get_current_span().get_span_context().is_valid
        return Pong(reply=data.message)

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        raise RuntimeError("boom")

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
        assert (await client.call("boom", timeout=TIMEOUT))["status"] == 500
        await tsio.emit("anything", {"x": 1})


def test_explicit_noop_providers_leave_the_middleware_out() -> None:
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    noop = OpenTelemetryMiddleware(tracer_provider=NoOpTracerProvider(), meter_provider=NoOpMeterProvider())
    plain, traced = new_server(), new_server(middleware=[noop])
    for tsio in (plain, traced):

        @tsio.on(Ping)
        async def ping(sid: str, data: Ping) -> Pong:
            return Pong(reply=data.message)

    # nothing could be recorded: no step in any chain, and the sender is the one without middleware
    (route,) = traced.routes

    async def terminal(ctx: Any) -> None:
        return None

    assert noop.wrap_inbound(route, terminal) is terminal
    assert noop.wrap_outbound(terminal) is terminal
    assert traced._core.send.__code__ is plain._core.send.__code__


GLOBAL_PROVIDER_SET_LATER = """
import asyncio
import socketio
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from zndraw_socketio import wrap
from zndraw_socketio.middleware.opentelemetry import OpenTelemetryMiddleware
from zndraw_socketio.testing import TestClient

tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[OpenTelemetryMiddleware()])

@tsio.on("ping")
async def ping(sid: str) -> str:
    return "pong"

async def main() -> None:
    spans = InMemorySpanExporter()
    async with TestClient(tsio) as client:
        await client.call("ping")
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(spans))
        trace.set_tracer_provider(provider)  # after the middleware was built and used
        await asyncio.sleep(1.1)  # it looks again at most once a second
        await client.call("ping")
    print(sorted(span.name for span in spans.get_finished_spans()))

asyncio.run(main())
"""


def test_a_global_provider_set_later_is_followed() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", GLOBAL_PROVIDER_SET_LATER], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['process ping']", done.stdout + done.stderr
