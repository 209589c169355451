"""Handlers and dependencies written under postponed annotations, for test_dependencies_registration.

Every annotation below is a string until ``typing.get_type_hints`` resolves it against this
module's globals, so the names it uses live at module level. Not collected by pytest (no
``test_`` prefix).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import fastapi
from pydantic import BaseModel

from zndraw_socketio import AsyncServerWrapper, Depends, SioRequest

LOG: list[str] = []
"""What the dependencies and handlers below did, in order; the test clears it."""


class Greeting(BaseModel):
    name: str


class Greeted(BaseModel):
    text: str
    token: str
    event: str


def header_token(request: fastapi.Request) -> str:
    LOG.append("header_token")
    return request.headers["x-token"]


async def punctuation() -> str:
    LOG.append("punctuation")
    return "!"


def salutation(token: Annotated[str, Depends(header_token)], mark: str = Depends(punctuation)) -> str:  # pyright: ignore[reportArgumentType]
    LOG.append("salutation")
    return f"hello[{token}]{mark}"


async def session(request: SioRequest) -> AsyncIterator[str]:
    LOG.append("session open")
    try:
        yield request.event
    finally:
        LOG.append("session close")


async def greet(
    sid: str,
    data: Greeting,
    word: Annotated[str, Depends(salutation)],
    event: Annotated[str, Depends(session)],
    token: str = fastapi.Depends(header_token),
) -> Greeted:
    LOG.append("handler")
    return Greeted(text=f"{word} {data.name}", token=token, event=event)


class Pager:
    """A class dependency: ``Depends()`` calls it, its ``__init__`` parameters are injected."""

    def __init__(self, token: Annotated[str, Depends(header_token)], size: int = 10) -> None:
        self.token = token
        self.size = size


class TokenChecker:
    """A callable instance as a dependency."""

    def __init__(self, expected: str) -> None:
        self.expected = expected

    async def __call__(self, request: SioRequest, token: Annotated[str, Depends(header_token)]) -> bool:
        LOG.append(f"checker for {request.event}")
        return token == self.expected


check_token = TokenChecker("t0k")


async def paged(sid: str, data: int, pager: Annotated[Pager, Depends()]) -> list[object]:
    return [pager.token, pager.size, data]


async def checked(sid: str, data: int, ok: Annotated[bool, Depends(check_token)]) -> list[object]:
    return [ok, data]


def register(tsio: AsyncServerWrapper) -> None:
    """Register ``greet`` for the ``greeting`` event."""
    tsio.on(Greeting, greet)


def register_paged(tsio: AsyncServerWrapper) -> None:
    """Register ``paged`` (a class dependency) for the ``paged`` event."""
    tsio.on("paged", paged)


def register_checked(tsio: AsyncServerWrapper) -> None:
    """Register ``checked`` (a callable-instance dependency) for the ``checked`` event."""
    tsio.on("checked", checked)
