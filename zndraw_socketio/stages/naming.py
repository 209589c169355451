"""Naming: event names from models, on registration and on every outbound event."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from ..events.names import get_event_name, known_event_name
from .stage import Stage

__all__ = ["NamingStage", "parse_outbound"]


def parse_outbound(kind: Literal["emit", "call"], event: Any, data: Any) -> tuple[str, Any]:
    """Read ``emit(name, data)`` / ``emit(model)`` into ``(event name, payload)``.

    A model instance names the event by its class and is the payload; passing ``data`` beside it,
    a model class, or anything that is neither a name nor a model raises ``TypeError``.
    """
    if type(event) is str:
        return event, data
    if isinstance(event, BaseModel):
        if data is not None:
            raise TypeError(
                f"Cannot provide both a model instance ({type(event).__name__}) and data to "
                f"{kind}(): the model is the payload and names the event"
            )
        return known_event_name(type(event)) or get_event_name(event), event
    if isinstance(event, str):
        return str(event), data
    if isinstance(event, type) and issubclass(event, BaseModel):
        raise TypeError(f"{kind}() needs a model instance, got the class {event.__name__}")
    raise TypeError(f"{kind}() expects an event name or a model instance, got {type(event).__name__}")


class NamingStage(Stage):
    """Resolves event names: a model class or instance stands for ``get_event_name(model)``.

    Inbound, names are fixed when a handler is registered, so the stage does no work per event.
    Outbound, ``emit(Ping(...))`` gets its event name from ``outbound_name``.
    """

    def event_for(self, target: Any) -> str:
        """The event name for a registration target: a string as is, a model by its name."""
        return target if isinstance(target, str) else get_event_name(target)

    outbound_name = staticmethod(parse_outbound)
    """``outbound_name(kind, event, data)``: ``(event name, payload)`` of one ``emit``/``call``."""

    def contribute(self, route: Any, operation: Any) -> None:
        """AsyncAPI: the channel (namespace and event; its address includes the namespace) and the
        operation id, the handler's function name in camelCase."""
        from ..asyncapi.spec import camel_case, channel_address

        operation.namespace = route.namespace
        operation.event = route.event
        operation.address = channel_address(route.namespace, route.event)
        operation.operation_id = camel_case(route.name)
