"""What the scenarios of ``test_transports_agree`` share: dependencies, expected problem details
and a typed server. Module level on purpose: dependencies named in annotations must resolve.

Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from tests.support.helpers import new_server
from tests.support.models import Ping, Pong, Response, ServerRequest
from zndraw_socketio import AsyncServerWrapper, Depends, SioRequest


def word_of_the_day() -> str:
    return "dep"


async def async_word(word: Annotated[str, Depends(word_of_the_day)]) -> str:
    await asyncio.sleep(0)
    return f"async-{word}"


def handshake(request: SioRequest) -> dict[str, Any]:
    assert request.headers is not None and request.client is not None and request.url is not None
    return {
        "token": request.headers.get("x-token"),
        "peer": request.client.host,
        "path": request.url.path,
        "auth": request.auth,
    }


def problem_422(event: str, *errors: tuple[str, list[Any], str]) -> dict[str, Any]:
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"{len(errors)} validation error{'s' if len(errors) != 1 else ''} for event {event!r}",
        "instance": event,
        "errors": [{"type": t, "loc": loc, "msg": msg} for t, loc, msg in errors],
        "error_count": len(errors),
    }


PROBLEM_500 = {
    "kind": "error",
    "type": "about:blank",
    "title": "Internal Server Error",
    "status": 500,
    "detail": None,
    "instance": "boom",
}


def typed_server() -> AsyncServerWrapper:
    tsio = new_server()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("my-ping")
    async def my_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=f"my:{data.message}")

    @tsio.on("event")
    async def event(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"got": data}

    @tsio.on(ServerRequest)
    async def request(sid: str, data: ServerRequest) -> Response:
        return Response(data=data.query.upper())

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        raise RuntimeError("secret internals")

    return tsio
