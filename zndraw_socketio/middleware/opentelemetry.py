"""OpenTelemetry traces and metrics for every event, after the messaging semantic conventions.

    from zndraw_socketio.middleware.opentelemetry import OpenTelemetryMiddleware

    tsio = wrap(sio, middleware=[OpenTelemetryMiddleware()])  # the global providers

Spans: ``process <event>`` (kind CONSUMER) per inbound event, current while the handler runs, so
that the handler's own spans are its children; ``send <event>`` (kind PRODUCER) per ``emit`` and
``call``, a child of whatever span is current (inside a handler, its ``process`` span);
``connect <namespace>`` (kind SERVER) per connection that a connect handler sees, whose parent is
the W3C ``traceparent`` of the handshake's headers when the client sent one; the event spans of
that connection link to it. Metrics: ``messaging.process.duration`` (inbound) and
``messaging.client.operation.duration`` (outbound) histograms, in seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from ..events.context import target_of
from ..payloads.problems import ProblemDetail, ProblemDetailError
from .base import InboundNext, Middleware, OutboundNext

if TYPE_CHECKING:
    from ..events.context import InboundContext, OutboundContext
    from ..events.route import Route

__all__ = ["DURATION_BUCKETS", "OpenTelemetryMiddleware"]

SYSTEM = "messaging.system"
DESTINATION = "messaging.destination.name"
TEMPLATE = "messaging.destination.template"
OPERATION_TYPE = "messaging.operation.type"
OPERATION_NAME = "messaging.operation.name"
NAMESPACE = "socketio.namespace"
SID = "socketio.sid"
TARGET = "socketio.to"
ERROR_TYPE = "error.type"

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""The semantic conventions' advice for the messaging duration histograms, in seconds."""

_MAX_CONNECTIONS = 100_000  # connect span contexts kept for links; the oldest go first
_MAX_OUTBOUND = 1024  # outbound (namespace, event) attribute sets kept


def _status_of(exc: BaseException) -> int | None:
    """The problem-detail status an exception becomes, when it has one of its own."""
    if isinstance(exc, ValidationError):
        return 422
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, ProblemDetailError):
        return exc.status
    return None


def _reply_status(reply: Any) -> int | None:
    """The status of a problem-detail reply (a dict with ``kind: "error"`` or the model), else None."""
    if type(reply) is dict:
        status = reply.get("status")
        return status if reply.get("kind") == "error" and isinstance(status, int) else None
    return reply.status if ProblemDetail in type(reply).__mro__ else None


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class _Environ(Getter[Any]):
    """Reads W3C trace context headers from a WSGI/engine.io environ (``HTTP_TRACEPARENT``...)."""

    def get(self, carrier: Any, key: str) -> list[str] | None:
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Any) -> list[str]:
        return [
            k[5:].lower().replace("_", "-") for k in carrier if isinstance(k, str) and k.startswith("HTTP_")
        ]


class _Tracing:
    """Whether spans are worth starting: always with a tracer provider given; with the global
    one, once it is set (until then the API's proxy hands out no-op spans; it is set once, never
    unset). Steps read ``on`` in place and, while it is False, call this at most once a second
    (``check_at``): asking the API costs more than an event."""

    __slots__ = ("check_at", "on")

    def __init__(self, on: bool) -> None:
        self.on = on
        self.check_at = 0.0

    def __call__(self) -> bool:
        self.check_at = perf_counter() + 1.0
        self.on = not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
        return self.on


class OpenTelemetryMiddleware(Middleware):
    """Traces and times every event on any face (the providers' no-op default costs little).

    ``tracer_provider`` and ``meter_provider`` default to the global ones (read when the
    middleware is built; the API's proxies follow a provider set later). Span attributes:
    ``messaging.system`` (``"socketio"``), ``messaging.destination.name`` (the event; a catch-all
    handler also sets ``messaging.destination.template`` ``"*"``), ``messaging.operation.type`` and
    ``messaging.operation.name`` (``process``/``send``), ``socketio.namespace``, and on a server
    ``socketio.sid`` (inbound: the sender's sid) or, outbound, ``socketio.to`` (the target given).
    A failure sets ``error.type``: an exception's class name, or a problem-detail reply's status;
    the span's status is ERROR when the failure is a 5xx (an unhandled exception is one), not for a
    4xx. The metrics carry the same attributes except the sid and target (one series per
    connection would be unbounded), and a catch-all's template instead of the event name.

    A connect span is made for the connections a connect handler sees (register one where you
    want them); its parent is read from the environ when the handler takes it
    (``async def connect(sid, environ, auth)``).

    Cost when nothing records: given a ``NoOpTracerProvider`` and a ``NoOpMeterProvider``, the
    middleware leaves every chain; with the global providers while none is set (the API's
    proxies), it starts no span until one is (it looks at most once a second), and times the
    event for the proxy histogram.
    """

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        self.tracer = trace.get_tracer("zndraw_socketio", tracer_provider=tracer_provider)
        meter = metrics.get_meter("zndraw_socketio", meter_provider=meter_provider)
        self.process_duration = meter.create_histogram(
            "messaging.process.duration",
            unit="s",
            description="Duration of processing operation.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.client_duration = meter.create_histogram(
            "messaging.client.operation.duration",
            unit="s",
            description="Duration of messaging operation initiated by a producer or consumer client.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._trace = trace
        self._attach, self._detach = otel_context.attach, otel_context.detach
        self._root = (
            otel_context.Context()
        )  # inbound spans start traces of their own, linked to the connect span
        self._propagator = TraceContextTextMapPropagator()
        self._getter = _Environ()
        self._connections: dict[tuple[str, str | None], Any] = {}  # -> connect span context
        self._outbound: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        # explicit no-op providers: nothing could ever be recorded, so every chain leaves this out
        self._noop = isinstance(self.tracer, trace.NoOpTracer) and isinstance(
            self.process_duration, metrics.NoOpHistogram
        )
        self._tracing = _Tracing(tracer_provider is not None)

    # -- inbound -------------------------------------------------------------------------------
    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """The step tracing ``route``'s events: names and attributes computed here, once."""
        if self._noop:
            return call_next
        if route.kind == "connect":
            return self._connect_step(route, call_next)
        trace, tracer, root = self._trace, self.tracer, self._root
        kind = trace.SpanKind.CONSUMER
        set_current, attach, detach = trace.set_span_in_context, self._attach, self._detach
        record = self.process_duration.record
        connections = self._connections
        catch_all = route.event == "*"
        base: dict[str, Any] = {SYSTEM: "socketio", OPERATION_TYPE: "process", OPERATION_NAME: "process"}
        if catch_all:
            base[TEMPLATE] = "*"
        fixed_event = None if catch_all else route.event
        fixed_namespace = None if route.namespace == "*" else route.namespace
        fixed_name = None if catch_all else f"process {route.event}"
        fixed_metric = None
        if fixed_event is not None and fixed_namespace is not None:
            fixed_metric = {**base, DESTINATION: fixed_event, NAMESPACE: fixed_namespace}
        disconnect = route.kind == "disconnect"
        link, invalid, tracing = trace.Link, trace.INVALID_SPAN, self._tracing

        def begin_inbound(ctx: InboundContext) -> tuple[Any, Any, Any]:
            """The span of the event (``None`` while tracing is off), its context token, the metric."""
            event = ctx.event
            metric = fixed_metric
            if metric is None:
                metric = {**base, NAMESPACE: ctx.namespace}
                if not catch_all:
                    metric[DESTINATION] = event
            span = token = None
            if tracing.on or (perf_counter() >= tracing.check_at and tracing()):
                connect = None
                if connections:
                    key = (ctx.namespace, ctx.sid)
                    connect = connections.pop(key, None) if disconnect else connections.get(key)
                span = tracer.start_span(
                    fixed_name or f"process {event}",
                    root,
                    kind,
                    {**metric, DESTINATION: event} if catch_all else metric,
                    None if connect is None else [link(connect)],
                )
                if span is not invalid:  # a no-op tracer's span: nothing to record or propagate
                    sid = ctx.sid
                    if sid is not None:
                        span.set_attribute(SID, sid)
                    token = attach(set_current(span))
            return span, token, metric

        return _traced_step(begin_inbound, call_next, record, detach)

    def _connect_step(self, route: Route, call_next: InboundNext) -> InboundNext:
        """The connect span: its parent from the handshake's ``traceparent``, its context kept for
        the links of the connection's event spans."""
        trace, tracer = self._trace, self.tracer
        kind = trace.SpanKind.SERVER
        extract, getter, root = self._propagator.extract, self._getter, self._root
        set_current, attach, detach = trace.set_span_in_context, self._attach, self._detach
        connections = self._connections
        # the environ is the handler's last lead argument when it takes every one (sid, environ)
        environ_at = route.lead - 1 if route.role == "server" and route.handler_lead == route.lead else None

        async def traced_connect(ctx: InboundContext) -> Any:
            namespace, sid = ctx.namespace, ctx.sid
            environ = ctx.lead[environ_at] if environ_at is not None else None
            parent = extract(environ, root, getter) if isinstance(environ, dict) else root
            attributes: dict[str, Any] = {SYSTEM: "socketio", OPERATION_NAME: "connect", NAMESPACE: namespace}
            if sid is not None:
                attributes[SID] = sid
            span = tracer.start_span(f"connect {namespace}", parent, kind, attributes)
            token = attach(set_current(span)) if span.get_span_context().is_valid else None
            try:
                reply = await call_next(ctx)
            except BaseException as exc:
                _failed(span, exc, None)
                raise
            else:
                status = _reply_status(reply)
                if status is not None:
                    _problem(span, status, None)
                elif token is not None:  # accepted: the connection's events link to this span
                    if len(connections) >= _MAX_CONNECTIONS:
                        del connections[next(iter(connections))]
                    connections[(namespace, sid)] = span.get_span_context()
                return reply
            finally:
                if token is not None:
                    detach(token)
                span.end()

        return traced_connect

    # -- outbound ------------------------------------------------------------------------------
    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        """The step tracing every emit and call, a child of the current span."""
        if self._noop:
            return call_next
        trace, tracer = self._trace, self.tracer
        kind = trace.SpanKind.PRODUCER
        set_current, attach, detach = trace.set_span_in_context, self._attach, self._detach
        record = self.client_duration.record
        cache = self._outbound
        invalid, tracing = trace.INVALID_SPAN, self._tracing

        def begin_outbound(ctx: OutboundContext) -> tuple[Any, Any, Any]:
            """The span of the event (``None`` while tracing is off), its context token, the metric."""
            kwargs = ctx.kwargs
            key = (kwargs.get("namespace") or "/", ctx.event or "")
            found = cache.get(key)
            if found is None:
                found = self._outbound_attributes(*key)
            name, metric = found
            span = token = None
            if tracing.on or (perf_counter() >= tracing.check_at and tracing()):
                span = tracer.start_span(name, None, kind, metric)
                if span is not invalid:  # a no-op tracer's span: nothing to record or propagate
                    target = target_of(kwargs)
                    if target is not None:
                        span.set_attribute(TARGET, target if isinstance(target, str) else str(target))
                    token = attach(set_current(span))
            return span, token, metric

        return _traced_step(begin_outbound, call_next, record, detach)

    def _outbound_attributes(self, namespace: str, event: str) -> tuple[str, dict[str, Any]]:
        metric = {
            SYSTEM: "socketio",
            OPERATION_TYPE: "send",
            OPERATION_NAME: "send",
            DESTINATION: event,
            NAMESPACE: namespace,
        }
        found = (f"send {event}", metric)
        if len(self._outbound) >= _MAX_OUTBOUND:
            self._outbound.clear()
        self._outbound[(namespace, event)] = found
        return found

    def __repr__(self) -> str:
        return "OpenTelemetryMiddleware()"


def _traced_step(
    begin: Callable[[Any], tuple[Any, Any, Any]],
    call_next: Callable[[Any], Awaitable[Any]],
    record: Callable[[float, Any], None],
    detach: Callable[[Any], None],
) -> Callable[[Any], Awaitable[Any]]:
    """The step of either direction: ``begin(ctx)`` opens the event's span (or not) and gives
    ``(span, token, metric)``; then ``call_next``, timed into the duration metric, its failure or
    problem reply recorded on the span, the span ended and the context detached."""

    async def traced(ctx: Any) -> Any:
        span, token, metric = begin(ctx)
        start = perf_counter()
        try:
            reply = await call_next(ctx)
        except BaseException as exc:
            record(perf_counter() - start, _failed(span, exc, metric))
            raise
        else:
            elapsed = perf_counter() - start
            if type(reply) is dict or ProblemDetail in type(reply).__mro__:
                status = _reply_status(reply)
                if status is not None:
                    metric = _problem(span, status, metric)
            record(elapsed, metric)
            return reply
        finally:
            if token is not None:
                detach(token)
            if span is not None:
                span.end()

    return traced


def _failed(span: Any, exc: BaseException, metric: dict[str, Any] | None) -> dict[str, Any]:
    """Mark ``span`` (if any) failed by ``exc``; the metric attributes with ``error.type``."""
    error_type = _type_name(exc)
    if span is not None:
        span.set_attribute(ERROR_TYPE, error_type)
        status = _status_of(exc)
        if status is None or status >= 500:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, error_type))
    return {**(metric or {}), ERROR_TYPE: error_type}


def _problem(span: Any, status: int, metric: dict[str, Any] | None) -> dict[str, Any]:
    """Mark ``span`` (if any) failed by a problem-detail reply of ``status``; the metric attributes
    with ``error.type`` (the status)."""
    error_type = str(status)
    if span is not None:
        span.set_attribute(ERROR_TYPE, error_type)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR, f"problem detail {status}"))
    return {**(metric or {}), ERROR_TYPE: error_type}
