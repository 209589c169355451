"""Routes: a registered handler and what its signature says, worked out once at registration."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .dependencies import Dependant, injection_for, plan_dependant

if TYPE_CHECKING:
    from .middleware.base import Middleware

__all__ = ["Param", "Route", "Unresolved"]

Role = Literal["server", "client"]
Kind = Literal["event", "connect", "disconnect", "connect_error"]

_RESERVED: dict[str, Kind] = {
    "connect": "connect",
    "disconnect": "disconnect",
    "connect_error": "connect_error",
}


@dataclass(frozen=True, slots=True)
class Param:
    """One handler parameter that receives a payload argument."""

    name: str
    annotation: Any  # ``inspect.Parameter.empty`` when there is none
    default: Any  # ``inspect.Parameter.empty`` when required

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is inspect.Parameter.empty


@dataclass(slots=True, eq=False)
class Route:
    """A handler registered for one event in one namespace (either may be ``"*"``).

    ``lead`` counts the positional arguments python-socketio passes before the payload (the
    catch-all event name and namespace, the sid, the connect environ); ``sync`` marks a route of a
    synchronous face; ``handler_lead`` how many of
    those the handler accepts; ``params`` the parameters that receive payload arguments;
    ``injected`` pairs the injected parameters' names with their dependency plans (or the
    request/context sources); ``returns`` the return annotation.
    """

    event: str
    namespace: str
    handler: Callable[..., Any]
    role: Role
    model: type | None = None
    emits: tuple[Any, ...] = ()
    middleware: tuple[Middleware, ...] = ()
    kind: Kind = "event"
    sync: bool = False
    lead: int = 0
    handler_lead: int = 0
    params: tuple[Param, ...] = ()
    var_positional: bool = False
    injected: tuple[tuple[str, Any], ...] = ()
    returns: Any = inspect.Parameter.empty
    is_coroutine: bool = False

    @classmethod
    def build(
        cls,
        event: str,
        namespace: str,
        handler: Callable[..., Any],
        role: Role,
        *,
        model: type | None = None,
        emits: tuple[Any, ...] = (),
        middleware: tuple[Middleware, ...] = (),
        sync: bool = False,
    ) -> Route:
        """Inspect ``handler`` once and describe how python-socketio will call it."""
        kind = _RESERVED.get(event, "event")
        lead = (event == "*") + (namespace == "*")
        if role == "server" and kind != "connect_error":
            lead += 1  # sid
        if role == "server" and kind == "connect":
            lead += 1  # environ; auth is the payload
        signature = inspect.signature(handler)
        hints = _type_hints(handler)
        positional: list[inspect.Parameter] = []
        injected: list[tuple[str, Any]] = []
        var_positional = False
        for p in signature.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                var_positional = True
                continue
            if p.kind is p.VAR_KEYWORD:
                continue
            found = injection_for(hints.get(p.name, p.annotation), p.default)
            if found is not None:
                source, bare = found
                if not isinstance(source, str):
                    source = plan_dependant(source, bare, owner=_qualname(handler))
                injected.append((p.name, source))
            elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                if injected:
                    raise TypeError(
                        f"{_qualname(handler)}: payload parameter {p.name!r} comes after injected "
                        f"parameter {injected[-1][0]!r}; put injected parameters last"
                    )
                positional.append(p)
        handler_lead = min(lead, len(positional))
        params = tuple(
            Param(p.name, hints.get(p.name, p.annotation), p.default) for p in positional[handler_lead:]
        )
        for param in params:
            if isinstance(param.annotation, Unresolved):
                raise TypeError(
                    f"{_qualname(handler)}: the annotation {param.annotation.annotation!r} of payload "
                    f"parameter {param.name!r} does not resolve ({param.annotation.error}); import it "
                    "where the handler is defined"
                )
        if model is not None and params and params[0].annotation is inspect.Parameter.empty:
            params = (Param(params[0].name, model, params[0].default), *params[1:])
        return cls(
            event=event,
            namespace=namespace,
            handler=handler,
            role=role,
            model=model,
            emits=emits,
            middleware=middleware,
            kind=kind,
            sync=sync,
            lead=lead,
            handler_lead=handler_lead,
            params=params,
            var_positional=var_positional,
            injected=tuple(injected),
            returns=_resolved(hints.get("return", signature.return_annotation)),
            is_coroutine=inspect.iscoroutinefunction(handler),
        )

    @property
    def name(self) -> str:
        """The handler's function name."""
        return getattr(self.handler, "__name__", type(self.handler).__name__)

    @property
    def has_yield(self) -> bool:
        """True when a dependency of the handler is a generator that needs closing."""
        return any(isinstance(src, Dependant) and src.has_yield for _, src in self.injected)

    @property
    def needs_async(self) -> bool:
        """True when the handler or one of its dependencies must be awaited."""
        return self.is_coroutine or any(
            isinstance(src, Dependant) and src.needs_async for _, src in self.injected
        )

    @property
    def lenient(self) -> bool:
        """Reserved events take what they accept: extra arguments are dropped, not rejected."""
        return self.kind != "event"

    def __repr__(self) -> str:
        return f"Route({self.namespace!r}, {self.event!r}, {self.name})"


def _qualname(handler: Any) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__name__


def _type_hints(handler: Callable[..., Any]) -> dict[str, Any]:
    target = handler if inspect.isfunction(handler) or inspect.ismethod(handler) else None
    if target is None:
        call = getattr(handler, "__call__", None)  # noqa: B004 - a callable object's own method
        target = call if call is not None else handler
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        pass
    # some annotation does not resolve: resolve them one by one, marking the ones that fail
    hints: dict[str, Any] = {}
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    for name, annotation in getattr(target, "__annotations__", {}).items():
        try:
            hints[name] = typing.get_type_hints(
                _Holder(name, annotation), globalns=namespace, include_extras=True
            )[name]
        except Exception as exc:
            hints[name] = Unresolved(annotation, exc)
    return hints


def _resolved(annotation: Any) -> Any:
    return inspect.Parameter.empty if isinstance(annotation, Unresolved) else annotation


class _Holder:
    """Something ``get_type_hints`` accepts, holding one annotation."""

    def __init__(self, name: str, annotation: Any) -> None:
        self.__annotations__ = {name: annotation}


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An annotation that did not resolve (e.g. a name missing under postponed annotations)."""

    annotation: Any
    error: Exception
