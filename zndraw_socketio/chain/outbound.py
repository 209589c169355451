"""The outbound compiler: one sender per wrapper, built once from the stages' pieces.

This module is the only place that holds the outbound control flow:

    name the event -> log -> [user middleware ->] serialise -> socketio's emit/call -> validate reply

``compile_outbound`` is called when the stack is composed; the sender it returns is what the
faces' ``emit``/``call`` call. Every error (a wrong argument, a model that cannot be serialised,
socketio refusing a keyword) surfaces when the returned coroutine is awaited, with its log entry.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import Any, Literal

import socketio
from pydantic import BaseModel

from ..events.context import OutboundContext, namespace_of, target_of
from ..events.drive import ready
from ..middleware.base import Middleware, OutboundNext, hook_of
from ..payloads.adapters import memoised, model_dumper
from ..stages.logging import log_failed, log_ok
from ..stages.stack import Stages
from ..stages.validation import response_validator, serialise
from ..transport.acks import awaiting_call
from ..transport.buffers import volatile_kwargs
from .capture import capturing, recording

__all__ = ["Kind", "Send", "compile_outbound", "to_and_room_positional"]

Kind = Literal["emit", "call"]
Send = Callable[[Kind, Any, Any, dict[str, Any], Any], Coroutine[Any, Any, Any]]
"""``send(kind, event, data, kwargs, response_model)``: the coroutine of one emit or call."""


def compile_outbound(
    sio: Any,
    stages: Stages,
    user: tuple[Middleware, ...],
    *,
    is_async: bool,
    direct: bool,
    positional: bool = False,
    future_call: bool = False,
) -> Send:
    """The sender of a wrapper over ``sio``, with ``user`` middleware (outer to inner).

    ``direct`` (async servers and client managers): ``emit(Model(...))`` of a model class sent
    before, with no user middleware, debug entries filtered out, no ``callback`` and hashable
    arguments, returns socketio's own ``emit`` coroutine with the model already serialised, so
    that no frame of ours stays on the stack while socketio awaits its sends. Nothing is lost:
    the entry it would log is a filtered debug one, and anything that fails before socketio's
    coroutine exists goes the general way, which raises it on await and logs it.
    ``positional``: ``emit`` takes ``to`` and ``room`` by position (see
    ``to_and_room_positional``); it also hands ``emit(model, to=sid)`` to the client manager
    (the ``manager_emit`` patch). ``future_call``: ``call`` waits on one future (the
    ``future_call`` patch, ``transport.acks``).
    """
    logger = stages.logging.new_logger()
    outbound_name = stages.naming.outbound_name
    raw_emit = sio.emit
    raw_call = (awaiting_call(sio) if future_call else None) or getattr(sio, "call", None)
    if capturing():  # a test's capture_events() is open: what reaches socketio is recorded
        raw_emit, raw_call, direct, positional = _recorded(sio, raw_emit, raw_call)
    # per model class sent so far: its event name (the naming stage's) and its bound serializer
    # (the validation stage's), worked out on the class's first emit
    plans: dict[type, tuple[str, Callable[..., Any]]] = {}
    # per response model of a call: its reply validator, built on its first call (at most
    # _MAX_CHECKS kept; an unhashable annotation is validated without its validator being kept)
    checks: dict[Any, Callable[[Any], Any]] = {}

    def checker(model: Any) -> Callable[[Any], Any]:
        return memoised(checks, model, lambda: response_validator(model), _MAX_CHECKS)

    forwards = positional and _forwards_to_manager(sio)
    sio_logger: Any = sio.logger if forwards else None  # read only when forwarding

    def emit_to(name: str, data: Any, to: Any) -> Any:
        """socketio's ``emit(name, data, to=to)``; straight to its manager when the server's own
        ``emit`` would only forward it there (see ``_forwards_to_manager``), one frame less while
        socketio awaits the send. The manager's ``emit`` is read at each emit, as the server's own
        ``emit`` reads it: ``instrument()`` replaces it, and a lifespan may swap the manager."""
        if forwards and not sio_logger.isEnabledFor(logging.INFO):
            return sio.manager.emit(name, data, "/", to or None)  # the server's own "to or room"
        return raw_emit(name, data, to)

    def named(kind: Kind, event: Any, data: Any) -> tuple[str, Any]:
        """``(event name, payload)`` from the naming stage (which also refuses what cannot be
        sent) for an event without a plan; a model class seen for the first time is planned."""
        name, payload = outbound_name(kind, event, data)
        if data is None and isinstance(event, BaseModel):
            dumper = model_dumper(type(event))
            if dumper is not None:
                plans[type(event)] = (name, dumper[1])
        return name, payload

    def deliver(kind: Kind, name: str, payload: Any, kwargs: dict[str, Any], response_model: Any) -> Any:
        """serialise -> socketio -> validate the reply (a coroutine on async faces)."""
        plan = plans.get(type(payload))
        data = serialise(payload) if plan is None else plan[1](payload, mode="json")
        if kind == "emit":
            if positional and len(kwargs) == 1:  # emit(model, to=sid): no keyword dict to unpack
                if "to" in kwargs:
                    return emit_to(name, data, kwargs["to"])
                if "room" in kwargs:
                    return raw_emit(name, data, None, kwargs["room"])
            if "volatile" in kwargs:  # socket.io's volatile: skip the connections still sending
                kwargs = volatile_kwargs(sio, kwargs)
            sent = raw_emit(name, data, **kwargs)
            return sent if is_async else ready(sent)
        if raw_call is None:
            raise TypeError(f"{type(sio).__name__} cannot call(): it has no call method")
        check = None if response_model is None else checker(response_model)
        return _replied(raw_call(name, data, **kwargs), check, is_async)

    chain = _user_chain(stages.user_layers(user), deliver, sync=not is_async)
    outer = hook_of(chain)  # the outermost user hook, called in place by send
    outer_hook, outer_next = outer if outer is not None else (None, None)

    async def send(kind: Kind, event: Any, data: Any, kwargs: dict[str, Any], response_model: Any) -> Any:
        if logger.log is None:
            logger.get()  # materialised on the first event
        start = perf_counter()
        name = None
        try:
            plan = plans.get(type(event)) if data is None else None
            name, payload = named(kind, event, data) if plan is None else (plan[0], event)
            if chain is None:
                result = await deliver(kind, name, payload, kwargs, response_model)
            else:
                ctx = OutboundContext(kind, name, payload, kwargs, response_model)
                result = await (chain(ctx) if outer_hook is None else outer_hook(ctx, outer_next))
                name, kwargs = ctx.event, ctx.kwargs
        except BaseException as exc:
            log_failed(logger.log, name, target_of(kwargs), namespace_of(kwargs), "out", start, exc, False)
            raise
        if logger.debug:
            log_ok(logger.log, name, target_of(kwargs), namespace_of(kwargs), "out", start)
        return result

    if not direct or chain is not None:
        return send

    def send_direct(
        kind: Kind, event: Any, data: Any, kwargs: dict[str, Any], response_model: Any
    ) -> Coroutine[Any, Any, Any]:
        """``send`` for what cannot fail after socketio's coroutine exists, without our frame:
        ``deliver``'s own coroutine (socketio's), for an emit of a model class sent before.
        Anything else goes through ``send``, and so does every argument that is not hashable
        (a target or namespace socketio would fail on while awaited, past any log entry)."""
        plan = plans.get(type(event))  # a model class sent once already (a str is not one)
        if (
            plan is None
            or data is not None
            or kind != "emit"
            or logger.debug
            or logger.log is None  # not materialised yet: the general way does it
            or "callback" in kwargs
        ):
            return send(kind, event, data, kwargs, response_model)
        try:
            if positional and len(kwargs) == 1 and type(kwargs.get("to")) is str:  # emit(model, to=sid)
                return emit_to(plan[0], plan[1](event, mode="json"), kwargs["to"])
            for value in kwargs.values():
                hash(value)  # a list of rooms, a dict, ...: the general way, which logs
            return deliver(kind, plan[0], event, kwargs, None)
        except Exception:  # raised on await and logged, as on every other path
            return send(kind, event, data, kwargs, response_model)

    return send_direct


_MAX_CHECKS = 256


def _forwards_to_manager(sio: Any) -> bool:
    """True for a python-socketio server whose ``emit`` is the library's own, with a client manager.

    For ``emit(event, data, to=sid)`` that method writes an INFO line to socketio's logger and
    forwards ``(event, data, "/", sid)`` to the manager, unchanged; while that line is disabled,
    calling the manager does the same work. False for anything else (a client, a manager wrapped
    directly, a server class whose ``emit`` is overridden).
    """
    if type(sio).emit is not socketio.AsyncServer.emit:
        return False
    return hasattr(getattr(sio, "manager", None), "emit")


def _recorded(sio: Any, emit: Any, call: Any) -> tuple[Any, Any, bool, bool]:
    """socketio's ``emit`` and ``call`` behind capture recorders, for a sender that passes every
    argument by keyword (neither direct nor positional)."""
    own = getattr(sio, "namespace", None)  # a simple client's one namespace
    default = own if isinstance(own, str) else "/"

    def keys(event: str, data: Any = None, **kwargs: Any) -> tuple[str, str, Any, Any]:
        return event, kwargs.get("namespace") or default, target_of(kwargs), data

    return recording("out", keys, emit), None if call is None else recording("out", keys, call), False, False


def _user_chain(
    user: tuple[Middleware, ...], deliver: Callable[..., Any], *, sync: bool
) -> OutboundNext | None:
    """The user middleware composed around ``deliver``; ``None`` when none has an outbound hook.
    The innermost ``call_next(ctx)`` delivers the context's event as the middleware left it."""

    def innermost(ctx: OutboundContext) -> Any:
        return deliver(ctx.kind, ctx.event, ctx.data, ctx.kwargs, ctx.response_model)

    chain: OutboundNext = innermost
    for mw in reversed(user):
        chain = mw.wrap_outbound(chain, sync=sync)
    return None if chain is innermost else chain


async def _replied(sent: Any, check: Callable[[Any], Any] | None, is_async: bool) -> Any:
    result = await sent if is_async else sent
    return result if check is None else check(result)


def to_and_room_positional(emit: Callable[..., Any]) -> bool:
    """True when ``emit(event, data, to, room, ...)`` takes ``to`` and ``room`` third and fourth
    by position, as python-socketio's server and managers do: the fast path then passes them
    by position, which is cheaper than unpacking a keyword dict."""
    try:
        params = list(inspect.signature(emit).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False
    names = [p.name for p in params[:4] if p.kind is p.POSITIONAL_OR_KEYWORD]
    return names == ["event", "data", "to", "room"]
