"""``call()`` of the async server and client, waiting on one future instead of ``asyncio.wait_for``.

python-socketio's ``AsyncServer.call`` and ``AsyncClient.call`` emit with a callback that sets an
event, then wait with ``asyncio.wait_for(event.wait(), timeout)``: on Python 3.11 that is a task,
two more futures and two event-loop turns on every call, more than the rest of a typed call costs.
``awaiting_call`` gives the sender a call with the same behaviour (the same arguments and checks,
the timeout counted from the end of the emit, ``socketio.exceptions.TimeoutError``, the reply
unpacked the same way, the connection dropping leaves it waiting for the timeout) whose callback
resolves the one future the caller awaits. It is used only where ``call`` is python-socketio's own
(a subclass that overrides it keeps its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import socketio
from socketio.exceptions import TimeoutError as CallTimeoutError

from .patches import takes

__all__ = ["awaiting_call", "server_call_needs"]

Call = Callable[..., Coroutine[Any, Any, Any]]


def awaiting_call(sio: Any) -> Call | None:
    """The future-based ``call`` of an async server or client whose ``call`` is python-socketio's
    own; ``None`` for anything else (its own ``call``, if any, is then used)."""
    kind = type(sio)
    if isinstance(sio, socketio.AsyncServer) and kind.call is socketio.AsyncServer.call:
        return _server_call(sio)
    if isinstance(sio, socketio.AsyncClient) and kind.call is socketio.AsyncClient.call:
        return _client_call(sio)
    return None


def server_call_needs(sio: Any) -> str | None:
    """What the future-based ``call`` needs (see ``patches.py``): an ``emit`` that takes the
    callback and the arguments python-socketio's own ``call`` passes it."""
    base = socketio.AsyncServer if isinstance(sio, socketio.AsyncServer) else socketio.AsyncClient
    server = base is socketio.AsyncServer
    wanted = ("callback", "room", "namespace", "ignore_queue") if server else ("callback", "namespace")
    missing = takes(type(sio).emit, *wanted, what=f"{type(sio).__name__}.emit")
    if missing is not None:
        return missing
    if base is socketio.AsyncServer and not hasattr(sio, "async_handlers"):
        return "the server has no async_handlers"
    return None


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(CallTimeoutError())


def _reply(args: tuple[Any, ...]) -> Any:
    """The callback's arguments as socketio's ``call`` returns them: one as itself, several as
    the tuple, none as ``None``."""
    return args[0] if len(args) == 1 else args if args else None


async def _wait(future: asyncio.Future[Any], timeout: float | None) -> Any:
    timer = None if timeout is None else future.get_loop().call_later(timeout, _expire, future)
    try:
        return _reply(await future)
    finally:
        if timer is not None:
            timer.cancel()


def _resolver(future: asyncio.Future[Any]) -> Callable[..., None]:
    def acknowledged(*args: Any) -> None:
        if not future.done():  # the caller may have timed out or been cancelled
            future.set_result(args)

    return acknowledged


def _server_call(sio: Any) -> Call:
    async def call(
        event: str,
        data: Any = None,
        to: Any = None,
        sid: Any = None,
        namespace: str | None = None,
        timeout: float | None = 60,
        ignore_queue: bool = False,
    ) -> Any:
        """Emit ``event`` to one client and return its acknowledgement (see the module)."""
        if to is None and sid is None:
            raise ValueError("Cannot use call() to broadcast.")
        if not sio.async_handlers:
            raise RuntimeError("Cannot use call() when async_handlers is False.")
        future = asyncio.get_running_loop().create_future()
        await sio.emit(
            event,
            data=data,
            room=to or sid,
            namespace=namespace,
            callback=_resolver(future),
            ignore_queue=ignore_queue,
        )
        return await _wait(future, timeout)

    return call


def _client_call(sio: Any) -> Call:
    async def call(
        event: str, data: Any = None, namespace: str | None = None, timeout: float | None = 60
    ) -> Any:
        """Emit ``event`` to the server and return its acknowledgement (see the module)."""
        future = asyncio.get_running_loop().create_future()
        await sio.emit(event, data=data, namespace=namespace, callback=_resolver(future))
        return await _wait(future, timeout)

    return call
