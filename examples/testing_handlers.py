"""Testing socket.io handlers with ``zndraw_socketio.testing.TestClient``: no server, no port.

    python examples/testing_handlers.py       # runs the checks below and prints what they saw
    pytest examples/testing_handlers.py       # the same checks, as pytest tests (pytest-asyncio)

``TestClient(tsio)`` connects a real python-socketio client to the real server object in memory:
the connect handler, typed auth, validation, dependencies, exception handlers, rooms and the
disconnect handler all run as they would behind uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

import pytest
import socketio
import socketio.exceptions
import structlog
from pydantic import BaseModel

from zndraw_socketio import Depends, EventContext, ProblemDetailError, wrap
from zndraw_socketio.testing import TestClient, capture_events


# -- the app under test ---------------------------------------------------------------------------
class Login(BaseModel):
    user: str


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


class Said(BaseModel):
    user: str
    text: str


class Forbidden(Exception):
    """Raised by a handler when the user may not do what they asked."""


def greeting() -> str:
    """A dependency; the tests override it."""
    return "hello"


tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
users: dict[str, str] = {}
left: list[str] = []


@tsio.event
async def connect(sid: str, environ: dict[str, Any], auth: Login) -> None:
    users[sid] = auth.user
    await tsio.enter_room(sid, "lobby")


@tsio.event
async def disconnect(sid: str) -> None:
    left.append(users.pop(sid))


@tsio.on(Ping)
async def ping(sid: str, data: Ping, word: Annotated[str, Depends(greeting)]) -> Pong:
    if data.message == "admin":
        raise Forbidden(users[sid])
    return Pong(reply=f"{word} {users[sid]}: {data.message}")


@tsio.on("say")
async def say(sid: str, text: str) -> None:
    await tsio.emit(Said(user=users[sid], text=text), room="lobby", skip_sid=sid)


@tsio.exception_handler(Forbidden)
async def forbidden(ctx: EventContext, exc: Forbidden) -> dict[str, Any]:
    return {"kind": "error", "type": "about:blank", "title": "Forbidden", "status": 403, "detail": str(exc)}


# -- the tests ------------------------------------------------------------------------------------
async def test_ping_with_a_dependency_and_its_override() -> None:
    async with TestClient(tsio, auth={"user": "ada"}) as client:
        assert await client.call(Ping(message="hi"), response_model=Pong) == Pong(reply="hello ada: hi")
        tsio.dependency_overrides[greeting] = lambda: "hey"
        try:
            reply = await client.call(Ping(message="hi"), response_model=Pong)
        finally:
            tsio.dependency_overrides.clear()
        assert reply == Pong(reply="hey ada: hi")
        print("reply:", reply)


async def test_errors_are_problem_details() -> None:
    async with TestClient(tsio, auth={"user": "bob"}) as client:
        with pytest.raises(ProblemDetailError) as invalid:
            await client.call("ping", {"message": 42}, response_model=Pong)
        assert invalid.value.status == 422
        with pytest.raises(ProblemDetailError) as refused:
            await client.call(Ping(message="admin"), response_model=Pong)
        assert (refused.value.status, refused.value.problem.detail) == (403, "bob")
        print("errors:", invalid.value, "|", refused.value)


async def test_a_connect_without_valid_auth_is_refused() -> None:
    with pytest.raises(socketio.exceptions.ConnectionError) as info:
        async with TestClient(tsio, auth={"name": "eve"}):
            pass
    message, refusal = info.value.args
    assert refusal["data"]["status"] == 422
    print("refused:", message, refusal["data"]["errors"][0]["type"])


async def test_two_users_in_the_lobby() -> None:
    heard: asyncio.Queue[Said] = asyncio.Queue()
    ada, bob = TestClient(tsio, auth={"user": "ada"}), TestClient(tsio, auth={"user": "bob"})
    bob.client.on(Said, heard.put_nowait)
    async with ada as ada_client, bob:
        await ada_client.emit("say", "hi all")
        said = await asyncio.wait_for(heard.get(), 5)
        assert said == Said(user="ada", text="hi all")
        print("bob heard:", said)
    assert sorted(left[-2:]) == ["ada", "bob"]  # both disconnect handlers ran


async def test_capture_what_passed_both_ways() -> None:
    async with TestClient(tsio, auth={"user": "cy"}) as client:
        with capture_events() as events:
            await client.call(Ping(message="seen"), response_model=Pong)
    assert [(e.direction, e.event, e.reply) for e in events] == [
        ("out", "ping", {"reply": "hello cy: seen"}),  # the test client's call
        ("in", "ping", {"reply": "hello cy: seen"}),  # the server's handler
    ]
    print("captured:", [(e.direction, e.event) for e in events])


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    for check in (
        test_ping_with_a_dependency_and_its_override,
        test_errors_are_problem_details,
        test_a_connect_without_valid_auth_is_refused,
        test_two_users_in_the_lobby,
        test_capture_what_passed_both_ways,
    ):
        await check()
        print("ok:", check.__name__)
    print("done")


if __name__ == "__main__":
    asyncio.run(main())
