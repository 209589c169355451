"""``SioRequest``: what a dependency learns about the connection behind an event."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from starlette.datastructures import URL, Address, Headers, QueryParams, State
from starlette.requests import cookie_parser

from ..events.auth import AUTH_KEY

__all__ = ["SioRequest"]


class SioRequest:
    """The request a handler or dependency gets for a parameter typed ``SioRequest``,
    ``fastapi.Request`` or ``starlette.requests.Request``.

    ``app`` is the wrapper's ``.app`` read when the event arrives; ``headers``, ``cookies``,
    ``client``, ``url``, ``query_params`` and ``scope`` describe the connection's handshake;
    ``auth`` is what the client sent when it connected to this namespace; ``state`` is private to
    this event (``None`` on a request built by hand without an app, as in 0.1.6). On a client, or
    without an environ, they are ``None`` (``cookies`` is ``{}``).
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
    def state(self) -> State | None:
        """Per-event state, like ``request.state`` in FastAPI: one ``State`` per event, shared by
        the handler and its dependencies, with or without an app. ``None`` on a request built by
        hand with neither an app nor a sid nor an event (``SioRequest()``,
        ``SioRequest(environ=...)``), as in 0.1.6."""
        if self.app is None and self.sid is None and not self.event:
            return None
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
