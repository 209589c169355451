"""Rate limiting: a token bucket per key (per connection by default), in memory or in Redis.

    from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware

    tsio = wrap(sio, middleware=[RateLimitMiddleware("20/second")])

An event over the limit never reaches its handler: the middleware replies with a 429 problem
detail carrying ``retry_after`` (seconds). python-socketio sends that reply only when the sender
asked for one (a ``call``); an ``emit`` is dropped. Both count in ``RateLimitMiddleware.rejected``.

The bucket is kept as its "theoretical arrival time" (GCRA): one number per key, the time at
which the bucket would be full again. A key whose time has passed holds a full bucket, which is
the same as no entry at all: that is what lets both backends forget idle keys.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

import structlog

from .._drive import ready
from ..context import InboundContext
from ..problems import http_problem
from .base import InboundNext, InboundNextSync, Middleware

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["MemoryBackend", "RateLimitMiddleware", "RedisBackend", "connection_key", "parse_rate"]

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour)\s*")

Key = Callable[[InboundContext], Hashable | None]
"""A key function: the bucket an event draws from; ``None`` leaves the event unlimited."""

log = structlog.get_logger("zndraw_socketio.ratelimit")


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


class MemoryBackend:
    """Buckets in this process's memory (the default backend).

    Memory stays bounded: when a new key would bring the table to its sweep threshold, the keys
    whose buckets are full again are dropped (they are the same as absent ones); if more than
    ``max_keys`` keys are still active, the oldest tenth of them are forgotten, which gives those
    keys a full bucket again. Use one backend per middleware.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        self.max_keys = max_keys
        self._tats: dict[Hashable, float] = {}
        self._sweep_at = min(1024, max_keys)

    def __len__(self) -> int:
        return len(self._tats)

    def take(self, key: Hashable, now: float, interval: float, tolerance: float) -> float:
        """Draw one token from ``key``'s bucket at time ``now``: ``0.0`` when there was one, else
        the seconds until there is. ``interval`` is the time one token takes to come back,
        ``tolerance`` the time the rest of a full bucket takes (``(burst - 1) * interval``)."""
        tats = self._tats
        tat = tats.get(key)
        if tat is None:
            if len(tats) >= self._sweep_at:
                tats = self._sweep(now)
            tat = now
        elif tat < now:
            tat = now
        wait = tat - now - tolerance
        if wait > 0.0:
            return wait
        tats[key] = tat + interval
        return 0.0

    def _sweep(self, now: float) -> dict[Hashable, float]:
        """Drop the full buckets; past ``max_keys`` active ones, forget the oldest tenth. Returns
        the new table."""
        tats = {key: tat for key, tat in self._tats.items() if tat > now}
        if len(tats) >= self.max_keys:
            for key in list(tats)[: max(1, self.max_keys // 10)]:
                del tats[key]
        self._tats = tats
        self._sweep_at = min(self.max_keys, max(min(1024, self.max_keys), 2 * len(tats)))
        return tats


# KEYS[1] the bucket; ARGV: now ("" for the Redis server's own clock), interval, tolerance.
# Returns {1, "0"} when a token was drawn, else {0, seconds to wait} (a string: Redis turns a Lua
# number into an integer). The key expires when its bucket is full again.
_GCRA = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then tat = now end
local wait = tat - now - tolerance
if wait > 0 then return {0, string.format('%.6f', wait)} end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.ceil((new_tat - now) * 1000))
return {1, '0'}
"""


class RedisBackend:
    """Buckets in Redis, shared by every process that uses the same Redis, prefix, limit and key.

    ``redis`` is a URL, a ``redis.asyncio.Redis`` client (asynchronous faces) or a ``redis.Redis``
    client (synchronous faces); a URL serves both. Each check is one atomic Lua script. Without
    an explicit clock the script reads the Redis server's time, so that processes share one clock.

    It fails open: when Redis raises or does not answer within ``timeout`` seconds the event is
    let through, the failure is logged (structlog, warning) and counted in ``errors``, and for
    ``cooldown`` seconds events go through without asking Redis. A client given here keeps its
    own settings; one made from a URL gets ``timeout`` as its socket timeouts and no retries.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "zndraw_socketio:ratelimit",
        timeout: float = 0.1,
        cooldown: float = 1.0,
    ) -> None:
        import redis as redis_sync
        import redis.asyncio as redis_async

        self.prefix = prefix
        self.timeout = timeout
        self.cooldown = cooldown
        self.errors = 0
        self._url = redis if isinstance(redis, str) else None
        self._async: Any = redis if isinstance(redis, redis_async.Redis) else None
        self._sync: Any = redis if isinstance(redis, redis_sync.Redis) else None
        if self._url is None and self._async is None and self._sync is None:
            raise TypeError(f"backend must be a Redis URL or a redis client, got {type(redis).__name__}")
        self._async_script: Any = None
        self._sync_script: Any = None
        self._down_until = 0.0

    @property
    def serves_async(self) -> bool:
        """True when this backend can run on an asynchronous face."""
        return self._url is not None or self._async is not None

    @property
    def serves_sync(self) -> bool:
        """True when this backend can run on a synchronous face."""
        return self._url is not None or self._sync is not None

    def _args(self, now: float | None, interval: float, tolerance: float) -> list[str]:
        return ["" if now is None else repr(now), repr(interval), repr(tolerance)]

    def _bucket(self, key: Hashable) -> str:
        return f"{self.prefix}:{key}"

    async def take(self, key: Hashable, now: float | None, interval: float, tolerance: float) -> float:
        """``MemoryBackend.take`` in Redis (``now`` ``None``: the Redis server's clock); ``0.0``
        when Redis fails or is too slow."""
        if self._down_until and time.monotonic() < self._down_until:
            return 0.0
        try:
            async with asyncio.timeout(self.timeout):
                script = self._async_script
                if script is None:
                    script = self._async_script = self._async_client().register_script(_GCRA)
                allowed, wait = await script(
                    keys=[self._bucket(key)], args=self._args(now, interval, tolerance)
                )
        except Exception as exc:
            return self._failed(exc)
        return self._answered(allowed, wait)

    def take_sync(self, key: Hashable, now: float | None, interval: float, tolerance: float) -> float:
        """``take`` for synchronous faces, through a ``redis.Redis`` client."""
        if self._down_until and time.monotonic() < self._down_until:
            return 0.0
        try:
            script = self._sync_script
            if script is None:
                script = self._sync_script = self._sync_client().register_script(_GCRA)
            allowed, wait = script(keys=[self._bucket(key)], args=self._args(now, interval, tolerance))
        except Exception as exc:
            return self._failed(exc)
        return self._answered(allowed, wait)

    def _answered(self, allowed: Any, wait: Any) -> float:
        if self._down_until:
            self._down_until = 0.0
            log.info("rate limit backend answers again", backend="redis")
        return 0.0 if int(allowed) else float(wait)

    def _failed(self, exc: Exception) -> float:
        self.errors += 1
        self._down_until = time.monotonic() + self.cooldown
        log.warning(
            "rate limit backend failed; letting events through",
            backend="redis",
            error=type(exc).__name__,
            cooldown_s=self.cooldown,
        )
        return 0.0

    def _async_client(self) -> Any:
        if self._async is None:
            import redis.asyncio as redis_async
            from redis.asyncio.retry import Retry

            self._async = self._client(redis_async.Redis, Retry)
        return self._async

    def _sync_client(self) -> Any:
        if self._sync is None:
            import redis as redis_sync
            from redis.retry import Retry

            self._sync = self._client(redis_sync.Redis, Retry)
        return self._sync

    def _client(self, redis_class: Any, retry_class: Any) -> Any:
        """A client of ``redis_class`` for the URL: bounded by ``timeout``, no retries."""
        from redis.backoff import NoBackoff

        return redis_class.from_url(
            self._url or "",
            socket_connect_timeout=self.timeout,
            socket_timeout=self.timeout,
            retry=retry_class(NoBackoff(), 0),
        )


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
        # the in-memory path, bound once
        self._take = backend.take if isinstance(backend, MemoryBackend) else None
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
        key = self._key(ctx) if self._key is not None else (ctx.namespace, ctx.sid)
        if key is not None:
            take = self._take
            if take is not None:
                wait = take(key, self._clock(), self.interval, self.tolerance)
            else:
                now = self.clock() if self.clock is not None else None
                redis: Any = self.backend
                wait = await redis.take(self._redis_key(key), now, self.interval, self.tolerance)
            if wait:
                return self._refuse(ctx, wait)
        return await call_next(ctx)

    def inbound_sync(self, ctx: InboundContext, call_next: InboundNextSync) -> Any:
        """``inbound`` for synchronous faces."""
        key = self._key(ctx) if self._key is not None else (ctx.namespace, ctx.sid)
        if key is not None:
            take = self._take
            if take is not None:
                wait = take(key, self._clock(), self.interval, self.tolerance)
            else:
                now = self.clock() if self.clock is not None else None
                redis: Any = self.backend
                wait = redis.take_sync(self._redis_key(key), now, self.interval, self.tolerance)
            if wait:
                return self._refuse(ctx, wait)
        return call_next(ctx)

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
