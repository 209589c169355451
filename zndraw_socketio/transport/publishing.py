"""Scale-out publishes that fail are logged through structlog.

A pub/sub client manager (``AsyncRedisManager``, ``AsyncAioPikaManager``, their sync twins, a
write-only one in a worker) publishes every emit to the other nodes in its ``_publish``. When the
broker is down python-socketio retries once, then drops the message with a line on its own
stdlib logger ("Cannot publish to ... giving up"); some managers raise instead. Neither says
which event was lost. ``watch_publishes`` makes both visible: while a publish is in flight, the
manager's ``giving up`` line and an exception out of ``_publish`` each add one structlog error
entry, ``"sio publish dropped"``, with the event, room and namespace of the message. Delivery stays
what python-socketio gives: at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import Iterator
from typing import Any

import structlog

from ..events.logsafe import log_safely

__all__ = ["watch_publishes"]

_PUBLISHING: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "zndraw_socketio_publishing", default=None
)
_WATCHED = "_zndraw_socketio_watched"
_MAX_REASON = 200


def watch_publishes(manager: Any) -> None:
    """Log the publishes ``manager`` drops (see the module); once per manager object."""
    publish = getattr(manager, "_publish", None)
    get_logger = getattr(manager, "_get_logger", None)
    if publish is None or get_logger is None or getattr(manager, _WATCHED, False):
        return
    setattr(manager, _WATCHED, True)

    def logger() -> Any:
        return _DropReporter(get_logger())

    manager._get_logger = logger
    if inspect.iscoroutinefunction(publish):

        async def publish_async(data: Any) -> Any:
            with _publishing(data):
                return await publish(data)

        manager._publish = publish_async
        return

    def publish_sync(data: Any) -> Any:
        with _publishing(data):
            return publish(data)

    manager._publish = publish_sync


@contextlib.contextmanager
def _publishing(data: Any) -> Iterator[None]:
    """While a publish of ``data`` runs: the message the drop reporter names, and one drop entry
    for an exception out of it (python-socketio's aio-pika manager raises ``CancelledError`` for a
    channel that is down or reconnecting), which goes on to the caller."""
    token = _PUBLISHING.set(data if isinstance(data, dict) else None)
    try:
        yield
    except (Exception, asyncio.CancelledError) as exc:
        _dropped(type(exc).__name__, str(exc))
        raise
    finally:
        _PUBLISHING.reset(token)


class _DropReporter:
    """The manager's stdlib logger, unchanged, but for one thing: its ``giving up`` error line
    during a publish also writes the structlog entry of the dropped message."""

    __slots__ = ("_logger",)

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> Any:
        """Forward the line; report the message a publish gave up on."""
        result = self._logger.error(msg, *args, **kwargs)
        if isinstance(msg, str) and "giving up" in msg and _PUBLISHING.get() is not None:
            extra = kwargs.get("extra")
            reasons = [str(v) for v in extra.values()] if isinstance(extra, dict) else []
            _dropped("PublishGaveUp", "; ".join(reasons) or msg)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._logger, name)


def _dropped(error: str, reason: str) -> None:
    message = _PUBLISHING.get() or {}
    log_safely(
        structlog.get_logger("zndraw_socketio").error,
        "sio publish dropped",
        sio_event=message.get("event"),
        operation=message.get("method"),
        room=message.get("room"),
        namespace=message.get("namespace"),
        direction="out",
        outcome="error",
        error=error,
        reason=reason if len(reason) <= _MAX_REASON else reason[:_MAX_REASON] + "…",
    )
