"""Routes: the frozen record of a registered handler, and what its signature says.

This module is the leaf of the package: it imports nothing of ours. ``signature.build_route``
reads a handler once, at registration, and fills the record in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["RESERVED", "Kind", "Param", "Role", "Route"]

Role = Literal["server", "client"]
Kind = Literal["event", "connect", "disconnect", "connect_error", "receive"]
"""``receive``: the events a simple client's ``receive()`` returns (there is nobody to reply to)."""

RESERVED: dict[str, Kind] = {
    "connect": "connect",
    "disconnect": "disconnect",
    "connect_error": "connect_error",
}


@dataclass(frozen=True, slots=True)
class Param:
    """One handler parameter that receives a payload argument."""

    name: str
    annotation: Any  # ``inspect.Parameter.empty`` when there is none
    default: Any  # ``inspect.Parameter.empty`` when required

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """A handler registered for one event in one namespace (either may be ``"*"``).

    ``lead`` counts the positional arguments python-socketio passes before the payload (the
    catch-all event name and namespace, the sid, the connect environ); ``sync`` marks a route of a
    synchronous face; ``handler_lead`` how many of those the handler accepts; ``params`` the
    parameters that receive payload arguments; ``injected`` pairs the injected parameters' names
    with their dependency plans (or the request/context sources); ``returns`` the return
    annotation; ``is_coroutine`` whether calling the handler always gives a coroutine (otherwise
    its result is awaited when it is awaitable); ``has_yield`` and ``needs_async`` whether a
    dependency is a generator, and whether anything must be awaited.
    """

    event: str
    namespace: str
    handler: Callable[..., Any]
    role: Role
    model: type | None = None
    emits: tuple[Any, ...] = ()
    middleware: tuple[Any, ...] = ()
    kind: Kind = "event"
    sync: bool = False
    lead: int = 0
    handler_lead: int = 0
    params: tuple[Param, ...] = ()
    var_positional: bool = False
    injected: tuple[tuple[str, Any], ...] = ()
    returns: Any = inspect.Parameter.empty
    is_coroutine: bool = False
    has_yield: bool = False
    needs_async: bool = False

    @property
    def name(self) -> str:
        """The handler's function name."""
        return getattr(self.handler, "__name__", type(self.handler).__name__)

    @property
    def lenient(self) -> bool:
        """Reserved events take what they accept: extra arguments are dropped, not rejected."""
        return self.kind != "event" and self.kind != "receive"

    def __repr__(self) -> str:
        return f"Route({self.namespace!r}, {self.event!r}, {self.name})"
