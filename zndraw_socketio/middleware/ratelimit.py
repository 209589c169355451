"""Rate limiting: a token bucket per key (per connection by default), in memory or in Redis.

    from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware

    tsio = wrap(sio, middleware=[RateLimitMiddleware("20/second")])

An event over the limit never reaches its handler: the middleware replies with a 429 problem
detail carrying ``retry_after`` (seconds). python-socketio sends that reply only when the sender
asked for one (a ``call``); an ``emit`` is dropped. Both count in ``RateLimitMiddleware.rejected``.

The buckets themselves are kept by the backends of ``buckets.py`` (in memory or in Redis).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

from ..events.context import InboundContext
from ..events.drive import ready
from ..payloads.problems import http_problem
from .base import InboundNext, InboundNextSync, Middleware
from .buckets import MemoryBackend, RedisBackend

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["MemoryBackend", "RateLimitMiddleware", "RedisBackend", "connection_key", "parse_rate"]

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour)\s*")

Key = Callable[[InboundContext], Hashable | None]
"""A key function: the bucket an event draws from; ``None`` leaves the event unlimited."""


def parse_rate(rate: str) -> tuple[int, float]:
    """``"N/second"``, ``"N/minute"`` or ``"N/hour"`` as ``(N, period in seconds)``; anything
    else raises ``ValueError``."""
    match = _RATE.fullmatch(rate) if isinstance(rate, str) else None
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f'rate must be "N/second", "N/minute" or "N/hour" with N >= 1, got {rate!r}')
    return int(match.group(1)), _PERIODS[match.group(2)]


def connection_key(ctx: InboundContext) -> tuple[str, str | None]:
    """The default key: one bucket per connection, ``(namespace, sid)`` (on a client, whose events
    carry no sid, ``(namespace, None)``: its one connection to that namespace)."""
    return (ctx.namespace, ctx.sid)


class RateLimitMiddleware(Middleware):
    """Limits how often events reach their handlers: a token bucket per key.

    ``rate`` is ``"N/second"``, ``"N/minute"`` or ``"N/hour"``; ``burst`` (default ``N``) is the
    bucket's size, the number of events that may come at once. ``key(ctx)`` picks the bucket
    (default ``connection_key``: one per connection; return e.g. a user id for a per-user limit,
    ``(ctx.sid, ctx.event)`` for one per event, or ``None`` to leave an event unlimited).
    ``backend`` is ``None`` (in memory), a ``MemoryBackend``, a ``RedisBackend``, a Redis URL or a
    redis client. ``clock`` returns seconds; by default ``time.monotonic`` in memory and the Redis
    server's clock in Redis.

    An event over the limit gets a 429 problem detail as its reply, with ``retry_after``: the
    seconds until a token is back; its handler does not run, and ``rejected`` counts it. Only
    ordinary events are limited: connect, disconnect and a simple client's ``receive()`` pass.
    Install it globally (``wrap(sio, middleware=[...])``) or for one handler
    (``@tsio.on(Ping, middleware=[...])``, a budget of its own).
    """

    def __init__(
        self,
        rate: str = "20/second",
        burst: int | None = None,
        key: Key | None = None,
        backend: Any = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        count, period = parse_rate(rate)
        if burst is None:
            burst = count
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number of events, at least 1, got {burst!r}")
        self.rate = rate
        self.burst = burst
        self.interval = period / count
        self.tolerance = (burst - 1) * self.interval
        self.key: Key = key if key is not None else connection_key
        self._key = key  # None: the connection's bucket, keyed (namespace, sid) without a call
        self.rejected = 0
        if backend is None:
            backend = MemoryBackend()
        elif not isinstance(backend, MemoryBackend | RedisBackend):
            backend = RedisBackend(backend)
        self.backend: MemoryBackend | RedisBackend = backend
        self._limit = f"{count}/{period:g}:{burst}"  # Redis: limits of another size, other buckets
        self.clock: Callable[[], float] | None = clock
        # the in-memory path, bound once; else the Redis backend
        self._take = backend.take if isinstance(backend, MemoryBackend) else None
        self._redis = backend if isinstance(backend, RedisBackend) else None
        self._clock = clock if clock is not None else time.monotonic

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """Leave the middleware out of connect, disconnect and ``receive()`` chains: only ordinary
        events are limited. In memory on an asynchronous face, the step is ``inbound`` with what
        it reads bound once; otherwise the hooks run."""
        if route.kind != "event":
            return call_next
        take = self._take
        if take is None or route.sync:
            return super().wrap_inbound(route, call_next)
        key_of, clock, refuse = self._key, self._clock, self._refuse
        interval, tolerance = self.interval, self.tolerance

        def limited(ctx: InboundContext) -> Awaitable[Any]:
            # a plain function handing back the inner step's own awaitable: no frame of this
            # step stays on the stack while the handler runs (an error raised here surfaces at
            # the caller's await, as a coroutine's would)
            key = (ctx.namespace, ctx.sid) if key_of is None else key_of(ctx)
            if key is not None:
                wait = take(key, clock(), interval, tolerance)
                if wait:
                    return ready(refuse(ctx, wait))
            return call_next(ctx)

        return limited

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        """Pass the event on while its bucket has a token; else reply 429."""
        key = self._bucket_key(ctx)
        if key is not None:
            redis = self._redis
            wait = self._memory_wait(key) if redis is None else await redis.take(*self._redis_args(key))
            if wait:
                return self._refuse(ctx, wait)
        return await call_next(ctx)

    def inbound_sync(self, ctx: InboundContext, call_next: InboundNextSync) -> Any:
        """``inbound`` for synchronous faces."""
        key = self._bucket_key(ctx)
        if key is not None:
            redis = self._redis
            wait = self._memory_wait(key) if redis is None else redis.take_sync(*self._redis_args(key))
            if wait:
                return self._refuse(ctx, wait)
        return call_next(ctx)

    def _bucket_key(self, ctx: InboundContext) -> Hashable | None:
        """The key of ``ctx``'s bucket (``None``: the event is not limited)."""
        return (self._key or connection_key)(ctx)

    def _memory_wait(self, key: Hashable) -> float:
        take: Any = self._take
        return take(key, self._clock(), self.interval, self.tolerance)

    def _redis_args(self, key: Hashable) -> tuple[str, float | None, float, float]:
        """``RedisBackend.take``'s arguments for ``key`` (no clock given: the Redis server's)."""
        now = self.clock() if self.clock is not None else None
        return self._redis_key(key), now, self.interval, self.tolerance

    def _redis_key(self, key: Hashable) -> str:
        """The key of a bucket in Redis: the limit, then the key (a tuple joined by spaces)."""
        if type(key) is tuple:
            key = " ".join("" if part is None else str(part) for part in key)
        return f"{self._limit}:{key}"

    def _refuse(self, ctx: InboundContext, wait: float) -> dict[str, Any]:
        """The 429 reply, counted."""
        self.rejected += 1
        retry_after = math.ceil(wait * 1000.0) / 1000.0  # whole milliseconds, rounded up
        problem = http_problem(
            429, f"rate limit of {self.rate} exceeded; retry after {retry_after:g} s", ctx.event
        )
        problem["retry_after"] = retry_after
        return problem

    def check_async(self) -> None:
        """Refuse an asynchronous face when the backend is a synchronous Redis client."""
        super().check_async()
        self._check_backend(sync=False)

    def check_sync(self) -> None:
        """Refuse a synchronous face when the backend is a ``redis.asyncio`` client."""
        super().check_sync()
        self._check_backend(sync=True)

    def _check_backend(self, *, sync: bool) -> None:
        backend = self.backend
        if isinstance(backend, RedisBackend) and not (backend.serves_sync if sync else backend.serves_async):
            given, face, wanted = (
                ("a redis.asyncio client", "a synchronous", "a redis.Redis client")
                if sync
                else ("a redis.Redis client", "an asynchronous", "a redis.asyncio.Redis client")
            )
            raise TypeError(f"RateLimitMiddleware: {given} cannot serve {face} face; pass {wanted} or a URL")

    def __repr__(self) -> str:
        return f"RateLimitMiddleware(rate={self.rate!r}, burst={self.burst})"
