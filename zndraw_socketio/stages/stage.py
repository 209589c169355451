"""The base class of the built-in stages: part of every stack, compiled into each entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..middleware.base import InboundNext, Middleware, OutboundNext

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["Stage"]


class Stage(Middleware):
    """A built-in stage of every stack (naming, logging, exceptions, validation, dependencies).

    Each one states, per route, what it does as precomputed pieces that the chain compiler
    reads (its ``plan`` methods); it never runs as a user middleware, and adding one as such is
    refused: it is already in the stack, configured through the wrapper.
    """

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """Built-in stages are compiled into the entry, not composed as steps."""
        raise TypeError(f"{type(self).__name__} is a built-in stage; the chain compiler runs it")

    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        """Built-in stages are compiled into the sender, not composed as steps."""
        raise TypeError(f"{type(self).__name__} is a built-in stage; the chain compiler runs it")
