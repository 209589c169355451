"""The custom collector of ``PrometheusMiddleware``: its per-series records as prometheus-client
metric families, built when the registry is scraped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Collector"]


class Collector:
    """Turns the middleware's records into prometheus-client metric families, when scraped."""

    def __init__(self, middleware: Any) -> None:
        self.middleware = middleware

    def describe(self) -> Iterable[Any]:
        """The metric families, empty: what the registry checks for duplicate names."""
        return self._families()

    def collect(self) -> Iterator[Any]:
        """Every series, as they are now."""
        mw = self.middleware
        with mw._lock:
            series = list(mw._series.values())
            snapshot = [
                (s, s.ok, s.error, s.in_progress, list(s.buckets), s.sum, list(s.payload), s.payload_sum)
                for s in series
            ]
        events, durations, in_progress, payloads, connections, overflows = self._families()
        for s, ok, error, running, buckets, total, payload, payload_sum in snapshot:
            labels = [s.direction, s.namespace, s.event]
            events.add_metric([*labels, "ok"], ok)
            events.add_metric([*labels, "error"], error)
            durations.add_metric(labels, _cumulative(mw.bounds, buckets), total)
            if s.direction == "in":
                in_progress.add_metric([s.namespace, s.event], running)
            if any(payload):
                payloads.add_metric(labels, _cumulative(mw.payload_bounds, payload), payload_sum)
        for namespace, count in sorted(mw.connections().items()):
            connections.add_metric([namespace], count)
        overflows.add_metric([], mw.overflows)
        yield from (events, durations, in_progress, payloads, connections, overflows)

    def _families(self) -> tuple[Any, Any, Any, Any, Any, Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        p = self.middleware.prefix
        return (
            CounterMetricFamily(
                f"{p}_events",
                "Socket.IO events handled (in) and sent (out), by outcome.",
                labels=["direction", "namespace", "event", "outcome"],
            ),
            HistogramMetricFamily(
                f"{p}_event_duration_seconds",
                "Time spent on a Socket.IO event, in seconds.",
                labels=["direction", "namespace", "event"],
            ),
            GaugeMetricFamily(
                f"{p}_events_in_progress",
                "Inbound Socket.IO events being handled.",
                labels=["namespace", "event"],
            ),
            HistogramMetricFamily(
                f"{p}_payload_bytes",
                "Sizes of binary Socket.IO payloads, in bytes.",
                labels=["direction", "namespace", "event"],
            ),
            GaugeMetricFamily(f"{p}_connections", "Open Socket.IO connections.", labels=["namespace"]),
            CounterMetricFamily(
                f"{p}_outbound_overflows",
                "Connections disconnected because they did not read what was sent to them "
                "(their outbound buffer went over Bounds.max_buffered_bytes).",
            ),
        )


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    """Per-bucket counts as prometheus' cumulative ``le`` buckets, ``+Inf`` last."""
    from prometheus_client.utils import floatToGoString

    out: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip((*bounds, float("inf")), counts, strict=True):
        running += count
        out.append((floatToGoString(bound), float(running)))
    return out
