"""Logging: one structlog entry per inbound and outbound event, and the event bound as context."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

import structlog
import structlog.contextvars
from pydantic import ValidationError
from socketio import exceptions as sio_exceptions
from starlette.exceptions import HTTPException

from ..events.logsafe import log_safely
from ..payloads.problems import ProblemDetailError, error_count, reported_errors
from .stage import Stage

__all__ = [
    "EventLogger",
    "LoggingStage",
    "log_failed",
    "log_ok",
    "merge_sio_context",
]

# expected outcomes: logged as errors, without a traceback
_QUIET: tuple[type[BaseException], ...] = (
    asyncio.CancelledError,  # the server shutting down stopped the handler
    ConnectionRefusedError,
    sio_exceptions.ConnectionRefusedError,
    ProblemDetailError,
    HTTPException,
)


def _structlog_var(key: str) -> contextvars.ContextVar[Any]:
    """The ContextVar structlog's ``merge_contextvars`` reads for ``key``.

    Setting it directly costs one ``ContextVar.set`` instead of ``bind_contextvars``' dict work.
    """
    name = f"{structlog.contextvars.STRUCTLOG_KEY_PREFIX}{key}"
    registry: dict[str, contextvars.ContextVar[Any]] | None = getattr(
        structlog.contextvars, "_CONTEXT_VARS", None
    )
    if registry is None:  # pragma: no cover - a structlog without the registry
        return contextvars.ContextVar(name, default=Ellipsis)
    var = registry.get(name)
    if var is None:
        var = registry[name] = contextvars.ContextVar(name, default=Ellipsis)
    return var


EVENT_VAR = _structlog_var("sio_event")
SID_VAR = _structlog_var("sid")
NAMESPACE_VAR = _structlog_var("namespace")
EVENT_CONTEXT: contextvars.ContextVar[tuple[str | None, str | None, str] | None] = contextvars.ContextVar(
    "zndraw_socketio_event", default=None
)


def merge_sio_context(logger: Any, method_name: str, event_dict: Any) -> Any:
    """A structlog processor adding ``sio_event``, ``sid`` and ``namespace`` of the event being
    handled to every entry.

    With it among the configured processors the chain binds one context variable per event
    instead of three structlog ones (what ``merge_contextvars`` reads), which is cheaper.
    """
    bound = EVENT_CONTEXT.get()
    if bound is not None:
        event_dict.setdefault("sio_event", bound[0])
        event_dict.setdefault("sid", bound[1])
        event_dict.setdefault("namespace", bound[2])
    return event_dict


def _bind_three(keys: tuple[str | None, str | None, str]) -> Any:
    return (EVENT_VAR.set(keys[0]), SID_VAR.set(keys[1]), NAMESPACE_VAR.set(keys[2]))


def _unbind_three(tokens: Any) -> None:
    NAMESPACE_VAR.reset(tokens[2])
    SID_VAR.reset(tokens[1])
    EVENT_VAR.reset(tokens[0])


def _debug_enabled(log: Any) -> bool:
    check = getattr(log, "is_enabled_for", None) or getattr(log, "isEnabledFor", None)
    if check is None:
        return True
    try:
        return bool(check(logging.DEBUG))
    except Exception:  # pragma: no cover - exotic wrapper classes
        return True


class EventLogger:
    """A structlog logger materialised on first use and kept, so a filtered level costs nothing.

    ``debug`` says whether debug entries pass the configured level. ``bind((event, sid,
    namespace))`` binds the event's keys for the handler's own log lines and returns the token
    that ``unbind(token)`` takes: with ``merge_sio_context`` among the configured processors, one
    context variable's own ``set``/``reset``; else the three variables ``merge_contextvars`` reads.
    Both are chosen when the logger is materialised.
    """

    __slots__ = ("bind", "debug", "log", "name", "unbind")

    def __init__(self, name: str) -> None:
        self.name = name
        self.log: Any = None
        self.debug = False
        self.bind: Callable[[tuple[str | None, str | None, str]], Any] = _bind_three
        self.unbind: Callable[[Any], None] = _unbind_three

    def get(self) -> Any:
        """The materialised logger (built on the first call)."""
        log = self.log
        if log is None:
            if merge_sio_context in structlog.get_config()["processors"]:
                self.bind, self.unbind = EVENT_CONTEXT.set, EVENT_CONTEXT.reset
            else:
                self.bind, self.unbind = _bind_three, _unbind_three
            log = self.log = structlog.get_logger(self.name).bind()
            self.debug = _debug_enabled(log)
        return log


class LoggingStage(Stage):
    """Logs every event through structlog, with the keys ``sio_event``, ``sid``, ``namespace``,
    ``direction`` (``"in"``/``"out"``), ``outcome`` (``"ok"``/``"error"``) and ``duration_ms``.

    Successful events log at debug level, failures at error level (with the traceback unless a
    user exception handler took the exception, or the failure is the sender's: a payload that
    failed validation is logged by error types and locations, never its values). While a handler
    runs, ``sio_event``, ``sid`` and ``namespace`` are bound as structlog context variables, so
    its own log lines carry them when ``structlog.contextvars.merge_contextvars`` is among the
    processors (it is by default); with ``merge_sio_context`` among them instead, one cheaper
    context variable carries all three.

    Each compiled chain has its own ``EventLogger``, materialised on its first event: configure
    structlog before events flow. With debug filtered out, a successful event costs a timer and
    one (or three) context-variable sets.
    """

    def __init__(self, logger_name: str = "zndraw_socketio") -> None:
        self.logger_name = logger_name

    def new_logger(self) -> EventLogger:
        """A logger for one compiled chain, materialised on its first event."""
        return EventLogger(self.logger_name)


def log_ok(
    log: Any, event: str | None, sid: str | None, namespace: str, direction: str, start: float
) -> None:
    """The debug entry of an event that went well."""
    log_safely(
        log.debug,
        "sio event",
        sio_event=event,
        sid=sid,
        namespace=namespace,
        direction=direction,
        outcome="ok",
        duration_ms=round((perf_counter() - start) * 1000.0, 3),
    )


def log_failed(
    log: Any,
    event: str | None,
    sid: str | None,
    namespace: str,
    direction: str,
    start: float,
    exc: BaseException,
    handled: bool,
) -> None:
    """The error entry of an event that failed; with the traceback unless the failure was
    expected (handled by a user handler, a refused connection, an HTTP error, a problem reply,
    a handler cancelled by a shutdown).

    A payload that failed validation is the sender's error: its entry carries ``error_count`` and
    the type and location of the errors the reply lists (``errors``), and neither a traceback nor
    any input value, so that a rejected token or password is not written to the log.
    """
    if isinstance(exc, ValidationError):
        details: dict[str, Any] = {
            "error_count": error_count(exc),
            "errors": [{"type": e["type"], "loc": e["loc"]} for e in reported_errors(exc)],
        }
    else:
        details = {"exc_info": None if handled or isinstance(exc, _QUIET) else exc}
    log_safely(
        log.error,
        "sio event failed",
        sio_event=event,
        sid=sid,
        namespace=namespace,
        direction=direction,
        outcome="error",
        duration_ms=round((perf_counter() - start) * 1000.0, 3),
        error=type(exc).__name__,
        **details,
    )
