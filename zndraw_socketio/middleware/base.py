"""The middleware base class: one hook per direction, composed into a chain once per handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..context import InboundContext, OutboundContext

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["InboundNext", "Middleware", "OutboundNext"]

InboundNext = Callable[[InboundContext], Awaitable[Any]]
OutboundNext = Callable[[OutboundContext], Awaitable[Any]]


class Middleware:
    """Base class for a stage of the event chain.

    Override ``inbound`` to see events on their way to a handler and ``outbound`` to see ``emit``
    and ``call`` on their way out; both pass the event on unchanged by default. Call
    ``await call_next(ctx)`` to continue, or return without calling it: the value you return is
    the reply (the acknowledgement sent back to the caller).

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

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """Return the step that runs this stage in front of ``call_next`` for ``route``.

        Called once per handler when the chain is composed, never per event. Returning
        ``call_next`` itself leaves the stage out of that handler's chain.
        """
        if type(self).inbound is Middleware.inbound:
            return call_next
        hook = self.inbound

        async def inbound_step(ctx: InboundContext) -> Any:
            return await hook(ctx, call_next)

        return inbound_step

    def wrap_outbound(self, call_next: OutboundNext) -> OutboundNext:
        """Return the step that runs this stage in front of ``call_next`` for outbound events."""
        if type(self).outbound is Middleware.outbound:
            return call_next
        hook = self.outbound

        async def outbound_step(ctx: OutboundContext) -> Any:
            return await hook(ctx, call_next)

        return outbound_step

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
