"""Middleware: the base class for your own, and the batteries (each in its own module, with its own
extra: ``opentelemetry``, ``prometheus``, ``ratelimit``).

The built-in stages (naming, logging, exceptions, validation, dependencies) are not middleware you
add: every stack has them, configured through ``wrap()`` (see ``zndraw_socketio.stages``).
"""

from .base import InboundNext, InboundNextSync, Middleware, OutboundNext, OutboundNextSync

__all__ = ["InboundNext", "InboundNextSync", "Middleware", "OutboundNext", "OutboundNextSync"]
