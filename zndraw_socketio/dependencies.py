"""Dependency injection: FastAPI-style ``Depends``, planned once per handler, solved per event."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from starlette.requests import HTTPConnection

from .context import EventContext
from .request import SioRequest

if TYPE_CHECKING:
    from .context import InboundContext

__all__ = [
    "Dependant",
    "Dependency",
    "Depends",
    "Resolver",
    "Solver",
    "compile_solver",
    "injection_for",
    "plan_dependant",
    "uses_context",
]

Kind = Literal["sync", "async", "gen", "asyncgen"]


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


def _kind(call: Callable[..., Any]) -> Kind:
    target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    if inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(target):
        return "gen"
    if inspect.iscoroutinefunction(target):
        return "async"
    return "sync"


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
    return Dependant(call, _kind(call), bool(marker.use_cache), tuple(args))


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


Resolver = Callable[[Any], Awaitable[Any]]
"""``await resolve(solver)``: one injected parameter's value (``solver`` may be ``None``)."""


def compile_solver(injected: Any) -> tuple[tuple[tuple[str, Resolver], ...], bool]:
    """Compile a plan without generator dependencies into one function per dependency, once.

    Returns ``(resolvers, needs_solver)``: one ``(parameter name, resolve)`` per injected
    parameter, ``await resolve(solver)`` giving its value; ``needs_solver`` says whether they need a
    ``Solver`` (for the request, the event context or a dependency shared by two branches) or take
    ``None``. Overrides are not looked at: the caller uses ``Solver`` while any are set. An async
    dependency without parameters resolves to its own coroutine, so awaiting it costs no frame
    of ours.
    """
    calls = _calls(injected)
    shared = {call for call in calls if calls.count(call) > 1}
    needs_solver = bool(shared) or uses_context(injected)
    return tuple((name, _compile(src, shared)) for name, src in injected), needs_solver


def _compile(source: Any, shared: set[Callable[..., Any]]) -> Resolver:
    if not isinstance(source, Dependant):  # the request or the event context
        return lambda solver: solver.value(source)
    subs = tuple((name, _compile(src, shared)) for name, src in source.args)
    call = source.call
    cached = source.use_cache and call in shared
    is_async = source.kind == "async"
    if is_async and not subs and not cached:
        return lambda solver: call()  # awaiting it awaits the dependency itself

    async def resolve(solver: Any) -> Any:
        if cached and call in solver.cache:
            return solver.cache[call]
        value = call(**{name: await sub(solver) for name, sub in subs})
        if is_async:
            value = await value
        if cached:
            solver.cache[call] = value
        return value

    return resolve


class Solver:
    """Solves dependencies for one event: a per-event cache, exit stack and request object."""

    __slots__ = ("cache", "ctx", "make_request", "overrides", "request", "stack")

    def __init__(
        self,
        ctx: InboundContext | None,
        overrides: dict[Callable[..., Any], Callable[..., Any]],
        make_request: Callable[[InboundContext], SioRequest],
        stack: AsyncExitStack | None,
    ) -> None:
        self.ctx = ctx
        self.overrides = overrides
        self.make_request = make_request
        self.stack = stack
        self.cache: dict[Callable[..., Any], Any] = {}
        self.request: SioRequest | None = None

    async def value(self, source: Any) -> Any:
        """The value of one source: a dependency's result, the request or the event context."""
        if source is REQUEST or source is CONTEXT:
            ctx = self.ctx
            if ctx is None:  # pragma: no cover - plans that need it always get one
                raise RuntimeError("dependency needs the event context but none was given")
            if source is CONTEXT:
                return ctx
            request = self.request
            if request is None:
                request = self.request = self.make_request(ctx)
            return request
        dep: Dependant = source
        call = dep.call
        if self.overrides:
            replacement = self.overrides.get(call)
            if replacement is not None:
                dep = _override_plan(replacement, dep.use_cache)
        cache = self.cache
        if dep.use_cache and call in cache:
            return cache[call]
        kwargs = {name: await self.value(src) for name, src in dep.args} if dep.args else {}
        kind = dep.kind
        if kind == "async":
            result = await dep.call(**kwargs)
        elif kind == "sync":
            result = dep.call(**kwargs)
        else:
            result = await self._enter(dep, kwargs)
        if dep.use_cache:
            cache[call] = result
        return result

    async def _enter(self, dep: Dependant, kwargs: dict[str, Any]) -> Any:
        stack = self.stack
        if stack is None:  # pragma: no cover - plans with yield always get a stack
            raise RuntimeError("generator dependency solved without an exit stack")
        gen = dep.call(**kwargs)
        if dep.kind == "asyncgen":
            value = await gen.__anext__()
            stack.push_async_exit(_AsyncGenExit(gen))
        else:
            value = next(gen)
            stack.push(_GenExit(gen))
        return value


_OVERRIDE_PLANS: dict[tuple[Callable[..., Any], bool], Dependant] = {}


def _override_plan(replacement: Callable[..., Any], use_cache: bool) -> Dependant:
    key = (replacement, use_cache)
    plan = _OVERRIDE_PLANS.get(key)
    if plan is None:
        plan = _OVERRIDE_PLANS[key] = plan_dependant(Dependency(replacement, use_cache=use_cache), None)
    return plan


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
