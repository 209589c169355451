"""An app for the TypeScript contract tests: nested models, a discriminated union, literals, an
enum, optional and nullable fields, tuples, dicts, extra fields, a model with two schemas, events
without payload or reply, several arguments, a quoted event name, and the namespaces ``/chat``
and ``/my-room``. ``tsio`` is its wrapper."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import socketio
from pydantic import BaseModel, ConfigDict, Field, computed_field

from zndraw_socketio import wrap


class Color(StrEnum):
    """A pen colour."""

    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str


class User(BaseModel):
    """A user, with a nested address."""

    name: str = Field(description="The display name; shown to everyone.")
    address: Address | None = None
    nickname: str | None = Field(description="Null when the user has none.")
    tags: list[str] = []


class Room(BaseModel):
    """A chat room: its owner and members."""

    room_id: str
    owner: User
    members: list[User] = []
    scores: dict[str, int] = {}
    position: tuple[float, float] = (0.0, 0.0)


class Circle(BaseModel):
    kind: Literal["circle"] = "circle"
    radius: float


class Square(BaseModel):
    kind: Literal["square"] = "square"
    side: float


Shape = Annotated[Circle | Square, Field(discriminator="kind")]


class Draw(BaseModel):
    """Draw a shape with a pen."""

    shape: Shape
    color: Color = Color.RED
    layer: Literal[0, 1, 2] = 0


class Drawn(BaseModel):
    """A shape was drawn."""

    kind: Literal["drawn"] = "drawn"
    shape: Shape
    color: Color


class Ping(BaseModel):
    """A ping from a client."""

    message: str


class Pong(BaseModel):
    """The answer to a ping."""

    kind: Literal["pong"] = "pong"
    reply: str


class Status(BaseModel):
    """The server's status."""

    kind: Literal["status"] = "status"
    uptime: float
    rooms: list[str]


class Metadata(BaseModel):
    """Free-form metadata: any extra key is kept."""

    model_config = ConfigDict(extra="allow")

    source: str


class Temperature(BaseModel):
    """A reading; its serialised form has a computed field its input lacks."""

    celsius: float

    @computed_field
    @property
    def fahrenheit(self) -> float:
        return self.celsius * 9 / 5 + 32


class Message(BaseModel):
    """A chat message."""

    room_id: str
    text: str
    author: User


tsio = wrap(socketio.AsyncServer(async_mode="asgi"))


@tsio.on("connect")
async def connect(sid: str, environ: dict[str, object]) -> None:
    """Connections are lifecycle events, not client-to-server events."""


@tsio.on(Ping)
async def ping(sid: str, data: Ping) -> Pong:
    """Answer a ping.

    The reply echoes the message.
    """
    return Pong(reply=data.message)


@tsio.on("status")
async def status(sid: str) -> Status:
    """Report the server's status; the event carries no data."""
    return Status(uptime=1.0, rooms=[])


@tsio.on(Draw, emits=[Drawn])
async def draw(sid: str, data: Draw) -> None:
    """Draw a shape; everyone sees it."""
    await tsio.emit(Drawn(shape=data.shape, color=data.color))


@tsio.on("convert")
async def convert(sid: str, data: Temperature) -> Temperature:
    return data


@tsio.on("annotate")
async def annotate(sid: str, data: Metadata) -> Metadata:
    return data


@tsio.on("user-left")
async def user_left(sid: str, user_id: str) -> None:
    """Forget a user."""


@tsio.on("move")
async def move(sid: str, x: int, y: int = 0) -> None:
    """Move by two arguments, the second optional."""


@tsio.on("jump")
async def jump(sid: str, x: int, y: int = 0) -> bool:
    """Jump by two arguments: with an ack after them, both must be sent."""
    return True


@tsio.on("join", namespace="/chat", emits=[Message])
async def join(sid: str, room: Room) -> list[User]:
    """Join a room; everyone in it hears about it."""
    return room.members


@tsio.on(Ping, namespace="/chat")
async def chat_ping(sid: str, data: Ping) -> Pong | Status:
    """Answer a ping in the chat namespace, with a pong or the status."""
    return Pong(reply=data.message)


@tsio.on("enter", namespace="/my-room")
async def enter(sid: str, user: User) -> None:
    """Enter the room."""
