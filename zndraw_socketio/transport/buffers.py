"""A bound on the bytes queued for one websocket connection that it has not read yet.

engine.io queues every packet for a connection on an unbounded ``asyncio.Queue``: a client that
stops reading makes the server hold everything sent to it. ``bound_outbound(socket, limit)``
counts the bytes each ``socket.send`` queues, and the websocket loop's writer ``release``s them
once written. A send that would take a connection with something already queued over ``limit``
waits for that connection's writer (an app that emits in a tight loop never lets writers run
otherwise): while the writer drains, the send waits for it; when it writes nothing for
``PATIENCE`` seconds the connection is disconnected instead (reason ``OVERFLOW_REASON``), logged
once and reported to the ``overflow_listeners``; what was queued for it is dropped and nothing
more is queued. ``busy(socket)`` says whether a connection has anything queued (for volatile
emits).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog

from ..events.logsafe import log_safely

__all__ = [
    "OVERFLOW_REASON",
    "bound_outbound",
    "busy",
    "overflow_listeners",
    "release",
    "serving",
    "volatile_kwargs",
]

OVERFLOW_REASON = "outbound buffer full"
"""The disconnect reason a connection over its outbound buffer gets (its disconnect handler's)."""

overflow_listeners: list[Callable[[Any, int], None]] = []
"""Called as ``listener(socket, buffered_bytes)`` when a connection is disconnected for its buffer
(the Prometheus middleware counts them)."""

PATIENCE = 0.5
"""Seconds a send over the bound waits for the connection's writer to make progress (to write
anything) before the connection counts as not reading."""
_POLL = 0.005  # how often the waiting send looks at the writer's progress
_closing: set[asyncio.Future[Any]] = set()  # the disconnects under way, kept until they finish
_BUFFERED = "_zndraw_buffered"
_OVERFLOWED = "_zndraw_overflowed"
_TASKS = "_zndraw_serving"


def _size(pkt: Any) -> int:
    data = getattr(pkt, "data", None)
    if isinstance(data, (str, bytes, bytearray)):
        return len(data)
    return 0 if data is None else 64  # an engine.io control packet's small payload


def bound_outbound(socket: Any, limit: int | None) -> None:
    """Count what ``socket.send`` queues and disconnect the connection past ``limit`` bytes."""
    if limit is None or getattr(socket, _BUFFERED, None) is not None:
        return
    send = socket.send
    setattr(socket, _BUFFERED, 0)
    setattr(socket, _OVERFLOWED, False)

    async def bounded_send(pkt: Any) -> Any:
        if getattr(socket, _OVERFLOWED):
            return None
        size = _size(pkt)
        queued = getattr(socket, _BUFFERED)
        if queued and queued + size > limit:
            loop = asyncio.get_running_loop()
            progress = loop.time()
            while queued and queued + size > limit:
                if loop.time() - progress > PATIENCE:  # its writer made no progress: not reading
                    _overflow(socket, queued + size, limit)
                    return None
                await asyncio.sleep(0 if loop.time() == progress else _POLL)  # its writer's turn
                if getattr(socket, _OVERFLOWED):
                    return None
                drained = getattr(socket, _BUFFERED)
                if drained < queued:
                    progress = loop.time()
                queued = drained
        setattr(socket, _BUFFERED, queued + size)
        return await send(pkt)

    socket.send = bounded_send


def serving(socket: Any, writer: asyncio.Task[Any]) -> None:
    """The websocket loop serving ``socket`` runs in the current task and writes in ``writer``:
    both end when the connection goes over its buffer (the writer may be stuck on a peer that
    does not read)."""
    if getattr(socket, _BUFFERED, None) is not None:
        setattr(socket, _TASKS, (asyncio.current_task(), writer))


def release(socket: Any, pkt: Any) -> None:
    """``pkt`` was written: its bytes no longer count against ``socket``'s buffer."""
    queued = getattr(socket, _BUFFERED, None)
    if queued:
        setattr(socket, _BUFFERED, max(queued - _size(pkt), 0))


def busy(socket: Any) -> bool:
    """True when something is queued for ``socket`` that it has not been sent yet."""
    if getattr(socket, _BUFFERED, None):
        return True
    queue = getattr(socket, "queue", None)
    return queue is not None and not queue.empty()


def _overflow(socket: Any, buffered: int, limit: int) -> None:
    setattr(socket, _OVERFLOWED, True)
    log_safely(
        structlog.get_logger("zndraw_socketio").warning,
        "sio connection over its outbound buffer",
        eio_sid=getattr(socket, "sid", None),
        buffered_bytes=buffered,
        limit_bytes=limit,
        reason=OVERFLOW_REASON,
    )
    for listener in list(overflow_listeners):
        with contextlib.suppress(Exception):  # a listener never stops the disconnect
            listener(socket, buffered)
    closing = asyncio.ensure_future(socket.close(wait=False, abort=True, reason=OVERFLOW_REASON))
    _closing.add(closing)
    closing.add_done_callback(_closing.discard)
    reader, writer = getattr(socket, _TASKS, None) or (None, None)
    setattr(socket, _TASKS, None)
    for task in (writer, reader):
        if task is not None and task is not asyncio.current_task():
            task.cancel()
    _drop_queued(socket)


def _drop_queued(socket: Any) -> None:
    """Forget what was queued for a connection that is being disconnected for it: nothing of it
    stays held while the connection and its tasks wind down."""
    queue = getattr(socket, "queue", None)
    if queue is None:
        return
    with contextlib.suppress(Exception):
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()
    setattr(socket, _BUFFERED, 0)


def volatile_kwargs(sio: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``emit``'s keyword arguments for ``emit(..., volatile=True)`` on the server ``sio``: without
    ``volatile``, and with every target connection of this node that still has something queued
    added to ``skip_sid`` (socket.io's volatile emit: dropped for a connection not ready for it,
    never queued behind what it has not read). ``volatile=False``, or an object that is not a
    server, only loses the keyword."""
    kwargs = dict(kwargs)
    if not kwargs.pop("volatile") or not hasattr(sio, "manager") or not hasattr(sio, "eio"):
        return kwargs
    namespace = kwargs.get("namespace") or "/"
    target = kwargs.get("to") or kwargs.get("room")
    manager, sockets = sio.manager, getattr(sio.eio, "sockets", {})
    rooms = target if isinstance(target, (list, tuple, set)) else [target]
    busy_sids = [
        sid
        for room in rooms
        for sid, eio_sid in manager.get_participants(namespace, room)
        if busy(sockets.get(eio_sid))
    ]
    if busy_sids:
        skip = kwargs.get("skip_sid")
        skip = [] if skip is None else list(skip) if isinstance(skip, (list, tuple, set)) else [skip]
        kwargs["skip_sid"] = skip + busy_sids
    return kwargs
