"""The event models most tests share."""

from __future__ import annotations

from pydantic import BaseModel


class Ping(BaseModel):
    """A ping carrying a message."""

    message: str


class Pong(BaseModel):
    """The reply to a ping."""

    reply: str


class ServerRequest(BaseModel):
    """A request the server sends a client (SPEC part 1, union return types)."""

    query: str
