"""The event models most tests share."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, computed_field


class Ping(BaseModel):
    """A ping carrying a message."""

    message: str


class Pong(BaseModel):
    """The reply to a ping."""

    reply: str


class ServerRequest(BaseModel):
    """A request the server sends a client (a reply declared as a union)."""

    query: str


class ProblemDetail(BaseModel):
    """RFC 9457 Problem Details, as users declare it in their own code."""

    kind: Literal["error"] = "error"
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class Response(BaseModel):
    """The success member of the README's ``Response | ProblemDetail`` union."""

    kind: Literal["response"] = "response"
    data: str


class Temperature(BaseModel):
    """A model whose serialised form has a computed field its input lacks (two schemas)."""

    celsius: float

    @computed_field
    @property
    def fahrenheit(self) -> float:
        return self.celsius * 9 / 5 + 32
