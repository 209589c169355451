"""The one core behind every wrapper: the stack, the registered routes, their compiled chains."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..di.request import SioRequest
from ..events.auth import remember_auth
from ..events.context import InboundContext, payload_of
from ..events.route import Role, Route
from ..middleware.base import Middleware
from ..payloads.adapters import memoised
from ..stages.exceptions import ExceptionHandler, ExceptionHandlers
from ..stages.stack import Stages, checked_user_middleware
from ..transport.patches import PatchState
from .capture import watch
from .inbound import compile_inbound
from .outbound import Send, compile_outbound, to_and_room_positional

__all__ = ["Core"]

_RECEIVERS_LIMIT = 64  # compiled receive() chains kept, one per response model


class Core:
    """Owns the middleware stack and the registered routes of one socketio object.

    A route's chain is compiled when the route is registered and again whenever the stack
    changes, never per event; the compiled entry is what python-socketio stores in its handler
    table. The outbound sender is compiled the same way, once per stack.
    """

    def __init__(
        self,
        sio: Any,
        role: Role,
        middleware: Iterable[Middleware] = (),
        *,
        is_async: bool = True,
        patches: Mapping[str, PatchState] | None = None,
    ) -> None:
        self.sio = sio
        self.patches: dict[str, PatchState] = dict(patches or {})
        self.role: Role = role
        self.is_async = is_async
        self.app: Any = None
        self.exception_handlers = ExceptionHandlers()
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.stages = Stages.new(self.exception_handlers, self.dependency_overrides, self.make_request)
        self.user: list[Middleware] = [checked_user_middleware(mw, is_async=is_async) for mw in middleware]
        self.routes: dict[tuple[str, str], Route] = {}
        self._auth_recorders: dict[str, Callable[..., Any]] = {}
        self._receivers: dict[Any, Callable[..., Any]] = {}
        self._direct = is_async and role == "server"
        self._positional = self._direct and self.active("manager_emit") and to_and_room_positional(sio.emit)
        self.send: Send = self._compile_outbound()
        watch(self)  # composed again when a test's capture_events() opens or closes

    def active(self, patch: str) -> bool:
        """True when the named patch (see ``transport.registry``) is installed on this object."""
        state = self.patches.get(patch)
        return state is not None and state.active

    # -- the stack -----------------------------------------------------------------------------
    @property
    def stack(self) -> tuple[Middleware, ...]:
        """Every stage, outer to inner: naming, logging, exceptions, user middleware, validation,
        dependencies."""
        return self.stages.order(tuple(self.user))

    def layers_for(self, route: Route) -> tuple[Middleware, ...]:
        """The stages of ``route``'s chain, outer to inner (its own middleware included)."""
        return self.stages.order(tuple(self.user), route)

    def add_middleware(self, middleware: Middleware) -> None:
        """Append a user middleware (innermost of the user layers) and recompose every chain."""
        self.user.append(checked_user_middleware(middleware, is_async=self.is_async))
        self.recompose()

    def add_exception_handler(
        self, exc_type: type[BaseException], handler: ExceptionHandler, namespace: str | None
    ) -> None:
        """Register a user exception handler; the chains it may apply to are composed again."""
        self.exception_handlers.add(exc_type, handler, namespace)
        self.recompose()

    def recompose(self) -> None:
        """Compose every chain again, after the stack changed."""
        for route in self.routes.values():
            self._install(route)
        self._receivers.clear()
        self.send = self._compile_outbound()

    def _compile_outbound(self) -> Send:
        return compile_outbound(
            self.sio,
            self.stages,
            tuple(self.user),
            is_async=self.is_async,
            direct=self._direct,
            positional=self._positional,
            future_call=self.active("future_call"),
        )

    # -- inbound -------------------------------------------------------------------------------
    def register(self, route: Route) -> None:
        """Compile ``route``'s chain and store it in python-socketio's handler table."""
        for mw in route.middleware:
            checked_user_middleware(mw, is_async=self.is_async)
        if not self.is_async and route.needs_async:
            raise TypeError(
                f"{route.name} is async or has an async dependency: a synchronous socketio face "
                "runs synchronous handlers and dependencies only"
            )
        self.routes[(route.namespace, route.event)] = route
        self._install(route)

    def compile(self, route: Route) -> Callable[..., Any]:
        """The callable python-socketio calls for ``route``: its whole inbound chain."""
        return compile_inbound(
            route, self.stages, tuple(self.user), self.make_request, is_async=self.is_async, sender=self.sio
        )

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
        handlers = getattr(self.sio, "handlers", {})
        return (
            "connect" in handlers.get(ns, {})
            or "connect" in handlers.get("*", {})
            or ns in getattr(self.sio, "namespace_handlers", {})
            or "*" in getattr(self.sio, "namespace_handlers", {})
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

    # -- simple clients ------------------------------------------------------------------------
    def receiver(self, response_model: Any) -> Callable[..., Any]:
        """The inbound chain of a simple client's ``receive()``: ``receiver(event, *args)`` runs
        the stack (user middleware included) and returns the payload, validated against
        ``response_model`` when given; a failure raises to the caller, logged."""
        return memoised(
            self._receivers,
            response_model,
            lambda: self.compile(self._receive_route(response_model)),
            _RECEIVERS_LIMIT,
        )

    def _receive_route(self, response_model: Any) -> Route:
        namespace = getattr(self.sio, "namespace", None) or "/"
        return Route(
            event="*",
            namespace=namespace,
            handler=_received,
            role="client",
            model=response_model,
            kind="receive",
            sync=not self.is_async,
            lead=1,
            var_positional=True,
        )


def _received(*values: Any) -> Any:
    """The terminal of a ``receive()`` chain: the payload, one value as is, several as a tuple."""
    return payload_of(values)


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
