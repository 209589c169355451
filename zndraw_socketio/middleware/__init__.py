"""The built-in middleware stages and the base class for your own."""

from .base import InboundNext, Middleware, OutboundNext
from .exceptions import ExceptionMiddleware
from .logging import LoggingMiddleware
from .naming import NamingMiddleware
from .validation import ValidationMiddleware

__all__ = [
    "ExceptionMiddleware",
    "InboundNext",
    "LoggingMiddleware",
    "Middleware",
    "NamingMiddleware",
    "OutboundNext",
    "ValidationMiddleware",
]
