"""A graceful shutdown for an async server: in-flight handlers get a grace period to reply.

``drain(server, grace)`` stops new events (each is answered with a 503 problem detail at once,
see ``guards.refuse_events``), waits up to ``grace`` seconds for the handlers already running to
finish and reply, then cancels the rest: their ``yield`` dependencies are closed and, while the
transport is open, their callers get the 503 problem detail (the inbound entry turns a handler's
cancellation into that reply). One info entry, ``"sio shutdown"``, counts what happened.

python-socketio runs each event's handler in a task of its own (``async_handlers=True``, its
default); those tasks are found among the loop's tasks by the server they belong to, so nothing
is tracked while events flow. ``on_signals`` runs a shutdown when SIGTERM or SIGINT arrives,
before handing the signal on: under uvicorn, the handlers reply before uvicorn closes the
connections.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from ..events.logsafe import log_safely
from .guards import refuse_events

__all__ = ["drain", "in_flight", "on_signals"]

_CANCELLED_REPLY_WAIT = 5.0  # seconds the cancelled handlers get to send their 503
_DRAINED = "_zndraw_socketio_drained"
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def in_flight(server: Any) -> list[asyncio.Task[Any]]:
    """The tasks in which python-socketio is running an event handler of ``server`` now."""
    current = asyncio.current_task()
    found: list[asyncio.Task[Any]] = []
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        coro: Any = task.get_coro()
        code = getattr(coro, "cr_code", None)
        if code is None or code.co_name != "_handle_event_internal":
            continue
        frame = getattr(coro, "cr_frame", None)
        if frame is not None and frame.f_locals.get("self") is server:
            found.append(task)
    return found


async def drain(server: Any, grace: float) -> bool:
    """Shut ``server``'s event handling down gracefully (see the module); once per server: ``True``
    the first time, ``False`` (doing nothing) after."""
    if grace < 0:
        raise ValueError(f"grace must be >= 0 seconds, got {grace!r}")
    if getattr(server, _DRAINED, False):
        return False
    setattr(server, _DRAINED, True)
    refuse_events(server, is_async=True)
    running = in_flight(server)
    finished = cancelled = 0
    if running:
        done, pending = await asyncio.wait(running, timeout=grace)
        finished = len(done)
        for task in pending:
            task.cancel()
        cancelled = len(pending)
        if pending:
            await asyncio.wait(pending, timeout=_CANCELLED_REPLY_WAIT)
    log_safely(
        structlog.get_logger("zndraw_socketio").info,
        "sio shutdown",
        in_flight=len(running),
        finished=finished,
        cancelled=cancelled,
        grace_s=grace,
    )
    return True


def on_signals(
    shutdown: Callable[[], Awaitable[None]],
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Run ``shutdown()`` on the running loop when one of ``signals`` arrives, then hand the signal
    to the handler that was installed before (uvicorn's, when it serves the app); a second signal
    goes to that handler at once. Call it from the ASGI lifespan's startup."""
    loop = asyncio.get_running_loop()

    for sig in signals:
        previous = signal.getsignal(sig)

        def arrived(sig: signal.Signals = sig, previous: Any = previous) -> None:
            loop.remove_signal_handler(sig)
            if callable(previous):
                signal.signal(sig, previous)
            task = loop.create_task(_then_hand_on(shutdown, sig, previous))
            _KEPT.add(task)
            task.add_done_callback(_KEPT.discard)

        loop.add_signal_handler(sig, arrived)


_KEPT: set[asyncio.Task[Any]] = set()


async def _then_hand_on(shutdown: Callable[[], Awaitable[None]], sig: signal.Signals, previous: Any) -> None:
    try:
        await shutdown()
    finally:
        if callable(previous):
            previous(sig, None)
        elif previous in (signal.SIG_DFL, None):
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)
