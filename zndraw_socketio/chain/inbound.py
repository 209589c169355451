"""The inbound compiler: one entry per route, built once from the stages' pieces.

This module is the only place that holds the inbound control flow. Each built-in stage states at
registration what it does for a route (``stages/validation.py``: how the payload is
converted; ``stages/dependencies.py``: the compiled resolvers; ``stages/exceptions.py``:
how a result becomes the reply and what an exception becomes; ``stages/logging.py``: the
logger and how the event's keys are bound), and ``compile_inbound`` puts the pieces into one
skeleton:

    bind keys -> [user middleware ->] validate -> solve -> call -> encode
              -> on error: exception handler or problem reply -> log -> unbind

There is one copy of that skeleton (``entry``). What differs between routes is chosen when the
route is compiled, from the same pieces: how python-socketio's arguments are read (``_splitter``:
a server event's ``(sid, *payload)``, or the general shape of catch-alls, connect and disconnect)
and the invoker (validate -> solve -> call, ``_invokers``: a lone model argument, a lone
dependency, or the general solver). User middleware runs inside the skeleton, between the
exception stage and validation. The event's context object is made once, by its constructor,
only when something needs it (a user middleware, a context or request parameter, an override, an
exception handler that may apply, a failure), and the same object reaches all of them.
"""

from __future__ import annotations

import inspect
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from time import perf_counter
from typing import Any

from pydantic import ValidationError

from ..di.request import SioRequest
from ..di.solver import Injection, Solver
from ..events.auth import remember_auth
from ..events.context import InboundContext, payload_of
from ..events.drive import drive
from ..events.route import Route
from ..middleware.base import InboundNext, Middleware, hook_of
from ..payloads.fail_fast import note_payload
from ..payloads.problems import CANCELLED_DETAIL, unavailable_problem
from ..stages.logging import log_failed, log_ok
from ..stages.stack import Stages
from .capture import capturing, recording

__all__ = ["Invoker", "compile_inbound"]

Invoker = Callable[[Any, tuple[Any, ...], tuple[Any, ...]], Any]
"""``await invoke(ctx, lead, payload)``: validate the payload, solve the dependencies, call the
handler (``lead``: what the handler gets before its payload, the sid or a catch-all's event).
``ctx`` is ``None`` when nothing needs the event's context; the result may be the handler's own
coroutine, awaited by the caller."""


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
    replies = route.kind == "event"  # an event's handler answers; connect and disconnect do not
    logger = stages.logging.new_logger()
    # a test's capture_events() records the reply's data, not JSON text written for the codec
    encoding = stages.exceptions.reply_encoder(route, None if capturing() else sender)
    reply_model, dump, encode, mode = encoding.model, encoding.dump, encoding.encode, encoding.mode
    fail = stages.exceptions.failure(route)
    reported = stages.exceptions.reported
    injection = stages.dependencies.injection(route)
    invoke, invoke_plain = _invokers(route, stages, injection, make_request)
    chain = _user_chain(route, stages.user_layers(user, route), invoke)
    overrides = stages.dependencies.overrides if injection is not None else {}
    # the context is made for every event when a user middleware, a context or request parameter
    # or an exception handler that may apply needs it (and while overrides are set), else only
    # on the error path
    contextual = (
        chain is not None
        or (injection is not None and injection.needs_context)
        or stages.exceptions.may_handle(namespace)
    )
    outer = hook_of(chain)  # the outermost user hook, called in place: one frame less per event
    outer_hook, outer_next = outer if outer is not None else (None, None)
    split = _splitter(route)

    async def failed(
        log: Any,
        ctx: InboundContext | None,
        ev: str,
        ns: str,
        sid: Any,
        lead: tuple[Any, ...],
        payload: tuple[Any, ...],
        start: float,
        exc: Exception,
    ) -> Any:
        """The error path: the exception stage's reply (or refusal), logged."""
        if ctx is None:
            ctx = InboundContext(route, ev, ns, sid, lead, payload)
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
        """The one skeleton: bind -> run -> encode; error -> reply -> log; cancel -> 503; unbind."""
        if split is None:  # a server event: (sid, *payload)
            ev, ns, sid, lead, payload = event, namespace, args[0], args[:1], args[1:]
        else:
            ev, ns, sid, lead, payload = split(args)
        log = logger.log or logger.get()
        token = logger.bind((ev, sid, ns))
        start = perf_counter()
        ctx = None
        try:
            if contextual or overrides:
                ctx = InboundContext(route, ev, ns, sid, lead, payload)
                if chain is None:
                    result = await invoke(ctx, lead, payload)
                elif outer_hook is None:
                    result = await chain(ctx)
                else:
                    result = await outer_hook(ctx, outer_next)
            else:
                result = await invoke_plain(None, lead, payload)
            reply = dump(result, mode=mode) if type(result) is reply_model else encode(result)
        except Exception as exc:
            return await failed(log, ctx, ev, ns, sid, lead, payload, start, exc)
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

    if capturing():  # a test's capture_events() is open: the same entry, behind a recorder

        def keys(*args: Any) -> tuple[str, str, Any, Any]:
            if split is None:
                return event, namespace, args[0], payload_of(args[1:])
            ev, ns, sid, _, payload = split(args)
            return ev, ns, sid, payload_of(payload)

        recorded = recording("in", keys, entry)
        return recorded if is_async else _driven(recorded)
    return entry if is_async else _driven(entry)


Split = Callable[[tuple[Any, ...]], tuple[str, str, Any, tuple[Any, ...], tuple[Any, ...]]]
"""``split(args)``: python-socketio's arguments for a route as ``(event, namespace, sid, lead,
payload)``; ``lead`` is what the handler gets before its payload (the sid, a catch-all's event)."""


def _splitter(route: Route) -> Split | None:
    """How ``route``'s entry reads python-socketio's arguments, chosen once for its shape;
    ``None`` for the commonest, a server event's ``(sid, *payload)``, which the entry reads in
    place (one call less per event)."""
    event, namespace = route.event, route.namespace
    catch_event, catch_namespace = event == "*", namespace == "*"
    lead, handler_lead = route.lead, route.handler_lead
    has_sid = route.role == "server" and route.kind != "connect_error"
    if has_sid and route.kind == "event" and not (catch_event or catch_namespace) and handler_lead == 1:
        return None
    sid_at = catch_event + catch_namespace
    records_auth = route.kind == "connect" and has_sid

    def split(args: tuple[Any, ...]) -> Any:
        ns = args[catch_event] if catch_namespace else namespace
        if records_auth:  # kept per namespace, for SioRequest.auth in later events
            remember_auth(args[lead - 1], ns, args[lead] if len(args) > lead else None)
        return (
            args[0] if catch_event else event,
            ns,
            args[sid_at] if has_sid else None,
            args[:handler_lead],
            args[lead:],
        )

    return split


def _driven(entry: Callable[..., Any]) -> Callable[..., Any]:
    """``entry`` for a synchronous face: the same coroutine, driven to completion at once."""

    def sync_entry(*args: Any) -> Any:
        return drive(entry(*args))

    return sync_entry


def _user_chain(route: Route, layers: tuple[Middleware, ...], invoke: Invoker) -> InboundNext | None:
    """The user middleware composed around the invoker, outer to inner; ``None`` when no layer
    has anything to do for ``route``. The innermost ``call_next(ctx)`` invokes the handler with
    the context's arguments as the middleware left them."""

    def innermost(ctx: InboundContext) -> Awaitable[Any]:
        return invoke(ctx, ctx.lead, ctx.args)

    chain: InboundNext = innermost
    for mw in reversed(layers):
        chain = mw.wrap_inbound(route, chain)
    return None if chain is innermost else chain


def _invokers(
    route: Route,
    stages: Stages,
    injection: Injection | None,
    make_request: Callable[[InboundContext], SioRequest],
) -> tuple[Invoker, Invoker]:
    """validate -> solve -> call for ``route``, in the cheapest shapes that fit it: the invoker of
    an event with its context, and that of one without (the same one unless a cheaper shape
    applies only without a context). Every shape calls the same pieces: the validation stage's
    converter (``single``: its validator of a lone payload argument) and the dependency stage's
    solver."""
    handler = route.handler
    awaits = route.is_coroutine
    convert = stages.validation.converter(route)
    single = stages.validation.single(route)
    annotation = route.params[0].annotation if single is not None else None
    one_lead = route.handler_lead == 1

    def one(target: Callable[..., Any]) -> Invoker:
        """The invoker of a lone payload argument: validated by ``single``, then ``target(*lead,
        value)`` returned as it is (no frame of ours stays on the stack while it runs)."""

        def invoke_one(ctx: Any, lead: tuple[Any, ...], payload: tuple[Any, ...]) -> Any:
            if len(payload) != 1:
                convert(payload)  # type: ignore[misc]  # raises the arity error
            try:
                value = single(payload[0])  # type: ignore[misc]  # one() is used when single is set
            except ValidationError as exc:
                note_payload(exc, annotation, payload[0])
                raise
            if ctx is not None:
                ctx.values = (value,)
            if one_lead:  # the sid: cheaper than unpacking a tuple of one
                return target(lead[0], value)
            return target(*lead, value)

        return invoke_one

    if injection is None and single is not None and awaits:
        invoke_one = one(handler)  # async def h(sid, data: Model)
        return invoke_one, invoke_one

    overrides = injection.plans.overrides if injection is not None else {}
    has_yield = injection is not None and injection.has_yield
    static_solver = injection is not None and (injection.needs_context or injection.shared)
    solve = injection.solve if injection is not None else None

    async def invoke(ctx: Any, lead: tuple[Any, ...], payload: tuple[Any, ...]) -> Any:
        """The general shape: every payload argument converted, dependencies solved if any."""
        values = payload if convert is None else convert(payload)
        if ctx is not None:
            ctx.values = values
        if solve is None:
            result = handler(*lead, *values)
            return await result if awaits or inspect.isawaitable(result) else result
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

    if injection is None or injection.lone is None or single is None or not awaits:
        return invoke, invoke
    # async def h(sid, data: Model, dep: Annotated[T, Depends(f)]) whose dependency needs neither
    # the context, a cache nor an exit stack: without a context, validated, then the dependency,
    # then the handler; with one (a middleware, an override) the general solver above
    lone_name, resolve = injection.lone

    async def with_dependency(*args: Any) -> Any:
        return await handler(*args, **{lone_name: await resolve(None)})

    return invoke, one(with_dependency)
