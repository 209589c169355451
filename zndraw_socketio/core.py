"""The one core behind every wrapper: the middleware stack, compiled chains, emit and call."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from ._drive import drive
from .context import InboundContext, OutboundContext, payload_of
from .fused import fusable, fused_inbound
from .middleware.base import InboundNext, Middleware, OutboundNext
from .middleware.dependencies import DependenciesMiddleware
from .middleware.exceptions import ExceptionHandlers, ExceptionMiddleware
from .middleware.logging import LoggingMiddleware
from .middleware.naming import NamingMiddleware
from .middleware.validation import ValidationMiddleware, validate_response
from .outbound import Kind, Send, fused_sender, outbound_context, raw_sender
from .request import SioRequest, remember_auth
from .routing import Role, Route

__all__ = ["Core"]


class Core:
    """Owns the middleware stack and the registered routes of one socketio object.

    A route's chain is composed when the route is registered and again whenever the stack
    changes, never per event; the compiled entry point is what python-socketio stores in its
    handler table. The outbound chain is composed the same way, once per stack.
    """

    def __init__(
        self, sio: Any, role: Role, middleware: Iterable[Middleware] = (), *, is_async: bool = True
    ) -> None:
        self.sio = sio
        self.role: Role = role
        self.is_async = is_async
        self.exception_handlers = ExceptionHandlers()
        self.naming = NamingMiddleware()
        self.logging = LoggingMiddleware()
        self.exceptions = ExceptionMiddleware(self.exception_handlers)
        self.validation = ValidationMiddleware()
        self.app: Any = None
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.dependencies = DependenciesMiddleware(self.dependency_overrides, self.make_request)
        self.user: list[Middleware] = [self._checked(mw) for mw in middleware]
        self.routes: dict[tuple[str, str], Route] = {}
        self._auth_recorders: dict[str, Callable[..., Any]] = {}
        self.send: Send = self._compose_outbound()

    # -- the stack -----------------------------------------------------------------------------
    @property
    def stack(self) -> tuple[Middleware, ...]:
        """Every stage, outer to inner: naming, logging, exceptions, user middleware, validation,
        dependencies."""
        return (self.naming, self.logging, self.exceptions, *self.user, self.validation, self.dependencies)

    def add_middleware(self, middleware: Middleware) -> None:
        """Append a user middleware (innermost of the user layers) and recompose every chain."""
        self.user.append(self._checked(middleware))
        self.recompose()

    def recompose(self) -> None:
        """Compose every chain again, after the stack changed."""
        for route in self.routes.values():
            self._install(route)
        self.send = self._compose_outbound()

    # -- inbound -------------------------------------------------------------------------------
    def register(self, route: Route) -> None:
        """Compile ``route``'s chain and store it in python-socketio's handler table."""
        for mw in route.middleware:
            self._checked(mw)
        if not self.is_async and route.needs_async:
            raise TypeError(
                f"{route.name} is async or has an async dependency: a synchronous socketio face "
                "runs synchronous handlers and dependencies only"
            )
        self.routes[(route.namespace, route.event)] = route
        self._install(route)

    def _checked(self, middleware: Any) -> Middleware:
        if not isinstance(middleware, Middleware):
            what = middleware.__name__ if isinstance(middleware, type) else type(middleware).__name__
            hint = " (pass an instance, not the class)" if isinstance(middleware, type) else ""
            raise TypeError(f"Expected a zndraw_socketio.Middleware instance, got {what}{hint}")
        if self.is_async:
            middleware.check_async()
        else:
            middleware.check_sync()
        return middleware

    def _install(self, route: Route) -> None:
        sio = self.sio
        ns = route.namespace
        if route.kind == "connect":
            self.drop_auth_recorders(ns)
        sio.on(route.event, self.compile(route), namespace=ns)
        if route.injected and self.role == "server" and not self._has_connect(ns):
            # dependencies may ask for the connect auth: keep it, even with no connect handler
            recorder = self._auth_recorders[ns] = _auth_recorder(ns, self.is_async)
            sio.on("connect", recorder, namespace=ns)

    def _has_connect(self, ns: str) -> bool:
        handlers = self.sio.handlers
        return (
            "connect" in handlers.get(ns, {})
            or "connect" in handlers.get("*", {})
            or ns in self.sio.namespace_handlers
            or "*" in self.sio.namespace_handlers
        )

    def drop_auth_recorders(self, ns: str) -> None:
        """Remove the auth recorders a connect handler for ``ns`` (``"*"``: any) would sit behind."""
        handlers = self.sio.handlers
        for name in [n for n in self._auth_recorders if ns in ("*", n)]:
            recorder = self._auth_recorders.pop(name)
            if handlers.get(name, {}).get("connect") is recorder:
                del handlers[name]["connect"]

    def register_namespace(self, namespace_handler: Any) -> None:
        """Register a class-based namespace, recording the connect auth it receives."""
        ns = getattr(namespace_handler, "namespace", None) or "/"
        self.drop_auth_recorders(ns)
        trigger = namespace_handler.trigger_event
        record = _auth_recorder(ns, is_async=False)

        def recording_trigger(event: str, *args: Any) -> Any:
            if event == "connect" and len(args) >= 2 and ns != "*":
                record(*args[:3])
            return trigger(event, *args)

        namespace_handler.trigger_event = recording_trigger
        self.sio.register_namespace(namespace_handler)

    def make_request(self, ctx: InboundContext) -> SioRequest:
        """The request object for ``ctx``'s connection (attributes ``None`` on a client)."""
        environ = None
        if ctx.sid is not None and self.role == "server":
            try:
                environ = self.sio.get_environ(ctx.sid, ctx.namespace)
            except (KeyError, AttributeError):  # pragma: no cover - already gone
                environ = None
        return SioRequest(
            app=self.app, environ=environ, sid=ctx.sid, namespace=ctx.namespace, event=ctx.event
        )

    def compile(self, route: Route) -> Any:
        """The ``async def`` python-socketio calls for ``route``: its whole inbound chain."""
        layers = (
            self.naming,
            self.logging,
            self.exceptions,
            *self.user,
            *route.middleware,
            self.validation,
            self.dependencies,
        )
        chain = _terminal(route)
        for mw in reversed(layers):
            chain = mw.wrap_inbound(route, chain)
        entry = _entry(route, chain)
        entry = fused_inbound(self, route, entry) or entry
        if self.is_async:
            return entry

        def sync_entry(*args: Any) -> Any:
            return drive(entry(*args))

        return sync_entry

    # -- outbound ------------------------------------------------------------------------------
    def _compose_outbound(self) -> Send:
        if fusable(self):
            return fused_sender(self)
        raw = raw_sender(self.sio, self.is_async)

        async def raw_step(ctx: OutboundContext) -> Any:
            return await raw(ctx.kind, ctx.event, ctx.data, ctx.kwargs)

        chain: OutboundNext = raw_step
        sync = not self.is_async
        for mw in reversed(self.stack):
            chain = mw.wrap_outbound(chain, sync=sync)

        async def send(kind: Kind, event: Any, data: Any, kwargs: dict[str, Any], response_model: Any) -> Any:
            return await chain(outbound_context(kind, event, data, kwargs, response_model))

        return send

    def received(self, raw: Any, response_model: Any) -> tuple[str, Any]:
        """Read a simple client's ``receive()`` result into ``(event, data)``, validating ``data``
        against ``response_model`` when given, and log it as an inbound event."""
        event, *args = raw
        data = payload_of(tuple(args))
        namespace = getattr(self.sio, "namespace", None) or "/"
        start = perf_counter()
        try:
            if response_model is not None:
                data = validate_response(response_model, data)
        except Exception as exc:
            self.logging.record("in", event, None, namespace, start, exc)
            raise
        self.logging.record("in", event, None, namespace, start, None)
        return event, data


def _terminal(route: Route) -> InboundNext:
    handler = route.handler
    if route.is_coroutine:

        async def call_handler(ctx: InboundContext) -> Any:
            kwargs = ctx.kwargs
            if kwargs is None:
                return await handler(*ctx.lead, *ctx.values)
            return await handler(*ctx.lead, *ctx.values, **kwargs)

        return call_handler

    async def call_sync_handler(ctx: InboundContext) -> Any:
        kwargs = ctx.kwargs
        result = handler(*ctx.lead, *ctx.values, **(kwargs or {}))
        if inspect.isawaitable(result):
            result = await result
        return result

    return call_sync_handler


def _auth_recorder(namespace: str, is_async: bool) -> Callable[..., Any]:
    """A connect handler that only records the auth (for ``"*"``: socketio passes the namespace)."""

    star = namespace == "*"

    def record(*args: Any) -> None:
        if star:
            ns, _sid, environ, *rest = args
        else:
            ns = namespace
            _sid, environ, *rest = args
        remember_auth(environ, ns, rest[0] if rest else None)

    if not is_async:
        return record

    async def record_async(*args: Any) -> None:
        record(*args)

    return record_async


def _entry(route: Route, chain: InboundNext) -> Any:
    """The function python-socketio calls: reads its positional arguments into a context."""
    event, namespace = route.event, route.namespace
    lead, handler_lead = route.lead, route.handler_lead
    catch_event, catch_namespace = event == "*", namespace == "*"
    sid_at = (catch_event + catch_namespace) if route.role == "server" else None
    plain = route.kind == "event"

    if not catch_event and not catch_namespace and plain:
        if sid_at == 0 and lead == 1:

            async def server_event(*args: Any) -> Any:
                sid = args[0]
                ctx = InboundContext(route, event, namespace, sid, args[:handler_lead], args[1:])
                return await chain(ctx)

            return server_event
        if sid_at is None and lead == 0:

            async def client_event(*args: Any) -> Any:
                ctx = InboundContext(route, event, namespace, None, (), args)
                return await chain(ctx)

            return client_event

    async def entry(*args: Any) -> Any:
        ev = args[0] if catch_event else event
        ns = args[catch_event] if catch_namespace else namespace
        sid = args[sid_at] if sid_at is not None else None
        return await chain(InboundContext(route, ev, ns, sid, args[:handler_lead], args[lead:]))

    if route.kind != "connect" or route.role != "server":
        return entry

    async def connect_entry(*args: Any) -> Any:
        # remember the auth per namespace, for SioRequest.auth in later events
        ns = args[0] if catch_namespace else namespace
        remember_auth(args[lead - 1], ns, args[lead] if len(args) > lead else None)
        return await entry(*args)

    return connect_entry
