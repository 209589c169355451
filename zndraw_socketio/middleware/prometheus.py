"""Prometheus metrics for every inbound and outbound event, through prometheus-client.

    from zndraw_socketio.middleware.prometheus import PrometheusMiddleware

    metrics = PrometheusMiddleware()
    tsio = wrap(sio, middleware=[metrics])
    metrics.track_connections(tsio)

The series (``socketio`` being the prefix):

- ``socketio_events_total{direction, namespace, event, outcome}``: events handled (``in``) and
  emits/calls sent (``out``); ``outcome`` is ``error`` when an exception left the chain inside
  this middleware or the reply is a problem detail, else ``ok``;
- ``socketio_event_duration_seconds{direction, namespace, event}``: time spent inside this
  middleware (validation, dependencies and handler; outbound, serialisation and socketio's send);
- ``socketio_events_in_progress{namespace, event}``: inbound events being handled now;
- ``socketio_payload_bytes{direction, namespace, event}``: sizes of binary payloads (the only
  ones whose size is known without encoding them again);
- ``socketio_connections{namespace}``: connections of the servers and clients given to
  ``track_connections``, read from python-socketio's manager when scraped;
- ``socketio_outbound_overflows_total``: connections disconnected for not reading what was sent
  to them (over ``Bounds.max_buffered_bytes``).

Labels stay bounded: ``event`` and ``namespace`` take only the names of registered handlers (or,
outbound, of declared ``emits=`` models and model payloads); anything else, such as what reaches
a catch-all ``"*"`` handler, is ``unknown``.

The counts live in plain per-series records that a ``prometheus_client`` custom collector turns
into metric families when the registry is scraped, so that an event costs a few additions and no
locks (a synchronous face, whose handlers may run in threads, takes one lock per update).
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
from collections.abc import Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..events.context import namespace_of
from ..events.names import get_event_name
from ..payloads.problems import ProblemDetail
from ..transport.buffers import overflow_listeners
from .base import InboundNext, Middleware, OutboundNext
from .prometheus_collector import Collector

if TYPE_CHECKING:
    from ..events.context import InboundContext, OutboundContext
    from ..events.route import Route

__all__ = ["DURATION_BUCKETS", "PAYLOAD_BUCKETS", "PrometheusMiddleware"]

DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds of ``event_duration_seconds``, in seconds (``+Inf`` is added)."""

PAYLOAD_BUCKETS: tuple[float, ...] = tuple(float(4**i * 64) for i in range(10))
"""Upper bounds of ``payload_bytes``: 64 B to 16 MiB by powers of four (``+Inf`` is added)."""

UNKNOWN = "unknown"
_BYTES = (bytes, bytearray, memoryview)


def _is_error_reply(reply: Any) -> bool:
    """True when ``reply`` is a problem detail (a dict with ``kind: "error"`` or the model).

    The model is looked for in the reply type's MRO: ``isinstance`` against a pydantic model
    class costs more than the rest of an event's counting when the answer is no."""
    if type(reply) is dict:
        return reply.get("kind") == "error" and isinstance(reply.get("status"), int)
    return ProblemDetail in type(reply).__mro__


class _Series:
    """The counts of one ``(direction, namespace, event)``."""

    __slots__ = ("buckets", "direction", "error", "event", "in_progress", "namespace", "ok", "payload",
                 "payload_sum", "sum")  # fmt: skip

    def __init__(self, direction: str, namespace: str, event: str, buckets: int, payload: int) -> None:
        self.direction = direction
        self.namespace = namespace
        self.event = event
        self.ok = 0
        self.error = 0
        self.in_progress = 0
        self.buckets = [0] * (buckets + 1)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0
        self.payload = [0] * (payload + 1)
        self.payload_sum = 0.0


class PrometheusMiddleware(Middleware):
    """Counts, times and sizes every event into a ``prometheus_client`` registry.

    ``registry`` defaults to prometheus-client's global ``REGISTRY``; ``prefix`` starts every
    metric name (``socketio_events_total``...); ``buckets`` and ``payload_buckets`` are the
    histograms' upper bounds. Two middlewares with one prefix cannot share a registry. Install it
    outermost of your middleware to see what the others do (a 429 of a rate limit inside it counts
    as an error). Call ``track_connections(tsio)`` for ``socketio_connections``: the connections
    are read from python-socketio when the registry is scraped, since a middleware sees connect
    and disconnect only in namespaces with handlers for them.
    """

    def __init__(
        self,
        registry: Any = None,
        prefix: str = "socketio",
        *,
        buckets: Sequence[float] = DURATION_BUCKETS,
        payload_buckets: Sequence[float] = PAYLOAD_BUCKETS,
    ) -> None:
        from prometheus_client import REGISTRY

        self.registry = registry if registry is not None else REGISTRY
        self.prefix = prefix
        self.bounds = tuple(sorted(float(b) for b in buckets if b != float("inf")))
        self.payload_bounds = tuple(sorted(float(b) for b in payload_buckets if b != float("inf")))
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._routes: set[tuple[str, str]] = set()  # (namespace, event) of the handlers, "*" kept
        self._namespaces: set[str] = {"/"}
        self._out_events: set[str] = set()
        self._out_cache: dict[tuple[str, str], _Series] = {}
        self._tracked: list[Any] = []
        self._lock = threading.Lock()
        self.overflows = 0  # connections disconnected for a full outbound buffer (see Bounds)
        self.registry.register(Collector(self))
        listener = weakref.WeakMethod(self._overflowed)
        overflow_listeners.append(
            lambda socket, buffered: (method := listener()) and method(socket, buffered)
        )

    def _overflowed(self, socket: Any, buffered: int) -> None:
        with self._lock:
            self.overflows += 1

    # -- labels --------------------------------------------------------------------------------
    def _series_for(self, direction: str, namespace: str, event: str) -> _Series:
        key = (direction, namespace, event)
        series = self._series.get(key)
        if series is None:
            with self._lock:
                series = self._series.setdefault(
                    key, _Series(direction, namespace, event, len(self.bounds), len(self.payload_bounds))
                )
        return series

    def _learn(self, route: Route) -> None:
        """Record the names ``route`` makes known, for labels."""
        self._routes.add((route.namespace, route.event))
        if route.namespace != "*":
            self._namespaces.add(route.namespace)
        if route.event != "*":
            self._out_events.add(route.event)
        for model in route.emits:
            self._out_events.add(get_event_name(model))
        self._out_cache.clear()

    def _inbound_labels(self, namespace: str, event: str) -> tuple[str, str]:
        known = (namespace, event) in self._routes or ("*", event) in self._routes
        return (
            namespace if namespace in self._namespaces else UNKNOWN,
            event if known and event != "*" else UNKNOWN,
        )

    # -- inbound -------------------------------------------------------------------------------
    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """The step counting ``route``'s events; its series is chosen here, once, unless the route
        is a catch-all."""
        self._learn(route)
        fixed = None
        if route.event != "*" and route.namespace != "*":
            fixed = self._series_for("in", route.namespace, route.event)
        series_for, labels, payload, bounds = (
            self._series_for,
            self._inbound_labels,
            self._payload,
            self.bounds,
        )
        if route.sync:
            return self._locked_step(call_next, fixed, "in")

        def inbound_series(ctx: InboundContext) -> _Series:
            series = fixed if fixed is not None else series_for("in", *labels(ctx.namespace, ctx.event))
            data = ctx.data
            if type(data) in _BYTES:
                payload(series, data)
            return series

        return _counted_step(inbound_series, call_next, bounds, 1)

    # -- outbound ------------------------------------------------------------------------------
    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        """The step counting every emit and call."""
        if sync:
            return self._locked_step(call_next, None, "out")
        series_of, payload, bounds = self._outbound_series, self._payload, self.bounds
        cache = self._out_cache

        def outbound_series(ctx: OutboundContext) -> _Series:
            data = ctx.data
            key = (namespace_of(ctx.kwargs), ctx.event or "")
            series = cache.get(key)
            if series is None:
                series = series_of(*key, data)
            if type(data) in _BYTES:
                payload(series, data)
            return series

        return _counted_step(outbound_series, call_next, bounds, 0)

    def _locked_step(self, call_next: Any, fixed: _Series | None, direction: str) -> Any:
        """The step of a synchronous face, whose handlers may run in threads: each update under
        the lock."""
        lock, bounds, running = self._lock, self.bounds, 1 if direction == "in" else 0
        series_for, labels, payload, cache = (
            self._series_for,
            self._inbound_labels,
            self._payload,
            self._out_cache,
        )

        async def count_locked(ctx: Any) -> Any:
            if fixed is not None:
                series = fixed
            elif direction == "in":
                series = series_for("in", *labels(ctx.namespace, ctx.event))
            else:
                key = (ctx.kwargs.get("namespace") or "/", ctx.event or "")
                series = cache.get(key) or self._outbound_series(*key, ctx.data)
            with lock:
                series.in_progress += running
            if type(ctx.data) in _BYTES:
                payload(series, ctx.data)
            start = perf_counter()
            try:
                reply = await call_next(ctx)
            except BaseException:
                with lock:
                    _record(series, perf_counter() - start, True, bounds, running)
                raise
            with lock:
                _record(series, perf_counter() - start, _is_error_reply(reply), bounds, running)
            return reply

        return count_locked

    def _outbound_series(self, namespace: str, event: str, data: Any) -> _Series:
        if isinstance(data, BaseModel):
            self._out_events.add(event)  # a model's name: as many as there are model classes
        known = event in self._out_events
        series = self._series_for(
            "out", namespace if namespace in self._namespaces else UNKNOWN, event if known else UNKNOWN
        )
        if known and namespace in self._namespaces:
            self._out_cache[(namespace, event)] = series
        return series

    # -- recording -----------------------------------------------------------------------------
    def _payload(self, series: _Series, data: Any) -> None:
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        with self._lock:
            series.payload[bisect_left(self.payload_bounds, size)] += 1
            series.payload_sum += size

    # -- connections ---------------------------------------------------------------------------
    def track_connections(self, face: Any) -> None:
        """Report the connections of ``face`` (a wrapped or plain python-socketio server or
        client) in ``socketio_connections{namespace}``, read from it when the registry is scraped."""
        sio = getattr(face, "sio", face)
        if not (hasattr(sio, "manager") or hasattr(sio, "namespaces")):
            raise TypeError(
                f"track_connections() expects a socketio server or client, got {type(sio).__name__}"
            )
        self._tracked.append(sio)

    def connections(self) -> dict[str, int]:
        """The tracked connections per namespace, now (namespaces of handlers are listed at 0)."""
        counts = dict.fromkeys(self._namespaces, 0) if self._tracked else {}
        for sio in self._tracked:
            manager = getattr(sio, "manager", None)
            if manager is not None and hasattr(manager, "get_participants"):
                for namespace in list(manager.get_namespaces()):
                    connected = sum(
                        1
                        for sid, _ in manager.get_participants(namespace, None)
                        if manager.is_connected(sid, namespace)
                    )
                    counts[namespace] = counts.get(namespace, 0) + connected
            else:  # a client: one connection per namespace it joined
                for namespace in list(getattr(sio, "namespaces", {}) or {}):
                    counts[namespace] = counts.get(namespace, 0) + 1
        return counts

    def __repr__(self) -> str:
        return f"PrometheusMiddleware(prefix={self.prefix!r})"


def _counting(middleware: weakref.ref[PrometheusMiddleware]) -> Any:
    """The overflow listener of one middleware, holding it weakly."""

    def overflowed(socket: Any, buffered: int) -> None:
        mw = middleware()
        if mw is not None:
            with mw._lock:
                mw.overflows += 1

    return overflowed


def _counted_step(series_of: Any, call_next: Any, bounds: tuple[float, ...], running: int) -> Any:
    """The async step of either direction: ``series_of(ctx)`` picks the event's series (and counts
    its binary payload); then ``call_next``, its outcome and duration counted (``running`` 1,
    inbound: the event counts as in progress while it runs)."""

    async def counted(ctx: Any) -> Any:
        series = series_of(ctx)
        series.in_progress += running
        start = perf_counter()
        try:
            reply = await call_next(ctx)
        except BaseException:
            _record(series, perf_counter() - start, True, bounds, running)
            raise
        elapsed = perf_counter() - start  # _record, in place
        series.in_progress -= running
        if _is_error_reply(reply):
            series.error += 1
        else:
            series.ok += 1
        series.buckets[bisect_left(bounds, elapsed)] += 1
        series.sum += elapsed
        return reply

    return counted


def _record(series: _Series, elapsed: float, failed: bool, bounds: tuple[float, ...], running: int) -> None:
    """One event done: its outcome, its duration, and (``running`` 1, inbound) one fewer in progress."""
    series.in_progress -= running
    if failed:
        series.error += 1
    else:
        series.ok += 1
    series.buckets[bisect_left(bounds, elapsed)] += 1
    series.sum += elapsed
