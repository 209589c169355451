"""Where a connection's connect ``auth`` is kept: in its environ, per namespace."""

from __future__ import annotations

from typing import Any

__all__ = ["AUTH_KEY", "remember_auth"]

AUTH_KEY = "zndraw_socketio.auth"
"""Where the connect ``auth`` of each namespace is kept in the connection's environ."""


def remember_auth(environ: Any, namespace: str, auth: Any) -> None:
    """Keep the ``auth`` a client sent when it connected to ``namespace``, for ``SioRequest.auth``."""
    if isinstance(environ, dict):
        environ.setdefault(AUTH_KEY, {})[namespace] = auth
