"""Traces and metrics with ``OpenTelemetryMiddleware`` (the opentelemetry-sdk records them in memory).

    python examples/opentelemetry_tracing.py

A client connects with a W3C ``traceparent`` header and calls ``ping``; the handler opens a span of
its own and emits to the client. The example prints every finished span with its kind, its parent
and its links, then the duration metrics.
"""

from __future__ import annotations

import asyncio
import logging

import socketio
import structlog
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from zndraw_socketio import wrap
from zndraw_socketio.middleware.opentelemetry import OpenTelemetryMiddleware
from zndraw_socketio.testing import TestClient


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


class Notice(BaseModel):
    text: str


spans = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
reader = InMemoryMetricReader()
meter_provider = MeterProvider(metric_readers=[reader])

telemetry = OpenTelemetryMiddleware(tracer_provider=tracer_provider, meter_provider=meter_provider)
tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[telemetry])
tracer = tracer_provider.get_tracer("app")


@tsio.event
async def connect(sid: str, environ: dict, auth: object = None) -> None:
    pass  # a connect handler that takes the environ: the connect span's parent is its traceparent


@tsio.on(Ping, emits=[Notice])
async def ping(sid: str, data: Ping) -> Pong:
    with tracer.start_as_current_span("look something up"):  # a child of "process ping"
        await tsio.emit(Notice(text="working on it"), to=sid)  # "send notice", a child of that
    return Pong(reply=data.message)


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with TestClient(tsio, headers={"traceparent": traceparent}) as client:
        print(f"reply: {await client.call(Ping(message='hi'), response_model=Pong)!r}")
    names = {span.context.span_id: span.name for span in spans.get_finished_spans() if span.context}
    for span in sorted(spans.get_finished_spans(), key=lambda s: s.start_time or 0):
        parent = (
            "none" if span.parent is None else names.get(span.parent.span_id, f"{span.parent.span_id:016x}")
        )
        links = [names.get(link.context.span_id, "?") for link in span.links]
        print(f"span {span.name!r} kind={span.kind.name} parent={parent!r} links={links}")
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    event = point.attributes.get("messaging.destination.name") if point.attributes else None
                    print(f"metric {metric.name} event={event} count={getattr(point, 'count', '?')}")
    print("done")


if __name__ == "__main__":
    asyncio.run(main())
