"""AsyncAPI 3.0 for a wrapped socketio app: an introspection pass over the middleware stack.

``tsio.asyncapi_schema(title=..., version=...)`` (or ``build_asyncapi(tsio, ...)``) builds the
document; ``mount_asyncapi(app, tsio)`` serves it as ``/asyncapi.json`` and an HTML page
``/asyncapi``; ``python -m zndraw_socketio asyncapi module:attribute`` writes it. A middleware
describes itself in the document by overriding ``Middleware.contribute(route, operation)``, which
receives an ``OperationSpec``.
"""

from .builder import ASYNCAPI_VERSION, build_asyncapi, collect_operations
from .dump import to_json, to_yaml
from .serve import DEFAULT_BUNDLE_URL, DEFAULT_CSS_URL, asyncapi_html, mount_asyncapi
from .spec import NO_PAYLOAD, Arguments, MessageSpec, OperationSpec

__all__ = [
    "ASYNCAPI_VERSION",
    "DEFAULT_BUNDLE_URL",
    "DEFAULT_CSS_URL",
    "NO_PAYLOAD",
    "Arguments",
    "MessageSpec",
    "OperationSpec",
    "asyncapi_html",
    "build_asyncapi",
    "collect_operations",
    "mount_asyncapi",
    "to_json",
    "to_yaml",
]
