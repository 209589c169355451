"""Rate limiting with ``RateLimitMiddleware``: a typed server, one client, a 429 once the bucket is empty.

    python examples/rate_limit.py

The server allows 3 pings per minute per connection (a burst of 3); the fourth call gets a 429
problem detail with ``retry_after``, and emits over the limit are dropped. Everything runs in
memory through ``zndraw_socketio.testing.TestClient``; pass ``--redis redis://127.0.0.1:6379/0``
to keep the buckets in Redis instead (shared by every server process using that Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import socketio
import structlog
from pydantic import BaseModel

from zndraw_socketio import AsyncServerWrapper, ProblemDetail, wrap
from zndraw_socketio.middleware.ratelimit import RateLimitMiddleware
from zndraw_socketio.testing import TestClient


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


def make_server(redis_url: str | None) -> tuple[AsyncServerWrapper, RateLimitMiddleware]:
    limiter = RateLimitMiddleware("3/minute", backend=redis_url)  # None: in memory
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[limiter])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    return tsio, limiter


async def main(redis_url: str | None) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    tsio, limiter = make_server(redis_url)
    async with TestClient(tsio) as client:
        for i in range(4):
            reply = await client.call(Ping(message=f"ping {i}"), response_model=Pong | ProblemDetail)
            print(f"call {i}: {reply!r}")
        raw = await client.call("ping", {"message": "raw"})  # the reply as sent, extension member too
        print(f"retry_after: {raw['retry_after']} s")
        await client.emit(Ping(message="dropped"))
        await client.call("ping", {"message": "sync"})  # the emit was handled before this reply
    print(f"rejected: {limiter.rejected}")
    print("done")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--redis", default=None, help="a Redis URL for the buckets (default: in memory)")
    asyncio.run(main(parser.parse_args().redis))
