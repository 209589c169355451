"""The objects that travel through the middleware chains."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .route import Route

__all__ = ["EventContext", "InboundContext", "OutboundContext", "namespace_of", "payload_of", "target_of"]


def payload_of(args: tuple[Any, ...]) -> Any:
    """An event's payload from its arguments: one as is, several as a tuple, none as ``None``."""
    return args[0] if len(args) == 1 else (args if args else None)


def namespace_of(kwargs: dict[str, Any]) -> str:
    """The namespace an outbound event goes to: ``namespace=`` or ``"/"``."""
    return kwargs.get("namespace") or "/"


def target_of(kwargs: dict[str, Any]) -> str | None:
    """The target of an outbound event: ``to``, ``sid`` or ``room`` as given, else ``None``."""
    return kwargs.get("to") or kwargs.get("sid") or kwargs.get("room")


class _PerEventState:
    """``state``: a dict made on first use (subclasses keep it in their ``_state`` slot)."""

    __slots__ = ()
    _state: dict[str, Any] | None

    @property
    def state(self) -> dict[str, Any]:
        """A dict private to this event, for middleware to pass values inward."""
        state = self._state
        if state is None:
            state = self._state = {}
        return state


class EventContext:
    """What an exception handler learns about the event that failed.

    ``event``, ``namespace`` and ``sid`` (``None`` on clients) name the event; ``data`` is the payload
    exactly as it was received (one argument as is, several as a tuple, none as ``None``).
    """

    __slots__ = ("data", "event", "namespace", "sid")

    event: str
    namespace: str
    sid: str | None
    data: Any


class InboundContext(EventContext, _PerEventState):
    """One inbound event on its way from python-socketio to a handler.

    Middleware reads ``event``, ``namespace``, ``sid`` and ``data`` and may keep per-event values in
    ``state``. ``args`` holds the raw payload arguments, ``values`` the ones the handler will get
    (the validation stage replaces them with validated objects), ``kwargs`` the injected keyword
    arguments. ``route`` is the registered handler. ``error`` is set by the exception stage when it
    turned an exception into a reply, and ``handled`` when a user exception handler made that reply.
    """

    __slots__ = ("_state", "args", "error", "handled", "kwargs", "lead", "route", "values")

    def __init__(
        self,
        route: Route,
        event: str,
        namespace: str,
        sid: str | None,
        lead: tuple[Any, ...],
        args: tuple[Any, ...],
    ) -> None:
        self.route = route
        self.event = event
        self.namespace = namespace
        self.sid = sid
        self.lead = lead
        self.args = args
        self.values = args
        self.kwargs: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.handled = False
        self._state: dict[str, Any] | None = None
        self.data = args[0] if len(args) == 1 else (args or None)  # payload_of, inlined

    def __repr__(self) -> str:
        return f"InboundContext(event={self.event!r}, namespace={self.namespace!r}, sid={self.sid!r})"


class OutboundContext(_PerEventState):
    """One outbound ``emit`` or ``call`` on its way to python-socketio.

    ``event`` is the event name (``None`` until the naming stage resolves it from a model), ``data``
    the payload (a model until the validation stage serialises it), ``kwargs`` the keyword arguments
    for socketio's ``emit``/``call`` (``to``, ``room``, ``namespace``, ``timeout``...),
    ``response_model`` what a ``call`` reply is validated against, ``kind`` ``"emit"`` or ``"call"``.
    """

    __slots__ = ("_state", "data", "event", "kind", "kwargs", "response_model")

    def __init__(
        self,
        kind: Literal["emit", "call"],
        event: str | None,
        data: Any,
        kwargs: dict[str, Any],
        response_model: Any = None,
    ) -> None:
        self.kind: Literal["emit", "call"] = kind
        self.event = event
        self.data = data
        self.kwargs = kwargs
        self.response_model = response_model
        self._state: dict[str, Any] | None = None

    @property
    def namespace(self) -> str:
        """The namespace the event goes to (``"/"`` unless ``namespace=`` was given)."""
        return namespace_of(self.kwargs)

    @property
    def sid(self) -> str | None:
        """The target of the event: ``to``, ``sid`` or ``room`` as given, else ``None``."""
        return target_of(self.kwargs)

    def __repr__(self) -> str:
        return f"OutboundContext(kind={self.kind!r}, event={self.event!r})"
