"""``SioRequest``: what a dependency learns about the connection behind an event."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from starlette.datastructures import URL, Address, Headers, QueryParams, State
from starlette.requests import cookie_parser

__all__ = ["AUTH_KEY", "SioRequest", "forget_auth_on_leave", "remember_auth"]

AUTH_KEY = "zndraw_socketio.auth"
"""Where the connect ``auth`` of each namespace is kept in the connection's environ."""


def remember_auth(environ: Any, namespace: str, auth: Any) -> None:
    """Keep the ``auth`` a client sent when it connected to ``namespace``, for ``SioRequest.auth``."""
    if isinstance(environ, dict):
        environ.setdefault(AUTH_KEY, {})[namespace] = auth


_FORGETS = "_zndraw_socketio_forgets_auth"


def forget_auth_on_leave(server: Any) -> None:
    """Make ``server`` drop the auth kept for a namespace when a client leaves it.

    Every way out of a namespace goes through the client manager's ``basic_disconnect``: a
    refused connect, the client or the server disconnecting, the connection closing. The kept
    auth goes with it, so a refused connect keeps nothing and a connection keeps the auth of the
    namespaces it is connected to only. Installed once per manager, on the manager object.
    """
    manager = getattr(server, "manager", None)
    environs = getattr(server, "environ", None)
    if manager is None or not isinstance(environs, dict) or getattr(manager, _FORGETS, False):
        return
    disconnect = manager.basic_disconnect

    def basic_disconnect(sid: Any, namespace: Any, **kwargs: Any) -> Any:
        eio_sid = manager.eio_sid_from_sid(sid, namespace or "/")
        try:
            return disconnect(sid, namespace, **kwargs)
        finally:
            environ = environs.get(eio_sid) if eio_sid is not None else None
            kept = environ.get(AUTH_KEY) if isinstance(environ, dict) else None
            if kept:
                kept.pop(namespace or "/", None)

    manager.basic_disconnect = basic_disconnect
    setattr(manager, _FORGETS, True)


class SioRequest:
    """The request a handler or dependency gets for a parameter typed ``SioRequest``,
    ``fastapi.Request`` or ``starlette.requests.Request``.

    ``app`` is the wrapper's ``.app`` read when the event arrives; ``headers``, ``cookies``,
    ``client``, ``url``, ``query_params`` and ``scope`` describe the connection's handshake;
    ``auth`` is what the client sent when it connected to this namespace; ``state`` is private to
    this event. On a client, or without an environ, they are ``None`` (``cookies`` is ``{}``).
    """

    def __init__(
        self,
        *,
        app: Any = None,
        environ: dict[str, Any] | None = None,
        sid: str | None = None,
        namespace: str = "/",
        event: str = "",
        auth: Any = None,
    ) -> None:
        self.app = app
        self.environ = environ
        self.sid = sid
        self.namespace = namespace
        self.event = event
        self._auth = auth

    @cached_property
    def state(self) -> State:
        """Per-event state, like ``request.state`` in FastAPI."""
        return State()

    @cached_property
    def scope(self) -> dict[str, Any] | None:
        """The ASGI scope of the handshake (``None`` under WSGI or without an environ)."""
        environ = self.environ
        return environ.get("asgi.scope") if environ else None

    @cached_property
    def headers(self) -> Headers | None:
        """The handshake's HTTP headers."""
        scope = self.scope
        if scope is not None:
            return Headers(scope=scope)
        environ = self.environ
        if not environ:
            return None
        raw = [
            (key[5:].replace("_", "-").lower().encode("latin-1"), str(value).encode("latin-1"))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                raw.append((key.replace("_", "-").lower().encode(), str(environ[key]).encode("latin-1")))
        return Headers(raw=raw)

    @cached_property
    def cookies(self) -> dict[str, str]:
        """The handshake's cookies (``{}`` when there are none)."""
        headers = self.headers
        cookie = headers.get("cookie") if headers is not None else None
        return cookie_parser(cookie) if cookie else {}

    @cached_property
    def client(self) -> Address | None:
        """The peer's host and port."""
        scope = self.scope
        if scope is not None:
            client = scope.get("client")
            return Address(*client) if client else None
        environ = self.environ
        if not environ or "REMOTE_ADDR" not in environ:
            return None
        return Address(environ["REMOTE_ADDR"], int(environ.get("REMOTE_PORT") or 0))

    @cached_property
    def url(self) -> URL | None:
        """The handshake URL."""
        scope = self.scope
        if scope is not None:
            return URL(scope=scope)
        environ = self.environ
        if not environ:
            return None
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        query = environ.get("QUERY_STRING")
        scheme = environ.get("wsgi.url_scheme", "http")
        return URL(f"{scheme}://{host}{environ.get('PATH_INFO', '')}" + (f"?{query}" if query else ""))

    @cached_property
    def query_params(self) -> QueryParams | None:
        """The handshake's query parameters."""
        scope = self.scope
        if scope is not None:
            return QueryParams(scope.get("query_string", b""))
        environ = self.environ
        return QueryParams(environ.get("QUERY_STRING", "")) if environ else None

    @property
    def auth(self) -> Any:
        """The ``auth`` the client sent when it connected to this namespace."""
        if self._auth is not None:
            return self._auth
        environ = self.environ
        if not environ:
            return None
        return environ.get(AUTH_KEY, {}).get(self.namespace)

    def __repr__(self) -> str:
        return f"SioRequest(sid={self.sid!r}, namespace={self.namespace!r}, event={self.event!r})"
