"""Run a coroutine that never suspends, synchronously: how one async chain serves sync faces."""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar, cast

__all__ = ["AsyncOnSyncFaceError", "drive", "ready"]

T = TypeVar("T")


class AsyncOnSyncFaceError(RuntimeError):
    """Something awaited a real awaitable while a synchronous face drove the chain."""


def drive(awaitable: Awaitable[T]) -> T:
    """Run ``coro`` to completion in the calling thread.

    On a synchronous face every stage, handler and dependency is synchronous, so the chain's
    coroutines finish on their first step; one that suspends is a bug we report instead of
    blocking.
    """
    coro = cast(Coroutine[Any, Any, T], awaitable)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AsyncOnSyncFaceError(
        "an async middleware, dependency or handler awaited on a synchronous socketio face; "
        "use a sync one (middleware: override inbound_sync/outbound_sync)"
    )


async def ready(value: T) -> T:
    """``value`` as an awaitable: what a step that returns its inner step's awaitable in place
    returns when it answers by itself, and what a synchronous face's result is handed on as."""
    return value
