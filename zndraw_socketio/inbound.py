"""The inbound compiler: one entry per route, built once from the stages' pieces.

This module is the only place that holds the inbound control flow. Each built-in stage states at
registration what it does for a route (``middleware/validation.py``: how the payload is
converted; ``middleware/dependencies.py``: the compiled resolvers; ``middleware/exceptions.py``:
how a result becomes the reply and what an exception becomes; ``middleware/logging.py``: the
logger and how the event's keys are bound), and ``compile_inbound`` puts the pieces into one
skeleton:

    bind keys -> [user middleware ->] validate -> solve -> call -> encode
              -> on error: exception handler or problem reply -> log -> unbind

User middleware runs inside the skeleton, between the exception stage and validation. The event's
context object is made once, only when something needs it (a user middleware, a context or request
parameter, an override, an exception handler that may apply, a failure), and the same object
reaches all of them. The invoker (validate -> solve -> call) is chosen at compile time among the
variants below, side by side; every one calls the same pieces.
"""

from __future__ import annotations

import inspect
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from time import perf_counter
from typing import Any

from pydantic import ValidationError

from ._drive import drive
from .capture import capturing, recording
from .context import InboundContext, payload_of
from .fail_fast import note_payload
from .injection import Injection, Solver
from .middleware.base import InboundNext, Middleware, hook_of
from .middleware.logging import log_failed, log_ok
from .middleware.stack import Stages
from .problems import CANCELLED_DETAIL, unavailable_problem
from .request import SioRequest, remember_auth
from .routing import Route

__all__ = ["Invoker", "compile_inbound"]

Invoker = Callable[..., Awaitable[Any]]
"""``await invoke(ctx, lead, payload)``: validate the payload, solve the dependencies, call the
handler; ``ctx`` is ``None`` when nothing needs the event's context. ``invoke(ctx)`` reads ``lead``
and ``payload`` from the context: the invoker is itself the innermost step of the user chain."""


_ABSENT: Any = object()  # no payload argument at all
_new = object.__new__


def compile_inbound(
    route: Route,
    stages: Stages,
    user: tuple[Middleware, ...],
    make_request: Callable[[InboundContext], SioRequest],
    *,
    is_async: bool,
    sender: Any = None,
) -> Callable[..., Any]:
    """The callable python-socketio stores for ``route``: its whole inbound chain.

    ``user`` is the global user middleware, outer to inner; the route's own follows it. On a
    synchronous face the same entry is driven to completion synchronously. ``sender``: the
    socketio object that sends the replies; while it sends with the wire codec, a reply of the
    declared model is written as JSON text in one pydantic-core call (``codec.reply_renderer``).
    """
    event, namespace = route.event, route.namespace
    catch_event, catch_namespace = event == "*", namespace == "*"
    lead, handler_lead = route.lead, route.handler_lead
    has_sid = route.role == "server" and route.kind != "connect_error"
    sid_at = catch_event + catch_namespace
    records_auth = route.kind == "connect" and has_sid
    replies = route.kind == "event"  # an event's handler answers; connect and disconnect do not
    logger = stages.logging.new_logger()
    # a test's capture_events() records the reply's data, not JSON text written for the codec
    encoding = stages.exceptions.reply_encoder(route, None if capturing() else sender)
    reply_model, dump, encode, mode = encoding.model, encoding.dump, encoding.encode, encoding.mode
    fail = stages.exceptions.failure(route)
    reported = stages.exceptions.reported
    injection = stages.dependencies.injection(route)
    single = stages.validation.single(route)
    invoke = _invoker(route, stages, injection, single, make_request)
    chain = _user_chain(route, stages.user_layers(user, route), invoke)
    overrides = stages.dependencies.overrides if injection is not None else {}
    # a user middleware or a context/request parameter needs the context for every event; an
    # exception handler that may apply needs it too, unless the entry keeps the validated value
    needs_context = chain is not None or (injection is not None and injection.needs_context)
    eager = needs_context or stages.exceptions.may_handle(namespace)
    run: Callable[[InboundContext], Awaitable[Any]] = chain or invoke
    outer = hook_of(chain)  # the outermost user hook, called in place by entry_one
    outer_hook, outer_next = outer if outer is not None else (None, invoke)

    async def failed(
        log: Any,
        ctx: InboundContext | None,
        ev: str,
        ns: str,
        sid: Any,
        args: tuple[Any, ...],
        start: float,
        exc: Exception,
        value: Any = _ABSENT,
    ) -> Any:
        """The error path of every variant: the exception stage's reply (or refusal), logged.

        ``value`` is the validated payload of an entry that called the handler in place without a
        context: the context made here for the exception handler carries it."""
        if ctx is None:
            ctx = InboundContext(route, ev, ns, sid, args[:handler_lead], args[lead:])
            if value is not _ABSENT:
                ctx.values = (value,)
        try:
            reply = await fail(ctx, exc)
        except BaseException as raised:
            aborted(log, ctx, ev, sid, ns, start, raised)
            raise
        log_failed(log, ev, sid, ns, "in", start, ctx.error or exc, ctx.handled)
        return reply

    def aborted(
        log: Any, ctx: InboundContext | None, ev: str, sid: Any, ns: str, start: float, exc: BaseException
    ) -> None:
        """The entry of an event that ended in an exception (a refusal, a cancellation)."""
        handled = ctx is not None and ctx.handled
        log_failed(log, ev, sid, ns, "in", start, reported(ctx, exc), handled)

    def cancelled(
        log: Any, ctx: InboundContext | None, ev: str, sid: Any, ns: str, start: float, exc: BaseException
    ) -> Any:
        """The end of an event handler that was cancelled (a shutdown past its grace period): its
        dependencies are closed, it is logged without a traceback, and the caller gets the 503
        problem detail, which python-socketio sends as the ack (it never re-raises the
        cancellation of a handler: it would otherwise ack nothing)."""
        aborted(log, ctx, ev, sid, ns, start, exc)
        return unavailable_problem(ev, CANCELLED_DETAIL)

    async def entry(*args: Any) -> Any:
        ev = args[0] if catch_event else event
        ns = args[catch_event] if catch_namespace else namespace
        sid = args[sid_at] if has_sid else None
        if records_auth:  # kept per namespace, for SioRequest.auth in later events
            remember_auth(args[lead - 1], ns, args[lead] if len(args) > lead else None)
        log = logger.log or logger.get()
        token = logger.bind((ev, sid, ns))
        start = perf_counter()
        ctx = None
        try:
            if eager or overrides:
                ctx = InboundContext(route, ev, ns, sid, args[:handler_lead], args[lead:])
                result = await run(ctx)
            else:
                result = await invoke(None, args[:handler_lead], args[lead:])
            reply = dump(result, mode=mode) if type(result) is reply_model else encode(result)
        except Exception as exc:
            return await failed(log, ctx, ev, ns, sid, args, start, exc)
        except BaseException as exc:
            if replies and isinstance(exc, CancelledError):
                return cancelled(log, ctx, ev, sid, ns, start, exc)
            aborted(log, ctx, ev, sid, ns, start, exc)
            raise
        finally:
            logger.unbind(token)
        if logger.debug:
            log_ok(log, ev, sid, ns, "in", start)
        return reply

    if capturing():  # a test's capture_events() is open: the general entry, behind a recorder

        def keys(*args: Any) -> tuple[str, str, Any, Any]:
            ev = args[0] if catch_event else event
            ns = args[catch_event] if catch_namespace else namespace
            return ev, ns, args[sid_at] if has_sid else None, payload_of(args[lead:])

        recorded = recording("in", keys, entry)
        return recorded if is_async else _driven(recorded)

    lone = injection.lone if injection is not None else None
    handler = route.handler
    if (
        not is_async
        or catch_event
        or catch_namespace
        or not has_sid
        or handler_lead != 1
        or route.kind != "event"
    ):
        return entry if is_async else _driven(entry)
    # the handler called in place: one validated model argument, at most one lone dependency;
    # the validated value is kept for an exception handler, so that one needs no context up front
    direct = single is not None and route.is_coroutine and (injection is None or lone is not None)
    lone_name, resolve = lone if lone is not None else ("", None)
    eager_one = needs_context or (eager and not direct)

    async def entry_one(sid: Any, data: Any = _ABSENT, /, *rest: Any) -> Any:
        """``entry`` for the commonest call, a server event with one payload argument for a handler
        taking the sid: no argument tuples to slice, and for ``async def h(sid, data: Model)``
        with at most one dependency, no branches on the handler's shape. Any other number of
        arguments goes to ``entry``."""
        if data is _ABSENT or rest:
            return await (entry(sid) if data is _ABSENT else entry(sid, data, *rest))
        log = logger.log or logger.get()
        token = logger.bind((event, sid, namespace))
        start = perf_counter()
        ctx = None
        value = _ABSENT
        try:
            if eager_one or overrides:
                # InboundContext(route, event, namespace, sid, (sid,), (data,)), filled in place
                ctx = _new(InboundContext)
                ctx.route = route
                ctx.event = event
                ctx.namespace = namespace
                ctx.sid = sid
                ctx.lead = (sid,)
                ctx.args = ctx.values = (data,)
                ctx.kwargs = ctx.error = ctx._state = None
                ctx.handled = False
                ctx.data = data
                result = await (run(ctx) if outer_hook is None else outer_hook(ctx, outer_next))
            elif not direct:
                result = await invoke(None, (sid,), (data,))
            elif resolve is None:
                value = single(data)  # type: ignore[misc]  # direct: single is set
                result = await handler(sid, value)
            else:
                value = single(data)  # type: ignore[misc]
                result = await handler(sid, value, **{lone_name: await resolve(None)})
            reply = dump(result, mode=mode) if type(result) is reply_model else encode(result)
        except Exception as exc:
            if value is _ABSENT and ctx is None and direct and isinstance(exc, ValidationError):
                note_payload(exc, route.params[0].annotation, data)  # single(data) failed
            return await failed(log, ctx, event, namespace, sid, (sid, data), start, exc, value)
        except BaseException as exc:
            if isinstance(exc, CancelledError):  # an event route: it replies
                return cancelled(log, ctx, event, sid, namespace, start, exc)
            aborted(log, ctx, event, sid, namespace, start, exc)
            raise
        finally:
            logger.unbind(token)
        if logger.debug:
            log_ok(log, event, sid, namespace, "in", start)
        return reply

    return entry_one


def _driven(entry: Callable[..., Any]) -> Callable[..., Any]:
    """``entry`` for a synchronous face: the same coroutine, driven to completion at once."""

    def sync_entry(*args: Any) -> Any:
        return drive(entry(*args))

    return sync_entry


def _user_chain(route: Route, layers: tuple[Middleware, ...], invoke: Invoker) -> InboundNext | None:
    """The user middleware composed around the invoker, outer to inner; ``None`` when no layer
    has anything to do for ``route``."""
    chain: InboundNext = invoke
    for mw in reversed(layers):
        chain = mw.wrap_inbound(route, chain)
    return None if chain is invoke else chain


def _invoker(
    route: Route,
    stages: Stages,
    injection: Injection | None,
    single: Callable[[Any], Any] | None,
    make_request: Callable[[InboundContext], SioRequest],
) -> Invoker:
    """validate -> solve -> call for ``route``, in the cheapest shape that fits it (``single``: the
    validation stage's validator of a lone payload argument)."""
    handler = route.handler
    awaits = route.is_coroutine
    convert = stages.validation.converter(route)

    one_lead = route.handler_lead == 1
    if injection is None and single is not None and awaits:
        # async def h(sid, data: Model): one validated argument, the handler's own coroutine
        # returned, so no frame of ours is on the stack while it runs
        def invoke_one(ctx: Any, lead: Any = None, payload: Any = None) -> Any:
            if lead is None:
                lead, payload = ctx.lead, ctx.args
            if len(payload) != 1:
                convert(payload)  # type: ignore[misc]  # raises the arity error
            try:
                value = single(payload[0])
            except ValidationError as exc:
                note_payload(exc, route.params[0].annotation, payload[0])
                raise
            if ctx is not None:
                ctx.values = (value,)
            if one_lead:  # the sid: cheaper than unpacking a tuple of one
                return handler(lead[0], value)
            return handler(*lead, value)

        return invoke_one

    if injection is None:

        async def invoke(ctx: Any, lead: Any = None, payload: Any = None) -> Any:
            if lead is None:
                lead, payload = ctx.lead, ctx.args
            values = payload if convert is None else convert(payload)
            if ctx is not None:
                ctx.values = values
            result = handler(*lead, *values)
            return await result if awaits or inspect.isawaitable(result) else result

        return invoke

    overrides = injection.plans.overrides
    has_yield = injection.has_yield
    static_solver = injection.needs_context or injection.shared
    solve = injection.solve

    async def invoke_injected(ctx: Any, lead: Any = None, payload: Any = None) -> Any:
        if lead is None:
            lead, payload = ctx.lead, ctx.args
        values = payload if convert is None else convert(payload)
        if ctx is not None:
            ctx.values = values
        if not (has_yield or overrides):
            kwargs = await solve(Solver(ctx, make_request, None) if static_solver else None)
            if ctx is not None:
                ctx.kwargs = kwargs
            result = handler(*lead, *values, **kwargs)
            return await result if awaits or inspect.isawaitable(result) else result
        async with AsyncExitStack() as stack:  # generator dependencies finish before the reply
            kwargs = await solve(Solver(ctx, make_request, stack))
            if ctx is not None:
                ctx.kwargs = kwargs
            result = handler(*lead, *values, **kwargs)
            return await result if awaits or inspect.isawaitable(result) else result

    return invoke_injected
