"""Naming: event names from models, on registration and on every outbound event."""

from __future__ import annotations

from typing import Any

from ..context import OutboundContext
from ..names import get_event_name
from .base import Middleware, OutboundNext

__all__ = ["NamingMiddleware"]


class NamingMiddleware(Middleware):
    """Resolves event names: a model class or instance stands for ``get_event_name(model)``.

    Inbound, names are fixed when a handler is registered, so the stage does no work per event.
    Outbound, ``emit(Ping(...))`` gets its event name here.
    """

    def event_for(self, target: Any) -> str:
        """The event name for a registration target: a string as is, a model by its name."""
        return target if isinstance(target, str) else get_event_name(target)

    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        async def naming_step(ctx: OutboundContext) -> Any:
            if ctx.event is None:
                ctx.event = get_event_name(ctx.data)
            return await call_next(ctx)

        return naming_step

    def contribute(self, route: Any, operation: Any) -> None:
        """AsyncAPI: the channel (namespace and event; its address includes the namespace) and the
        operation id, the handler's function name in camelCase."""
        from ..asyncapi.spec import camel_case, channel_address

        operation.namespace = route.namespace
        operation.event = route.event
        operation.address = channel_address(route.namespace, route.event)
        operation.operation_id = camel_case(route.name)
