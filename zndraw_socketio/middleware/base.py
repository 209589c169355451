"""The middleware base class: one hook per direction, composed into a chain once per handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .._drive import drive
from ..context import InboundContext, OutboundContext

if TYPE_CHECKING:
    from ..asyncapi.spec import OperationSpec
    from ..routing import Route

__all__ = ["InboundNext", "Middleware", "OutboundNext"]

InboundNext = Callable[[InboundContext], Awaitable[Any]]
OutboundNext = Callable[[OutboundContext], Awaitable[Any]]
InboundNextSync = Callable[[InboundContext], Any]
OutboundNextSync = Callable[[OutboundContext], Any]


class Middleware:
    """Base class for a stage of the event chain.

    Override ``inbound`` to see events on their way to a handler and ``outbound`` to see ``emit``
    and ``call`` on their way out; both pass the event on unchanged by default. Call
    ``await call_next(ctx)`` to continue, or return without calling it: the value you return is
    the reply (the acknowledgement sent back to the caller).

    On the synchronous faces (``socketio.Server``, ``Client``, ``SimpleClient``) override
    ``inbound_sync``/``outbound_sync`` instead, with a synchronous ``call_next``; a middleware that
    only has async hooks is refused there when it is added.

    A stage that overrides neither hook costs nothing: ``wrap_inbound``/``wrap_outbound``, which
    compose the chain once per handler, leave it out. Built-in stages override those two directly
    to precompute what they need for each handler.
    """

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        """Handle an inbound event; the default passes it on."""
        return await call_next(ctx)

    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        """Handle an outbound emit or call; the default passes it on."""
        return await call_next(ctx)

    def inbound_sync(self, ctx: InboundContext, call_next: InboundNextSync) -> Any:
        """``inbound`` for synchronous faces; the default passes the event on."""
        return call_next(ctx)

    def outbound_sync(self, ctx: OutboundContext, call_next: OutboundNextSync) -> Any:
        """``outbound`` for synchronous faces; the default passes the event on."""
        return call_next(ctx)

    def check_async(self) -> None:
        """Raise ``TypeError`` if this middleware has sync hooks but no async ones.

        Called when the middleware is added to an asynchronous face.
        """
        cls = type(self)
        for name in ("inbound", "outbound"):
            has_async = getattr(cls, name) is not getattr(Middleware, name)
            has_sync = getattr(cls, f"{name}_sync") is not getattr(Middleware, f"{name}_sync")
            if has_sync and not has_async:
                raise TypeError(
                    f"{cls.__name__} overrides {name}_sync() but not {name}(): it is sync-only and "
                    "cannot run on an asynchronous socketio face"
                )

    def check_sync(self) -> None:
        """Raise ``TypeError`` if this middleware has async hooks but no sync ones.

        Called when the middleware is added to a synchronous face.
        """
        cls = type(self)
        for name in ("inbound", "outbound"):
            has_async = getattr(cls, name) is not getattr(Middleware, name)
            has_sync = getattr(cls, f"{name}_sync") is not getattr(Middleware, f"{name}_sync")
            if has_async and not has_sync:
                raise TypeError(
                    f"{cls.__name__} overrides {name}() but not {name}_sync(): it is async-only and "
                    "cannot run on a synchronous socketio face"
                )

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """Return the step that runs this stage in front of ``call_next`` for ``route``.

        Called once per handler when the chain is composed, never per event. Returning
        ``call_next`` itself leaves the stage out of that handler's chain.
        """
        cls = type(self)
        if route.sync:
            if cls.inbound_sync is Middleware.inbound_sync:
                return call_next
            sync_hook = self.inbound_sync

            def sync_next(ctx: InboundContext) -> Any:
                return drive(call_next(ctx))

            async def inbound_sync_step(ctx: InboundContext) -> Any:
                return sync_hook(ctx, sync_next)

            return inbound_sync_step
        if cls.inbound is Middleware.inbound:
            return call_next
        hook = self.inbound

        async def inbound_step(ctx: InboundContext) -> Any:
            return await hook(ctx, call_next)

        return inbound_step

    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        """Return the step that runs this stage in front of ``call_next`` for outbound events;
        ``sync`` is True on synchronous faces."""
        cls = type(self)
        if sync:
            if cls.outbound_sync is Middleware.outbound_sync:
                return call_next
            sync_hook = self.outbound_sync

            def sync_next(ctx: OutboundContext) -> Any:
                return drive(call_next(ctx))

            async def outbound_sync_step(ctx: OutboundContext) -> Any:
                return sync_hook(ctx, sync_next)

            return outbound_sync_step
        if cls.outbound is Middleware.outbound:
            return call_next
        hook = self.outbound

        async def outbound_step(ctx: OutboundContext) -> Any:
            return await hook(ctx, call_next)

        return outbound_step

    def contribute(self, route: Route, operation: OperationSpec) -> None:
        """Describe what this stage does for ``route`` in the AsyncAPI document.

        Called by ``tsio.asyncapi_schema()`` once per handler, for every stage in the order it
        runs for that handler (outer to inner), with the handler's ``operation`` draft
        (``zndraw_socketio.asyncapi.OperationSpec``). Write into the draft what the stage adds:
        ``x-`` keys with ``operation.add_extension(...)``, ``operation.tags``, or messages in
        ``operation.messages``/``replies``/``errors``. Read ``route``, never change it or the stage.
        The default contributes nothing.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
