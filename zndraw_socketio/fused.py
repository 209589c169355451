"""Fusion: a handler whose stack holds only the built-in stages gets them folded into one function.

The folded entry does what the composed chain does — bind the log context, validate the payload,
call the handler, turn an exception into the reply, log the event — with the stages' own helpers,
but without a context object or a call per stage on the happy path. Any user middleware, per-handler
middleware, generator dependency, catch-all or reserved event keeps the composed chain.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .adapters import encode, encode_reply, model_dumper, validator_for
from .context import InboundContext
from .dependencies import Solver, compile_solver, uses_context
from .middleware.dependencies import DependenciesMiddleware
from .middleware.exceptions import ExceptionMiddleware
from .middleware.logging import (
    EVENT_CONTEXT,
    EVENT_VAR,
    NAMESPACE_VAR,
    SID_VAR,
    LoggingMiddleware,
    bind_event,
    handled,
    log_failed,
    log_ok,
    unbind_event,
)
from .middleware.naming import NamingMiddleware
from .middleware.validation import ValidationMiddleware, payload_converter

if TYPE_CHECKING:
    from .core import Core
    from .routing import Route

__all__ = ["fusable", "fused_inbound"]

_ABSENT: Any = object()  # no payload argument at all


class _NoModel:
    """What a reply is never an instance of, when the handler declares no model to return."""


_BUILTIN = (
    NamingMiddleware,
    LoggingMiddleware,
    ExceptionMiddleware,
    ValidationMiddleware,
    DependenciesMiddleware,
)


def fusable(core: Core) -> bool:
    """True when the stack is exactly the built-in stages (no user middleware, none replaced)."""
    stack = core.stack
    return len(stack) == len(_BUILTIN) and all(
        type(mw) is cls for mw, cls in zip(stack, _BUILTIN, strict=True)
    )


def fused_inbound(core: Core, route: Route, chain_entry: Callable[..., Any]) -> Callable[..., Any] | None:
    """The folded entry for ``route``, or ``None`` when it needs the composed chain.

    ``chain_entry`` is the composed chain's entry: the folded one hands an event to it while
    ``dependency_overrides`` are set (a replacement may be a generator, which needs closing).
    """
    if (
        not fusable(core)
        or route.middleware
        or route.has_yield
        or route.kind != "event"
        or route.event == "*"
        or route.namespace == "*"
    ):
        return None
    convert = payload_converter(route)
    params = route.params
    # one required payload parameter: validate it in place, no tuple of values
    single = len(params) == 1 and params[0].required and not route.var_positional
    validate = validator_for(params[0].annotation) if single else None
    reply_for = core.exceptions.reply_for
    logger = core.logging.new_logger()
    handler = route.handler
    is_coroutine = route.is_coroutine
    event, namespace = route.event, route.namespace
    server = route.role == "server"
    handler_lead = route.handler_lead
    pass_sid = server and handler_lead == 1
    injected = route.injected
    needs_ctx = uses_context(injected)
    resolvers, needs_solver = compile_solver(injected)
    # one injected parameter (the common case): model_entry resolves it in place, no loop
    lone_name, lone = resolvers[0] if len(resolvers) == 1 else ("", None)
    overrides = core.dependency_overrides
    make_request = core.make_request
    # the declared return model, serialised by its own pydantic-core serializer when the reply is one
    declared = model_dumper(route.returns)
    reply_model: type = _NoModel
    dump_reply: Callable[..., Any] = encode  # never called for _NoModel
    if declared is not None:
        reply_model, dump_reply = declared

    async def fail(
        log: Any, sid: Any, lead: tuple[Any, ...], payload: tuple[Any, ...], start: float, exc: Exception
    ) -> Any:
        """The reply to an event that raised: a user exception handler's or the problem detail."""
        ctx = InboundContext(route, event, namespace, sid, lead, payload)
        result = await reply_for(ctx, exc)
        log_failed(log, event, sid, namespace, "in", start, ctx.error or exc, handled(ctx))
        return encode_reply(result, event)

    async def fused_entry(*args: Any) -> Any:
        if injected and overrides:
            return await chain_entry(*args)
        if server:
            sid = args[0]
            payload = args[1:]
        else:
            sid = None
            payload = args
        log = logger.log or logger.get()
        tokens = bind_event(logger, event, sid, namespace)
        start = perf_counter()
        try:
            try:
                if single and len(payload) == 1:
                    values = (payload[0] if validate is None else validate(payload[0]),)
                else:
                    values = payload if convert is None else convert(payload)
                if injected:
                    lead = args[:handler_lead]
                    solver = None
                    if needs_solver:
                        ctx = (
                            InboundContext(route, event, namespace, sid, lead, payload) if needs_ctx else None
                        )
                        solver = Solver(ctx, overrides, make_request, None)
                    kwargs = {name: await resolve(solver) for name, resolve in resolvers}
                    result = handler(*lead, *values, **kwargs)
                elif single:
                    result = handler(sid, values[0]) if pass_sid else handler(values[0])
                else:
                    result = handler(*args[:handler_lead], *values)
                if is_coroutine:
                    result = await result
                # encoded inside the try: a reply that cannot be is a failure like any other
                reply = dump_reply(result, mode="json") if type(result) is reply_model else encode(result)
            except Exception as exc:
                return await fail(log, sid, args[:handler_lead], payload, start, exc)
        except BaseException as exc:
            log_failed(log, event, sid, namespace, "in", start, exc, False)
            raise
        finally:
            unbind_event(logger, tokens)
        if logger.debug:
            log_ok(log, event, sid, namespace, "in", start)
        return reply

    lone_only = lone is not None and not needs_solver  # one dependency that needs no Solver
    if not (pass_sid and single and is_coroutine and validate is not None and (not injected or lone_only)):
        return fused_entry

    async def model_entry(sid: Any, data: Any = _ABSENT, /, *rest: Any) -> Any:
        """``fused_entry`` for the commonest handler, ``async def h(sid, data: Model)`` on a server
        with one payload argument and at most one dependency: no tuples of arguments, no
        branches on the handler's shape."""
        if injected and overrides:
            return await chain_entry(sid) if data is _ABSENT else await chain_entry(sid, data, *rest)
        if data is _ABSENT:  # the wrong number of arguments: the general entry answers
            return await fused_entry(sid)
        if rest:
            return await fused_entry(sid, data, *rest)
        # bind_event, unbind_event and the reply's encoding, inlined: the hot path
        log = logger.log or logger.get()
        single_var = logger.single
        if single_var:
            token = EVENT_CONTEXT.set((event, sid, namespace))
        else:
            t1 = EVENT_VAR.set(event)
            t2 = SID_VAR.set(sid)
            t3 = NAMESPACE_VAR.set(namespace)
        start = perf_counter()
        try:
            try:
                if lone is None:
                    result = await handler(sid, validate(data))
                else:
                    value = validate(data)
                    result = await handler(sid, value, **{lone_name: await lone(None)})
                reply = dump_reply(result, mode="json") if type(result) is reply_model else encode(result)
            except Exception as exc:
                return await fail(log, sid, (sid,), (data,), start, exc)
        except BaseException as exc:
            log_failed(log, event, sid, namespace, "in", start, exc, False)
            raise
        finally:
            if single_var:
                EVENT_CONTEXT.reset(token)  # pyright: ignore[reportPossiblyUnboundVariable]
            else:
                NAMESPACE_VAR.reset(t3)  # pyright: ignore[reportPossiblyUnboundVariable]
                SID_VAR.reset(t2)  # pyright: ignore[reportPossiblyUnboundVariable]
                EVENT_VAR.reset(t1)  # pyright: ignore[reportPossiblyUnboundVariable]
        if logger.debug:
            log_ok(log, event, sid, namespace, "in", start)
        return reply

    return model_entry
