"""A representative app for the AsyncAPI tests: two namespaces, nested models, union payloads and
replies, scalar and list payloads, socket emits and REST emits, a dependency and an exception
handler. ``tsio`` is its wrapper and ``app`` its FastAPI app (``tsio.app``)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import socketio
from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from zndraw_socketio import AsyncServerWrapper, Emits, EventContext, ProblemDetail, wrap
from zndraw_socketio import Depends as SioDepends


class Ping(BaseModel):
    """A ping from a client."""

    message: str


class Pong(BaseModel):
    """The answer to a ping."""

    reply: str


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str


class User(BaseModel):
    """A user, with a nested address."""

    name: str
    address: Address | None = None


class Room(BaseModel):
    """A chat room: its owner and members."""

    room_id: str
    owner: User
    members: list[User] = []


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    radius: float


class Square(BaseModel):
    kind: Literal["square"] = "square"
    side: float


class ServerRequest(BaseModel):
    """A query the server answers with a response or a problem."""

    query: str


class Response(BaseModel):
    """A successful answer."""

    kind: Literal["response"] = "response"
    data: str


class SessionLeft(BaseModel):
    """A user left a room."""

    room_id: str
    user_id: str


class UserJoined(BaseModel):
    """A user joined a room."""

    event_name: ClassVar[str] = "user_joined_room"
    room_id: str
    user: User


class SelectionChanged(BaseModel):
    """The selection of a room changed."""

    key: str
    indices: list[int]


class Settings(BaseModel):
    greeting: str = "hello"


def get_settings() -> Settings:
    return Settings()


app = FastAPI(title="Representative API", version="2.1.0")
tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
tsio.app = app


@tsio.on(Ping)
async def handle_ping(sid: str, data: Ping) -> Pong:
    """Answer a ping.

    The reply echoes the message.
    """
    return Pong(reply=data.message)


@tsio.on("ping", namespace="/chat")
async def chat_ping(sid: str, data: Ping) -> Pong:
    """Answer a ping in the chat namespace."""
    return Pong(reply=data.message)


@tsio.event(namespace="/chat")
async def ping_twice(sid: str, data: Ping, settings: Annotated[Settings, SioDepends(get_settings)]) -> Pong:
    """Greet with an injected dependency, which is no part of the payload."""
    return Pong(reply=f"{settings.greeting} {data.message}")


@tsio.on("echo")
async def echo(sid: str, text: str) -> str:
    """Echo a string."""
    return text


@tsio.on("count")
async def count(sid: str, n: int) -> int:
    return n + 1


@tsio.on("join_room", namespace="/chat", emits=[UserJoined])
async def join_room(sid: str, room: Room) -> list[User]:
    """Join a room; everyone in it hears about it."""
    return room.members


@tsio.on("add_users")
async def add_users(sid: str, users: list[User]) -> int:
    return len(users)


@tsio.on(ServerRequest)
async def handle_request(sid: str, data: ServerRequest) -> Response | ProblemDetail:
    """Answer a query, or explain why not."""
    return Response(data=data.query)


@tsio.on("draw", namespace="/chat")
async def draw(sid: str, shape: Annotated[Circle | Square, Field(discriminator="kind")]) -> None:
    """Draw a shape."""


@tsio.on("move", namespace="/chat")
async def move(sid: str, x: int, y: int = 0) -> None:
    """Move by two arguments."""


@tsio.on("disconnect", emits=[SessionLeft])
async def handle_disconnect(sid: str) -> None:
    """Tell the room that the user left."""
    await tsio.emit(SessionLeft(room_id="room1", user_id=sid), room="room1")


class RoomFull(Exception):
    """The room has no space left."""


@tsio.exception_handler(RoomFull, namespace="/chat")
async def handle_room_full(ctx: EventContext, exc: RoomFull) -> dict[str, Any]:
    return {"error": "room full"}


@app.put("/rooms/{key}/selection")
async def update_selection(
    sio: Annotated[AsyncServerWrapper, Depends(tsio), Emits(SelectionChanged, SessionLeft)],
    key: str,
) -> dict[str, str]:
    """Update the selection of a room.

    Everyone in the room hears about it.
    """
    await sio.emit(SelectionChanged(key=key, indices=[1]), room=key)
    return {"status": "ok"}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
