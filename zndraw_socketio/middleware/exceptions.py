"""Exceptions: user handlers by MRO, else RFC 9457 problem replies; refused connects stay refused."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from socketio import exceptions as sio_exceptions
from starlette.exceptions import HTTPException

from ..adapters import encode, encode_reply
from ..context import EventContext, InboundContext
from ..problems import http_problem, internal_error_problem, is_problem, validation_problem
from .base import InboundNext, Middleware

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["ExceptionHandler", "ExceptionHandlers", "ExceptionMiddleware"]

ExceptionHandler = Callable[[EventContext, Any], Any | Awaitable[Any]]
_REFUSALS = (ConnectionRefusedError, sio_exceptions.ConnectionRefusedError)


class ExceptionHandlers:
    """The user's exception handlers, keyed by exception type and namespace (``None``: global).

    Lookup walks the exception's MRO, most specific class first; at each class a handler scoped to
    the event's namespace wins over a global one. A ``pydantic.ValidationError`` is only taken by a
    handler for ``ValidationError`` itself (as in FastAPI, a ``ValueError`` or ``Exception``
    handler leaves the 422 alone). Results are cached until a handler is added.
    """

    def __init__(self) -> None:
        self._handlers: dict[tuple[str | None, type[BaseException]], ExceptionHandler] = {}
        self._cache: dict[tuple[str, type[BaseException]], ExceptionHandler | None] = {}

    def add(
        self, exc_type: type[BaseException], handler: ExceptionHandler, namespace: str | None = None
    ) -> None:
        """Register ``handler`` for ``exc_type`` (and its subclasses) in ``namespace`` or globally."""
        if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
            raise TypeError(f"exception_handler() expects an exception class, got {exc_type!r}")
        self._handlers[(namespace, exc_type)] = handler
        self._cache.clear()

    def lookup(self, namespace: str, exc_type: type[BaseException]) -> ExceptionHandler | None:
        """The handler for an exception of ``exc_type`` raised in ``namespace``, if any."""
        key = (namespace, exc_type)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = None
        handlers = self._handlers
        mro = exc_type.__mro__
        if issubclass(exc_type, ValidationError):
            # as in FastAPI, a ValueError or Exception handler does not take validation failures
            mro = mro[: mro.index(ValidationError) + 1]
        for cls in mro:
            found = handlers.get((namespace, cls)) or handlers.get((None, cls))
            if found is not None:
                break
        self._cache[key] = found
        return found

    def __len__(self) -> int:
        return len(self._handlers)

    def __iter__(self):  # pragma: no cover - convenience for introspection
        return iter(self._handlers.items())


def _refusal(reply: Any) -> sio_exceptions.ConnectionRefusedError:
    title = reply.get("title", "Connection refused") if isinstance(reply, dict) else reply
    return sio_exceptions.ConnectionRefusedError(str(title), reply)


class ExceptionMiddleware(Middleware):
    """Turns an exception inside the chain into a reply, so that no caller waits for a timeout.

    A user handler registered with ``exception_handler`` gets ``(ctx, exc)`` and its return value
    is the reply (encoded to JSON-able data here: a reply that cannot be is a 500 like any other
    failure). Otherwise a ``pydantic.ValidationError`` replies with a 422 problem detail, an
    ``HTTPException`` (FastAPI's or Starlette's) with its status and detail, and anything else
    with a 500 that reveals nothing about the exception. An exception raised by a user handler
    falls back to the 500 too. In a connect handler every failure refuses the connection, the
    reply (a problem detail by default) going to the client as the refusal's data, and so does a
    problem detail a middleware returns instead of calling on; ``ConnectionRefusedError`` always
    passes through untouched.
    """

    def __init__(self, handlers: ExceptionHandlers | None = None) -> None:
        self.handlers = handlers if handlers is not None else ExceptionHandlers()

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        reply_for = self.reply_for
        if route.kind == "connect":

            async def connect_step(ctx: InboundContext) -> Any:
                try:
                    result = await call_next(ctx)
                except _REFUSALS:
                    raise
                except Exception as exc:
                    reply = await reply_for(ctx, exc)
                    raise _refusal(reply) from exc
                if is_problem(result):  # a middleware answered with an error: that is a refusal
                    raise _refusal(result)
                return result

            return connect_step

        if route.kind != "event":

            async def reserved_step(ctx: InboundContext) -> Any:
                try:
                    return await call_next(ctx)
                except Exception as exc:
                    return await reply_for(ctx, exc)

            return reserved_step

        async def exception_step(ctx: InboundContext) -> Any:
            # the reply is encoded here, so that one that cannot be is a failure like any other
            try:
                return encode(await call_next(ctx))
            except Exception as exc:
                return encode_reply(await reply_for(ctx, exc), ctx.event)

        return exception_step

    async def reply_for(self, ctx: InboundContext, exc: Exception) -> Any:
        """The reply for ``exc``: the user handler's return value, else a problem detail.

        Records the exception on ``ctx.error`` (and whether a user handler took it) for logging.
        """
        ctx.error = exc
        handler = self.handlers.lookup(ctx.namespace, type(exc))
        if handler is not None:
            try:
                reply = handler(ctx, exc)
                if inspect.isawaitable(reply):
                    reply = await reply
            except Exception as handler_exc:
                ctx.error = handler_exc
            else:
                ctx.state["exception_handled"] = True
                return reply
        error = ctx.error
        if isinstance(error, ValidationError):
            return validation_problem(error, ctx.event)
        if isinstance(error, HTTPException):
            return http_problem(error.status_code, error.detail, ctx.event)
        return internal_error_problem(ctx.event)

    def contribute(self, route: Any, operation: Any) -> None:
        """AsyncAPI: the error replies of an event handler.

        A 422 problem detail when the payload fails validation (unless a user handler takes
        ``ValidationError``), a 500 one for an unhandled exception, and the return type of each
        user exception handler that applies to the handler's namespace.
        """
        if route.kind != "event":
            return
        import typing

        from ..asyncapi.schemas import is_nothing, model_of, union_members
        from ..asyncapi.spec import MessageSpec
        from ..problems import ProblemDetail

        applicable: dict[type[BaseException], ExceptionHandler] = {}
        for (namespace, exc_type), handler in self.handlers._handlers.items():
            if namespace is None and exc_type in applicable:
                continue  # a namespace-scoped handler wins over a global one
            if namespace is None or namespace == route.namespace or route.namespace == "*":
                applicable[exc_type] = handler
        errors = operation.errors
        if self.handlers.lookup(route.namespace, ValidationError) is None:  # the rule reply_for runs
            errors.append(
                MessageSpec(
                    ProblemDetail,
                    "serialization",
                    name="UnprocessableContent",
                    title="422 Unprocessable Content",
                    summary="The payload failed validation.",
                    description="RFC 9457 problem detail sent when the payload does not match the "
                    "handler's parameters; `errors` lists pydantic's validation errors.",
                    examples=[{"name": "validationError", "payload": _problem_example(422)}],
                )
            )
        errors.append(
            MessageSpec(
                ProblemDetail,
                "serialization",
                name="InternalServerError",
                title="500 Internal Server Error",
                summary="The handler failed.",
                description="RFC 9457 problem detail sent when the handler raises an exception "
                "that no exception handler takes; it reveals nothing about the exception.",
                examples=[{"name": "internalError", "payload": _problem_example(500)}],
            )
        )
        for exc_type in sorted(applicable, key=lambda t: (t.__module__, t.__qualname__)):
            handler = applicable[exc_type]
            try:
                returns = typing.get_type_hints(handler).get("return", inspect.Parameter.empty)
            except Exception:  # unresolvable annotations: the reply is undocumented
                returns = inspect.Parameter.empty
            if is_nothing(returns):
                continue
            for member in union_members(returns):
                if is_nothing(member):
                    continue
                if model_of(member) is not None:
                    errors.append(MessageSpec(member, "serialization"))
                    continue
                errors.append(
                    MessageSpec(
                        member,
                        "serialization",
                        name=f"{exc_type.__name__}Reply",
                        description=f"Sent when the handler raises `{exc_type.__name__}` "
                        f"(exception handler `{getattr(handler, '__name__', handler)!s}`).",
                    )
                )


def _problem_example(status: int) -> dict[str, Any]:
    """An example problem-detail reply for the AsyncAPI document."""
    if status == 422:
        return {
            "kind": "error",
            "type": "about:blank",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": "1 validation error for event 'event_name'",
            "instance": "event_name",
            "errors": [{"type": "missing", "loc": ["field"], "msg": "Field required"}],
        }
    return internal_error_problem("event_name")
