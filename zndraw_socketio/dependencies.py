"""Dependency injection: FastAPI-style ``Depends``, planned once per handler, solved per event."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from starlette.requests import HTTPConnection

from .callables import CallKind, call_kind
from .context import EventContext
from .request import SioRequest

if TYPE_CHECKING:
    from .context import InboundContext

__all__ = [
    "Dependant",
    "Dependency",
    "Depends",
    "Injection",
    "OverridePlans",
    "Resolver",
    "Solver",
    "injection_for",
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
        cycle = " -> ".join(_name(c) for c in (*path[path.index(call) :], call))
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
                f"cannot inject parameter {p.name!r} of dependency {_name(call)}: annotate it with "
                "Depends(...), a Request type or EventContext, or give it a default"
            )
        source, sub_bare = found
        if isinstance(source, str):
            args.append((p.name, source))
        else:
            args.append((p.name, plan_dependant(source, sub_bare, path, _name(call))))
    return Dependant(call, call_kind(call), bool(marker.use_cache), tuple(args))


def _name(call: Any) -> str:
    return getattr(call, "__qualname__", None) or getattr(call, "__name__", None) or repr(call)


def uses_context(injected: Any) -> bool:
    """True when a plan (``(name, source)`` pairs) needs the event context or the request."""
    for _, src in injected:
        if isinstance(src, str) or (isinstance(src, Dependant) and uses_context(src.args)):
            return True
    return False


def _calls(injected: Any) -> list[Callable[..., Any]]:
    out: list[Callable[..., Any]] = []
    for _, src in injected:
        if isinstance(src, Dependant):
            out.append(src.call)
            out.extend(_calls(src.args))
    return out


Overrides = dict[Callable[..., Any], Callable[..., Any]]
Resolver = Callable[["Solver | None"], Awaitable[Any]]
"""``await resolve(solver)``: one injected parameter's value (``solver`` is ``None`` when the
plan needs no per-event state and no override is set)."""


class OverridePlans:
    """The compiled resolvers of ``dependency_overrides`` replacements, for one wrapper.

    Planned on first use; bounded: once it holds ``limit`` entries it starts afresh, so a test
    suite that swaps overrides all day keeps a few plans, not one per replacement ever used.
    """

    __slots__ = ("_plans", "limit", "overrides")

    def __init__(self, overrides: Overrides, limit: int = 64) -> None:
        self.overrides = overrides
        self.limit = limit
        self._plans: dict[tuple[Callable[..., Any], bool], Resolver] = {}

    def resolver(self, replacement: Callable[..., Any], use_cache: bool) -> Resolver:
        """The resolver of ``replacement``, planned and compiled once while it is in use."""
        key = (replacement, use_cache)
        found = self._plans.get(key)
        if found is None:
            if len(self._plans) >= self.limit:
                self._plans.clear()
            plan = plan_dependant(Dependency(replacement, use_cache=use_cache), None)
            found = self._plans[key] = _compile(plan, set(), self)
        return found

    def __len__(self) -> int:
        return len(self._plans)


class Injection:
    """How one route's injected parameters are solved: compiled once, at registration.

    ``resolvers`` pairs each parameter name with its resolver; ``needs_context`` says whether the
    plan reads the event context or the request; ``shared`` whether a dependency is shared by two
    branches (its value is cached per event); ``has_yield`` whether a generator dependency needs an
    exit stack. An event needs a ``Solver`` for any of these, or while an override is set: the
    overrides are looked up per event, in ``plans.overrides``.
    """

    __slots__ = ("has_yield", "lone", "needs_context", "plans", "resolvers", "shared")

    def __init__(self, injected: Any, plans: OverridePlans) -> None:
        calls = _calls(injected)
        shared = {call for call in calls if calls.count(call) > 1}
        self.plans = plans
        self.shared = bool(shared)
        self.needs_context = uses_context(injected)
        self.has_yield = any(isinstance(src, Dependant) and src.has_yield for _, src in injected)
        self.resolvers: tuple[tuple[str, Resolver], ...] = tuple(
            (name, _compile(src, shared, plans)) for name, src in injected
        )
        alone = len(self.resolvers) == 1 and not (self.needs_context or self.shared or self.has_yield)
        self.lone: tuple[str, Resolver] | None = self.resolvers[0] if alone else None
        """``(name, resolver)`` of a plan with one parameter that needs no ``Solver`` while no
        override is set (the compiler's cheaper shape), else ``None``."""

    async def solve(self, solver: Solver | None) -> dict[str, Any]:
        """The keyword arguments of one event."""
        return {name: await resolve(solver) for name, resolve in self.resolvers}


def _compile(source: Any, shared: set[Callable[..., Any]], plans: OverridePlans) -> Resolver:
    """One resolver per node of the plan; every dependency call of the package goes through here."""
    if not isinstance(source, Dependant):  # the request or the event context
        return lambda solver: _source(solver, source)
    subs = tuple((name, _compile(src, shared, plans)) for name, src in source.args)
    call = source.call
    kind = source.kind
    use_cache = source.use_cache
    cached = use_cache and call in shared
    overrides = plans.overrides

    def overridden(solver: Any) -> Awaitable[Any]:
        return _replaced(solver, call, plans.resolver(overrides[call], use_cache), use_cache)

    if kind == "async" and not subs and not cached:

        def call_async(solver: Any) -> Awaitable[Any]:
            if overrides and call in overrides:
                return overridden(solver)
            return call()  # awaiting it awaits the dependency itself: no frame of ours

        return call_async

    async def resolve(solver: Any) -> Any:
        if overrides and call in overrides:
            return await overridden(solver)
        if cached and call in solver.cache:
            return solver.cache[call]
        kwargs = {name: await sub(solver) for name, sub in subs} if subs else {}
        if kind == "sync":
            value = call(**kwargs)
            if inspect.isawaitable(value):  # e.g. an async def behind a plain decorator
                value = await value
        elif kind == "async":
            value = await call(**kwargs)
        else:
            value = await solver.enter(kind, call(**kwargs))
        if cached:
            solver.cache[call] = value
        return value

    return resolve


async def _source(solver: Solver | None, source: str) -> Any:
    if solver is None:  # pragma: no cover - plans that need it always get one
        raise RuntimeError("dependency needs the event context but none was given")
    return solver.value(source)


async def _replaced(solver: Solver, call: Callable[..., Any], resolve: Resolver, use_cache: bool) -> Any:
    """An overridden dependency's value: its replacement's, cached under the original."""
    cache = solver.cache
    if use_cache and call in cache:
        return cache[call]
    value = await resolve(solver)
    if use_cache:
        cache[call] = value
    return value


class Solver:
    """The per-event state of dependency solving: the context, the request, the cache of values
    shared within the event, and the exit stack that closes generator dependencies."""

    __slots__ = ("cache", "ctx", "make_request", "request", "stack")

    def __init__(
        self,
        ctx: InboundContext | None,
        make_request: Callable[[InboundContext], SioRequest],
        stack: AsyncExitStack | None,
    ) -> None:
        self.ctx = ctx
        self.make_request = make_request
        self.stack = stack
        self.cache: dict[Callable[..., Any], Any] = {}
        self.request: SioRequest | None = None

    def value(self, source: str) -> Any:
        """The event context or the request (made on first use)."""
        ctx = self.ctx
        if ctx is None:  # pragma: no cover - plans that need it always get one
            raise RuntimeError("dependency needs the event context but none was given")
        if source == CONTEXT:
            return ctx
        request = self.request
        if request is None:
            request = self.request = self.make_request(ctx)
        return request

    async def enter(self, kind: Kind, gen: Any) -> Any:
        """The value a generator dependency yields; it is finished when the event is done."""
        stack = self.stack
        if stack is None:  # pragma: no cover - plans with yield always get a stack
            raise RuntimeError("generator dependency solved without an exit stack")
        if kind == "asyncgen":
            value = await gen.__anext__()
            stack.push_async_exit(_AsyncGenExit(gen))
        else:
            value = next(gen)
            stack.push(_GenExit(gen))
        return value


class _GenExit:
    """Finishes a generator dependency: resumes it, or throws the handler's exception into it."""

    __slots__ = ("gen",)

    def __init__(self, gen: Any) -> None:
        self.gen = gen

    def __call__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        gen = self.gen
        if exc is None:
            try:
                next(gen)
            except StopIteration:
                return False
            raise RuntimeError(f"dependency {_name(gen)} yielded more than once")
        try:
            gen.throw(exc)
        except StopIteration:
            return False  # it handled the exception; the handler's failure still stands
        except BaseException as raised:
            if raised is exc:
                return False
            raise
        raise RuntimeError(f"dependency {_name(gen)} yielded more than once")


class _AsyncGenExit:
    """The async twin of ``_GenExit``."""

    __slots__ = ("gen",)

    def __init__(self, gen: Any) -> None:
        self.gen = gen

    async def __call__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        gen = self.gen
        if exc is None:
            try:
                await gen.__anext__()
            except StopAsyncIteration:
                return False
            raise RuntimeError(f"dependency {_name(gen)} yielded more than once")
        try:
            await gen.athrow(exc)
        except StopAsyncIteration:
            return False
        except BaseException as raised:
            if raised is exc:
                return False
            raise
        raise RuntimeError(f"dependency {_name(gen)} yielded more than once")
