"""Dependency solving: a route's dependency plan compiled into resolvers once, executed per event."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from .plan import (
    CONTEXT,
    Dependant,
    Dependency,
    Kind,
    calls_in,
    name_of,
    plan_dependant,
    uses_context,
)
from .request import SioRequest

if TYPE_CHECKING:
    from ..events.context import InboundContext

__all__ = ["Injection", "OverridePlans", "Overrides", "Resolver", "Solver"]

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
        calls = calls_in(injected)
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
            raise RuntimeError(f"dependency {name_of(gen)} yielded more than once")
        try:
            gen.throw(exc)
        except StopIteration:
            return False  # it handled the exception; the handler's failure still stands
        except BaseException as raised:
            if raised is exc:
                return False
            raise
        raise RuntimeError(f"dependency {name_of(gen)} yielded more than once")


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
            raise RuntimeError(f"dependency {name_of(gen)} yielded more than once")
        try:
            await gen.athrow(exc)
        except StopAsyncIteration:
            return False
        except BaseException as raised:
            if raised is exc:
                return False
            raise
        raise RuntimeError(f"dependency {name_of(gen)} yielded more than once")
