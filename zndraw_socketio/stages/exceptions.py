"""Exceptions: user handlers by MRO, else RFC 9457 problem replies; refused connects stay refused."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from socketio import exceptions as sio_exceptions
from starlette.exceptions import HTTPException

from ..events.context import EventContext, InboundContext
from ..payloads.adapters import encode, encode_reply, model_dumper
from ..payloads.problems import http_problem, internal_error_problem, is_problem, validation_problem
from ..transport.codec import reply_renderer
from .stage import Stage

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["ExceptionHandler", "ExceptionHandlers", "ExceptionStage", "ReplyEncoding"]

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

    def applies_to(self, namespace: str) -> bool:
        """True when some handler could take an exception raised in ``namespace``."""
        return any(ns is None or ns == namespace or namespace == "*" for ns, _ in self._handlers)

    def items(self) -> list[tuple[tuple[str | None, type[BaseException]], ExceptionHandler]]:
        """``((namespace, exception type), handler)`` pairs, in registration order."""
        return list(self._handlers.items())

    def __len__(self) -> int:
        return len(self._handlers)


class _NoModel:
    """What a result is never an instance of, when no return model is declared."""


@dataclass(frozen=True, slots=True)
class ReplyEncoding:
    """How a successful result becomes the reply: ``dump(result, mode=mode)`` when
    ``type(result) is model`` (the declared return model's own pydantic-core serializer, bound
    once), else ``encode(result)``."""

    model: type
    dump: Callable[..., Any]
    encode: Callable[[Any], Any]
    mode: str = "json"


def _connect_result(result: Any) -> Any:
    if is_problem(result):  # a middleware answered with an error: that is a refusal
        raise _refusal(result)
    return result


def _as_is(result: Any, mode: str = "json") -> Any:
    """The result as it is: a reserved event's reply, and the ``dump`` of a record that declares
    no model (never called there: no result is a ``_NoModel``)."""
    return result


def _refusal(reply: Any) -> sio_exceptions.ConnectionRefusedError:
    title = reply.get("title", "Connection refused") if isinstance(reply, dict) else reply
    return sio_exceptions.ConnectionRefusedError(str(title), reply)


class ExceptionStage(Stage):
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

    def may_handle(self, namespace: str) -> bool:
        """True when a user exception handler could take an exception raised in ``namespace``
        (then the compiled entry makes the event's context up front, for it to see)."""
        return self.handlers.applies_to(namespace)

    def reply_encoder(self, route: Route, sender: Any = None) -> ReplyEncoding:
        """How a successful result becomes the reply, for ``route``'s kind of event.

        An event's reply is encoded to JSON-able data (a declared return model by its own
        serializer); one that cannot be encoded raises, a failure like any other. While
        ``sender``, the socketio object that sends the replies, sends with the wire codec, a reply
        of the declared model is written as JSON text in one pydantic-core call instead
        (``codec.reply_renderer``). A connect handler's result is returned as is, unless it is a
        problem detail (a middleware answered with an error): that refuses the connection. Other
        reserved events return what they return.
        """
        if route.kind == "connect":
            return ReplyEncoding(_NoModel, _as_is, _connect_result)
        if route.kind != "event":
            return ReplyEncoding(_NoModel, _as_is, _as_is)
        declared = model_dumper(route.returns)
        if declared is None:
            return ReplyEncoding(_NoModel, _as_is, encode)
        model, dump = declared
        if sender is not None:
            dump = reply_renderer(model, dump, sender)
        return ReplyEncoding(model, dump, encode)

    def failure(self, route: Route) -> Callable[[InboundContext, Exception], Awaitable[Any]]:
        """What an exception inside ``route``'s chain becomes: ``await fail(ctx, exc)`` returns
        the reply or raises.

        An event replies with the user handler's (encoded) reply or the problem detail; a connect
        refuses the connection with that reply as the refusal's data (``ConnectionRefusedError``
        passes through untouched); other reserved events return the reply to socketio; a simple
        client's ``receive()`` raises the exception to its caller.
        """
        reply_for = self.reply_for
        kind = route.kind
        if kind == "connect":

            async def refuse(ctx: InboundContext, exc: Exception) -> Any:
                if isinstance(exc, _REFUSALS):
                    raise exc
                raise _refusal(await reply_for(ctx, exc)) from exc

            return refuse
        if kind == "receive":

            async def reraise(ctx: InboundContext, exc: Exception) -> Any:
                raise exc

            return reraise
        if kind != "event":
            return reply_for

        async def reply(ctx: InboundContext, exc: Exception) -> Any:
            return encode_reply(await reply_for(ctx, exc), ctx.event)

        return reply

    @staticmethod
    def reported(ctx: InboundContext | None, exc: BaseException) -> BaseException:
        """The exception the log entry reports for ``exc`` leaving the chain: a connection refused
        because of another failure reports that failure."""
        if ctx is not None and ctx.error is not None and isinstance(exc, _REFUSALS):
            return ctx.error
        return exc

    async def reply_for(self, ctx: InboundContext, exc: Exception) -> Any:
        """The reply for ``exc``: the user handler's return value, else a problem detail.

        Records the exception on ``ctx.error``, and on ``ctx.handled`` whether a user handler
        produced the reply, for the log entry.
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
                ctx.handled = True
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
        from ..payloads.problems import ProblemDetail

        applicable: dict[type[BaseException], ExceptionHandler] = {}
        for (namespace, exc_type), handler in self.handlers.items():
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
                    "handler's parameters; `errors` lists at most 10 of pydantic's validation errors, "
                    "without input values, and `error_count` how many there were.",
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
            "error_count": 1,
        }
    return internal_error_problem("event_name")
