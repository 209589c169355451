"""Dependency injection: FastAPI-style ``Depends`` markers and the plan built once per handler
(``solver.py`` compiles and solves it)."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from starlette.requests import HTTPConnection

from ..events.context import EventContext
from .callables import CallKind, call_kind
from .request import SioRequest

if TYPE_CHECKING:
    pass

__all__ = [
    "CONTEXT",
    "REQUEST",
    "Dependant",
    "Dependency",
    "Depends",
    "calls_in",
    "injection_for",
    "name_of",
    "plan_dependant",
    "uses_context",
]

Kind = CallKind


class Dependency:
    """The marker ``Depends(...)`` puts in an annotation or default: what to call, and whether
    its result is shared within one event."""

    __slots__ = ("dependency", "use_cache")

    def __init__(self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True) -> None:
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", repr(self.dependency))
        return f"Depends({name}{'' if self.use_cache else ', use_cache=False'})"


def Depends(dependency: Callable[..., Any] | None = None, *, use_cache: bool = True) -> Any:
    """Declares a parameter whose value is the return value of ``dependency``.

    ``Annotated[Redis, Depends(get_redis)]`` or ``redis: Redis = Depends(get_redis)``, as in
    FastAPI (whose own ``fastapi.Depends`` marker is accepted too). Dependencies may be sync or
    async functions or generators (``yield``: the code after it runs once the handler is done),
    and may depend on others; within one event each dependency runs once unless
    ``use_cache=False``. ``Depends()`` with no argument calls the annotated type. Typed ``Any``
    (like FastAPI's) so that it fits any parameter's default.
    """
    return Dependency(dependency, use_cache=use_cache)


# What a parameter of a handler or a dependency receives, besides a dependency's value.
REQUEST = "request"
CONTEXT = "context"


@dataclass(slots=True, eq=False)
class Dependant:
    """One dependency callable and where each of its parameters comes from."""

    call: Callable[..., Any]
    kind: Kind
    use_cache: bool
    args: tuple[tuple[str, Any], ...]  # (parameter name, Dependant | REQUEST | CONTEXT)

    @property
    def has_yield(self) -> bool:
        """True when this dependency or one below it is a generator."""
        return self.kind in ("gen", "asyncgen") or any(
            isinstance(src, Dependant) and src.has_yield for _, src in self.args
        )

    @property
    def needs_async(self) -> bool:
        """True when this dependency or one below it must be awaited."""
        return self.kind in ("async", "asyncgen") or any(
            isinstance(src, Dependant) and src.needs_async for _, src in self.args
        )


def _marker(value: Any) -> Any:
    """Our ``Depends`` or FastAPI's (duck-typed, so FastAPI need not be installed)."""
    if isinstance(value, Dependency):
        return value
    cls = type(value)
    if cls.__name__ == "Depends" and cls.__module__.startswith("fastapi") and hasattr(value, "dependency"):
        return value
    return None


def injection_for(annotation: Any, default: Any) -> tuple[Any, Any] | None:
    """How a parameter is injected: ``(marker_or_source, bare_type)``, or ``None`` for payload."""
    bare = annotation
    if get_origin(annotation) is Annotated:
        bare, *extras = get_args(annotation)
        for extra in reversed(extras):
            if _marker(extra) is not None:
                return extra, bare
    if _marker(default) is not None:
        return default, bare
    if isinstance(bare, type):
        if issubclass(bare, SioRequest | HTTPConnection):
            return REQUEST, bare
        if issubclass(bare, EventContext):
            return CONTEXT, bare
    return None


def _hints(call: Callable[..., Any]) -> dict[str, Any]:
    if isinstance(call, type):  # a class: its __init__ holds the parameters
        target: Any = call.__init__
    else:
        target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        return dict(getattr(target, "__annotations__", {}))


def plan_dependant(
    marker: Any, bare: Any, path: tuple[Callable[..., Any], ...] = (), owner: str = "handler"
) -> Dependant:
    """Build the tree below one ``Depends`` marker, once; a cycle raises ``TypeError`` naming it."""
    call = marker.dependency if marker.dependency is not None else bare
    if call is None or call is inspect.Parameter.empty or not callable(call):
        raise TypeError(f"Depends() in {owner} has nothing to call: give it a dependency")
    if call in path:
        cycle = " -> ".join(name_of(c) for c in (*path[path.index(call) :], call))
        raise TypeError(f"dependency cycle: {cycle}")
    path = (*path, call)
    args: list[tuple[str, Any]] = []
    hints = _hints(call)
    try:
        params = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature take nothing from us
        params = ()
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        found = injection_for(hints.get(p.name, p.annotation), p.default)
        if found is None:
            if p.default is not inspect.Parameter.empty:
                continue  # its default stands
            raise TypeError(
                f"cannot inject parameter {p.name!r} of dependency {name_of(call)}: annotate it with "
                "Depends(...), a Request type or EventContext, or give it a default"
            )
        source, sub_bare = found
        if isinstance(source, str):
            args.append((p.name, source))
        else:
            args.append((p.name, plan_dependant(source, sub_bare, path, name_of(call))))
    return Dependant(call, call_kind(call), bool(marker.use_cache), tuple(args))


def name_of(call: Any) -> str:
    """A dependency's (or generator's) name, for messages."""
    return getattr(call, "__qualname__", None) or getattr(call, "__name__", None) or repr(call)


def uses_context(injected: Any) -> bool:
    """True when a plan (``(name, source)`` pairs) needs the event context or the request."""
    for _, src in injected:
        if isinstance(src, str) or (isinstance(src, Dependant) and uses_context(src.args)):
            return True
    return False


def calls_in(injected: Any) -> list[Callable[..., Any]]:
    """Every dependency callable of a plan, depth first (repeated where two branches share one)."""
    out: list[Callable[..., Any]] = []
    for _, src in injected:
        if isinstance(src, Dependant):
            out.append(src.call)
            out.extend(calls_in(src.args))
    return out
