"""Logging: one structlog entry per inbound and outbound event, and the event bound as context."""

from __future__ import annotations

import contextvars
import logging
from time import perf_counter
from typing import TYPE_CHECKING, Any

import structlog
import structlog.contextvars
from socketio import exceptions as sio_exceptions
from starlette.exceptions import HTTPException

from ..context import InboundContext, OutboundContext
from ..problems import ProblemDetailError
from .base import InboundNext, Middleware, OutboundNext

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["LoggingMiddleware"]

# expected outcomes: logged as errors, without a traceback
_QUIET: tuple[type[BaseException], ...] = (
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


_EVENT = _structlog_var("sio_event")
_SID = _structlog_var("sid")
_NAMESPACE = _structlog_var("namespace")


def _debug_enabled(log: Any) -> bool:
    check = getattr(log, "is_enabled_for", None) or getattr(log, "isEnabledFor", None)
    if check is None:
        return True
    try:
        return bool(check(logging.DEBUG))
    except Exception:  # pragma: no cover - exotic wrapper classes
        return True


class _Logger:
    """A structlog logger materialised on first use and kept, so a filtered level costs nothing."""

    __slots__ = ("debug", "log", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.log: Any = None
        self.debug = False

    def get(self) -> Any:
        log = self.log
        if log is None:
            log = self.log = structlog.get_logger(self.name).bind()
            self.debug = _debug_enabled(log)
        return log


class LoggingMiddleware(Middleware):
    """Logs every event through structlog, with the keys ``sio_event``, ``sid``, ``namespace``,
    ``direction`` (``"in"``/``"out"``), ``outcome`` (``"ok"``/``"error"``) and ``duration_ms``.

    Successful events log at debug level, failures at error level (with the traceback unless a
    user exception handler took the exception). While a handler runs, ``sio_event``, ``sid`` and
    ``namespace`` are bound as structlog context variables, so its own log lines carry them when
    ``structlog.contextvars.merge_contextvars`` is among the processors (it is by default).

    The logger is materialised on the first event after the chain is composed: configure structlog
    before events flow. With debug filtered out, a successful event costs a timer and three
    context-variable sets.
    """

    def __init__(self, logger_name: str = "zndraw_socketio") -> None:
        self.logger_name = logger_name
        self._logger = _Logger(logger_name)

    def record(
        self,
        direction: str,
        event: str | None,
        sid: str | None,
        namespace: str,
        start: float,
        error: BaseException | None,
    ) -> None:
        """Log one event that did not pass through a chain (a simple client's ``receive``)."""
        logger = self._logger
        log = logger.get()
        if error is not None:
            _failed(log, event, sid, namespace, direction, start, error, False)
        elif logger.debug:
            log.debug(
                "sio event",
                sio_event=event,
                sid=sid,
                namespace=namespace,
                direction=direction,
                outcome="ok",
                duration_ms=(perf_counter() - start) * 1000.0,
            )

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        logger = _Logger(self.logger_name)

        async def logging_step(ctx: InboundContext) -> Any:
            log = logger.log
            if log is None:
                log = logger.get()
            debug = logger.debug
            t1 = _EVENT.set(ctx.event)
            t2 = _SID.set(ctx.sid)
            t3 = _NAMESPACE.set(ctx.namespace)
            start = perf_counter()
            try:
                result = await call_next(ctx)
            except BaseException as exc:
                _failed(log, ctx.event, ctx.sid, ctx.namespace, "in", start, exc, False)
                raise
            finally:
                _NAMESPACE.reset(t3)
                _SID.reset(t2)
                _EVENT.reset(t1)
            error = ctx.error
            if error is not None:
                handled = ctx._state is not None and "exception_handled" in ctx._state
                _failed(log, ctx.event, ctx.sid, ctx.namespace, "in", start, error, handled)
            elif debug:
                log.debug(
                    "sio event",
                    sio_event=ctx.event,
                    sid=ctx.sid,
                    namespace=ctx.namespace,
                    direction="in",
                    outcome="ok",
                    duration_ms=(perf_counter() - start) * 1000.0,
                )
            return result

        return logging_step

    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        logger = _Logger(self.logger_name)

        async def logging_step(ctx: OutboundContext) -> Any:
            log = logger.log
            if log is None:
                log = logger.get()
            debug = logger.debug
            start = perf_counter()
            try:
                result = await call_next(ctx)
            except BaseException as exc:
                _failed(log, ctx.event, ctx.sid, ctx.namespace, "out", start, exc, False)
                raise
            if debug:
                log.debug(
                    "sio event",
                    sio_event=ctx.event,
                    sid=ctx.sid,
                    namespace=ctx.namespace,
                    direction="out",
                    outcome="ok",
                    duration_ms=(perf_counter() - start) * 1000.0,
                )
            return result

        return logging_step


def _failed(
    log: Any,
    event: str | None,
    sid: str | None,
    namespace: str,
    direction: str,
    start: float,
    exc: BaseException,
    handled: bool,
) -> None:
    quiet = handled or isinstance(exc, _QUIET)
    log.error(
        "sio event failed",
        sio_event=event,
        sid=sid,
        namespace=namespace,
        direction=direction,
        outcome="error",
        duration_ms=(perf_counter() - start) * 1000.0,
        error=type(exc).__name__,
        exc_info=None if quiet else exc,
    )
