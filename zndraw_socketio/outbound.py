"""Outbound: reading ``emit``/``call`` arguments, the raw socketio send, and the fused sender."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from .context import OutboundContext, namespace_of, target_of
from .middleware.logging import log_failed, log_ok
from .middleware.validation import serialise, validate_response
from .names import get_event_name

if TYPE_CHECKING:
    from .core import Core

__all__ = ["Kind", "RawSend", "Send", "fused_sender", "outbound_context", "parse_outbound", "raw_sender"]

Kind = Literal["emit", "call"]
RawSend = Callable[[Kind, Any, Any, dict[str, Any]], Awaitable[Any]]
Send = Callable[[Kind, Any, Any, dict[str, Any], Any], Coroutine[Any, Any, Any]]


def parse_outbound(kind: Kind, event: Any, data: Any) -> tuple[str | None, Any]:
    """Read ``emit(name, data)`` / ``emit(model)`` into ``(name or None, payload)``."""
    if type(event) is str:
        return event, data
    if isinstance(event, BaseModel):
        if data is not None:
            raise TypeError(
                f"Cannot provide both a model instance ({type(event).__name__}) and data to "
                f"{kind}(): the model is the payload and names the event"
            )
        return None, event
    if isinstance(event, str):
        return str(event), data
    if isinstance(event, type) and issubclass(event, BaseModel):
        raise TypeError(f"{kind}() needs a model instance, got the class {event.__name__}")
    raise TypeError(f"{kind}() expects an event name or a model instance, got {type(event).__name__}")


def outbound_context(
    kind: Kind, event: Any, data: Any, kwargs: dict[str, Any], response_model: Any
) -> OutboundContext:
    """An ``OutboundContext`` for ``emit(event, data, **kwargs)``."""
    name, payload = parse_outbound(kind, event, data)
    return OutboundContext(kind, name, payload, kwargs, response_model)


def raw_sender(sio: Any, is_async: bool) -> RawSend:
    """The innermost outbound step: socketio's own ``emit`` or ``call``, unchanged kwargs."""
    raw_emit = sio.emit
    raw_call = getattr(sio, "call", None)

    async def send(kind: Kind, event: Any, data: Any, kwargs: dict[str, Any]) -> Any:
        if kind == "emit":
            sent = raw_emit(event, data, **kwargs)
        elif raw_call is None:
            raise TypeError(f"{type(sio).__name__} cannot call(): it has no call method")
        else:
            sent = raw_call(event, data, **kwargs)
        return await sent if is_async else sent

    return send


def fused_sender(core: Core) -> Send:
    """The outbound stack of the built-in stages alone (naming, logging, validation), folded into
    one function: what the composed chain does, without a context object or a call per stage
    (``raw_sender``'s emit/call is inlined here too).

    On an async server (or client manager) face, ``emit(Model(...))`` with debug entries filtered
    out and no ``callback`` returns socketio's own ``emit`` coroutine, the model already
    serialised: no frame of ours stays on the stack while socketio awaits its sends. Nothing is
    lost: the entry it would log is a filtered debug one, the serialisation's failure is logged
    before raising, and socketio's server ``emit`` has no failure of its own to log (it drops
    sends to unknown rooms, and a Redis manager logs and drops a publish that fails).
    """
    logger = core.logging.new_logger()
    sio = core.sio
    raw_emit = sio.emit
    raw_call = getattr(sio, "call", None)
    is_async = core.is_async
    direct = is_async and core.role == "server"
    models: dict[type, str] = {}  # model classes sent so far, and their names
    positional = direct and _to_and_room_positional(raw_emit)

    async def send_chain(
        kind: Kind, event: Any, data: Any, kwargs: dict[str, Any], response_model: Any
    ) -> Any:
        if data is None and isinstance(event, BaseModel):  # emit(Model(...)): the common case
            name = get_event_name(event)
            payload = event
            models[type(event)] = name
        else:
            name, payload = parse_outbound(kind, event, data)
            if name is None:
                name = get_event_name(payload)
        log = logger.log or logger.get()
        start = perf_counter()
        try:
            payload = serialise(payload)
            if kind == "emit":
                result = raw_emit(name, payload, **kwargs)
            elif raw_call is None:
                raise TypeError(f"{type(sio).__name__} cannot call(): it has no call method")
            else:
                result = raw_call(name, payload, **kwargs)
            if is_async:
                result = await result
            if response_model is not None:
                result = validate_response(response_model, result)
        except BaseException as exc:
            log_failed(log, name, target_of(kwargs), namespace_of(kwargs), "out", start, exc, False)
            raise
        if logger.debug:
            log_ok(log, name, target_of(kwargs), namespace_of(kwargs), "out", start)
        return result

    if not direct:
        return send_chain

    def send(
        kind: Kind, event: Any, data: Any, kwargs: dict[str, Any], response_model: Any
    ) -> Coroutine[Any, Any, Any]:
        name = models.get(type(event))  # a model class already sent once (and a str is not one)
        if (
            name is None
            or data is not None
            or kind != "emit"
            or logger.debug
            or logger.log is None  # not materialised yet: the chain does it
            or "callback" in kwargs
        ):
            return send_chain(kind, event, data, kwargs, response_model)
        start = perf_counter()
        try:
            payload = event.__pydantic_serializer__.to_python(event, mode="json")  # dump_model, inlined
        except Exception as exc:
            log_failed(logger.log, name, target_of(kwargs), namespace_of(kwargs), "out", start, exc, False)
            raise
        if len(kwargs) == 1 and positional:  # emit(model, to=sid): no keyword dict to unpack
            if "to" in kwargs:
                return raw_emit(name, payload, kwargs["to"])
            if "room" in kwargs:
                return raw_emit(name, payload, None, kwargs["room"])
        return raw_emit(name, payload, **kwargs)

    return send


def _to_and_room_positional(emit: Callable[..., Any]) -> bool:
    """True when ``emit(event, data, to, room, ...)`` takes ``to`` and ``room`` third and fourth
    by position, as python-socketio's server and managers do: the fast path then passes them
    by position, which is cheaper than unpacking a keyword dict."""
    try:
        params = list(inspect.signature(emit).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False
    names = [p.name for p in params[:4] if p.kind is p.POSITIONAL_OR_KEYWORD]
    return names == ["event", "data", "to", "room"]
