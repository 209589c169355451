"""Token buckets for the rate limiter, kept as their "theoretical arrival time" (GCRA): one number
per key, the time at which the bucket would be full again, in this process's memory or in Redis.
A key whose time has passed holds a full bucket, the same as no entry at all, which is what lets
both backends forget idle keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from typing import Any

import structlog

__all__ = ["MemoryBackend", "RedisBackend"]

log = structlog.get_logger("zndraw_socketio.ratelimit")


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
