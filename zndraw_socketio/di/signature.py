"""Signature analysis: what a handler's parameters and annotations say, read once at registration."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..events.route import RESERVED, Param, Role, Route
from .callables import call_kind
from .plan import Dependant, injection_for, plan_dependant

__all__ = ["Unresolved", "build_route"]


def build_route(
    event: str,
    namespace: str,
    handler: Callable[..., Any],
    role: Role,
    *,
    model: type | None = None,
    emits: tuple[Any, ...] = (),
    middleware: tuple[Any, ...] = (),
    sync: bool = False,
) -> Route:
    """Inspect ``handler`` once and describe how python-socketio will call it."""
    if not callable(handler):
        raise TypeError(f"a handler must be callable, got {type(handler).__name__}")
    kind = RESERVED.get(event, "event")
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
    plans = [src for _, src in injected if isinstance(src, Dependant)]
    is_coroutine = call_kind(handler) == "async"
    return Route(
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
        is_coroutine=is_coroutine,
        has_yield=any(plan.has_yield for plan in plans),
        needs_async=is_coroutine or any(plan.needs_async for plan in plans),
    )


def _qualname(handler: Any) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__name__


def _type_hints(handler: Callable[..., Any]) -> dict[str, Any]:
    target: Any = handler
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        call = getattr(type(target), "__call__", None)  # noqa: B004 - a callable object's own method
        target = call if call is not None else target
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
