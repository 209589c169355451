"""zndraw_socketio: typed events, exception handlers and structured logging for python-socketio,
as one ordered middleware chain that every inbound and outbound event passes through."""

from .asyncapi import MessageSpec, OperationSpec, build_asyncapi, mount_asyncapi
from .context import EventContext, InboundContext, OutboundContext
from .dependencies import Depends
from .middleware import (
    DependenciesMiddleware,
    ExceptionMiddleware,
    LoggingMiddleware,
    Middleware,
    NamingMiddleware,
    ValidationMiddleware,
)
from .middleware.logging import merge_sio_context
from .names import get_event_name
from .params import Emits
from .problems import ProblemDetail, ProblemDetailError
from .request import SioRequest
from .routing import Route
from .wrappers import (
    AsyncClientWrapper,
    AsyncManagerWrapper,
    AsyncServerWrapper,
    AsyncSimpleClientWrapper,
    ManagerWrapper,
    SimpleClientWrapper,
    SyncClientWrapper,
    SyncServerWrapper,
    wrap,
)

__version__ = "0.2.0.dev0"

__all__ = [
    "AsyncClientWrapper",
    "AsyncManagerWrapper",
    "AsyncServerWrapper",
    "AsyncSimpleClientWrapper",
    "DependenciesMiddleware",
    "Depends",
    "Emits",
    "EventContext",
    "ExceptionMiddleware",
    "InboundContext",
    "LoggingMiddleware",
    "ManagerWrapper",
    "MessageSpec",
    "Middleware",
    "NamingMiddleware",
    "OperationSpec",
    "OutboundContext",
    "ProblemDetail",
    "ProblemDetailError",
    "Route",
    "SimpleClientWrapper",
    "SioRequest",
    "SyncClientWrapper",
    "SyncServerWrapper",
    "ValidationMiddleware",
    "__version__",
    "build_asyncapi",
    "get_event_name",
    "merge_sio_context",
    "mount_asyncapi",
    "wrap",
]
