"""The built-in middleware stages and the base class for your own."""

from .base import InboundNext, Middleware, OutboundNext
from .dependencies import DependenciesMiddleware
from .exceptions import ExceptionMiddleware
from .logging import LoggingMiddleware
from .naming import NamingMiddleware
from .validation import ValidationMiddleware

__all__ = [
    "DependenciesMiddleware",
    "ExceptionMiddleware",
    "InboundNext",
    "LoggingMiddleware",
    "Middleware",
    "NamingMiddleware",
    "OutboundNext",
    "ValidationMiddleware",
]
