"""zndraw_socketio: typed events, exception handlers and structured logging for python-socketio,
as one ordered middleware chain that every inbound and outbound event passes through."""

from .asyncapi import MessageSpec, OperationSpec, build_asyncapi, mount_asyncapi
from .asyncapi.emits import Emits
from .di.plan import Depends
from .di.request import SioRequest
from .events.context import EventContext, InboundContext, OutboundContext
from .events.names import get_event_name
from .events.route import Route
from .faces.wrappers import (
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
from .middleware import InboundNext, InboundNextSync, Middleware, OutboundNext, OutboundNextSync
from .payloads.problems import ProblemDetail, ProblemDetailError
from .stages.logging import merge_sio_context
from .transport.bounds import Bounds
from .transport.patches import PatchState

__version__ = "0.2.0.dev0"

__all__ = [
    "AsyncClientWrapper",
    "AsyncManagerWrapper",
    "AsyncServerWrapper",
    "AsyncSimpleClientWrapper",
    "Bounds",
    "Depends",
    "Emits",
    "EventContext",
    "InboundContext",
    "InboundNext",
    "InboundNextSync",
    "ManagerWrapper",
    "MessageSpec",
    "Middleware",
    "OperationSpec",
    "OutboundContext",
    "OutboundNext",
    "OutboundNextSync",
    "PatchState",
    "ProblemDetail",
    "ProblemDetailError",
    "Route",
    "SimpleClientWrapper",
    "SioRequest",
    "SyncClientWrapper",
    "SyncServerWrapper",
    "__version__",
    "build_asyncapi",
    "get_event_name",
    "merge_sio_context",
    "mount_asyncapi",
    "wrap",
]
