"""Event capture for tests: ``capture_events()`` records what passes every wrapper while it is open.

Capturing costs nothing while no capture is open: opening the first one composes every wrapper's
chains again with a recorder at their edge (the compilers ask ``capturing()`` when they build an
entry), and closing the last one composes them again without it.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["CapturedEvent", "capture_events", "capturing", "record", "recording", "watch"]


@dataclass
class CapturedEvent:
    """One event that passed a wrapper while ``capture_events()`` was open.

    ``direction`` is ``"in"`` (to a handler) or ``"out"`` (an ``emit``/``call``); ``event``,
    ``namespace`` and ``sid`` name it (``sid``: the connection on a server's inbound events, the
    target given as ``to``/``sid``/``room`` on outbound ones, else ``None``); ``data`` is the
    payload as received or as sent (after serialisation: JSON-able, one argument as is, several as a
    tuple, none as ``None``); ``reply`` is the acknowledgement: what the handler's chain answered
    (inbound) or what came back to a ``call`` (outbound, as received), ``None`` otherwise or until
    it arrives.
    """

    direction: Literal["in", "out"]
    event: str
    namespace: str
    sid: str | None
    data: Any
    reply: Any = None


class _Recomposable(Protocol):
    def recompose(self) -> None: ...


_lock = threading.Lock()
_open: list[list[CapturedEvent]] = []
_watched: weakref.WeakSet[Any] = weakref.WeakSet()


def watch(core: _Recomposable) -> None:
    """Have ``core`` composed again whenever capturing starts or stops."""
    _watched.add(core)


def capturing() -> bool:
    """True while at least one ``capture_events()`` is open (asked when an entry is compiled)."""
    return bool(_open)


def record(direction: Literal["in", "out"], event: str, namespace: str, sid: Any, data: Any) -> CapturedEvent:
    """Append one event to every open capture; the caller may set its ``reply`` later."""
    captured = CapturedEvent(direction, event, namespace, sid, data)
    for events in tuple(_open):
        events.append(captured)
    return captured


@contextmanager
def capture_events() -> Iterator[list[CapturedEvent]]:
    """Record every inbound and outbound event passing any wrapper while the block runs.

    Yields the list the records go to, in the order the events passed (an inbound event when it
    arrives, an outbound one when it is sent; a reply is filled in when it is known). Captures may
    nest; each sees everything while it is open. Meant for tests: while one is open, every
    wrapper's entries carry a recorder.

        with capture_events() as events:
            await client.call(Ping(message="hi"), response_model=Pong)
        assert [(e.direction, e.event) for e in events] == [("out", "ping"), ("in", "ping")]
    """
    events: list[CapturedEvent] = []
    with _lock:
        _open.append(events)
        if len(_open) == 1:
            _recompose_all()
    try:
        yield events
    finally:
        with _lock:
            _open.remove(events)
            if not _open:
                _recompose_all()


def _recompose_all() -> None:
    for core in list(_watched):
        core.recompose()


def recording(
    direction: Literal["in", "out"], keys: Callable[..., tuple[str, str, Any, Any]], call: Callable[..., Any]
) -> Callable[..., Any]:
    """``call`` behind a recorder: ``keys(*args, **kwargs)`` names the event (event, namespace, sid,
    data); the result (awaited first when it is a coroutine's) is the reply."""
    if inspect.iscoroutinefunction(call):

        async def recorded_async(*args: Any, **kwargs: Any) -> Any:
            captured = record(direction, *keys(*args, **kwargs))
            captured.reply = reply = await call(*args, **kwargs)
            return reply

        return recorded_async

    def recorded(*args: Any, **kwargs: Any) -> Any:
        captured = record(direction, *keys(*args, **kwargs))
        result = call(*args, **kwargs)
        if inspect.isawaitable(result):
            return _filled(captured, result)
        captured.reply = result
        return result

    return recorded


async def _filled(captured: CapturedEvent, awaitable: Any) -> Any:
    captured.reply = reply = await awaitable
    return reply
