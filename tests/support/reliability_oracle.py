"""The typed handlers of the property-based suite (``test_reliability_properties.py``) and the
oracle that says what each case must get back."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, validate_call

from tests.support.helpers import new_server
from tests.support.reliability_support import (
    scaled,
)
from zndraw_socketio import AsyncServerWrapper, Bounds
from zndraw_socketio.transport.codec import MAX_DEPTH, MAX_INT_DIGITS

CASES = scaled(100, 3_400)
"""Hypothesis examples per test (three tests)."""
CALL_BOUND = 5
"""Seconds within which every call must be answered."""
REPLY_BOUND = 10_000
"""Bytes of JSON a problem reply stays under."""
ENTRY_BOUND = 10_000
"""Characters of ``repr`` an error log entry stays under."""
PAYLOAD_BUDGET = 900_000
"""Encoded bytes of a case, at most (engine.io drops a packet over 1,000,000)."""
MAX_NEST = 300
"""The deepest nesting generated: 1.5 times ``codec.MAX_DEPTH``."""
MARK = "«input-value»"
"""Appended to every generated string value (never to a key): must never be echoed by an error."""
_BIG = 10**MAX_INT_DIGITS  # 101 characters, the shortest positive integer refused
_BIG_NEGATIVE = -(10 ** (MAX_INT_DIGITS - 1))  # "-" and 99 digits: 101 characters, refused


# -- the typed handlers and their oracle -----------------------------------------------------------
class Point(BaseModel):
    x: float
    y: float
    label: str = ""


class Layer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    points: list[Point]
    tags: dict[str, int] = {}


class Scene(BaseModel):
    title: str
    layers: list[Layer]
    meta: dict[str, Any] | None = None
    version: int = 1


def summarise(data: Scene) -> dict[str, Any]:
    """The reply to ``scene``: the title itself when short (a round trip of its text), counts."""
    return {
        "title": data.title if len(data.title) <= 200 else None,
        "title_length": len(data.title),
        "layers": len(data.layers),
        "points": sum(len(layer.points) for layer in data.layers),
        "version": data.version,
    }


def place_on(scene: Scene, index: int, scale: float, flag: bool = False) -> dict[str, Any]:
    """The reply to ``place``; an index out of range raises ``IndexError``: a 500."""
    layer = scene.layers[index]
    return {
        "layer": layer.name[:50],
        "points": len(layer.points),
        "finite": math.isfinite(scale),
        "flag": flag,
    }


def divide(a: int, b: int) -> int:
    """The reply to ``divide``; ``b == 0`` raises ``ZeroDivisionError``: a 500."""
    return a // b


def weigh(data: bytes, name: str, chunks: list[bytes] | None = None) -> dict[str, Any]:
    """The reply to ``blob``: sizes and a digest of the attachments."""
    return {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "name_length": len(name),
        "chunks": [len(chunk) for chunk in chunks or []],
    }


def reliability_server() -> AsyncServerWrapper:
    tsio = new_server()

    @tsio.on(Scene)
    async def scene(sid: str, data: Scene) -> dict[str, Any]:
        return summarise(data)

    @tsio.on("place")
    async def place(sid: str, scene: Scene, index: int, scale: float, flag: bool = False) -> dict[str, Any]:
        return place_on(scene, index, scale, flag)

    @tsio.on("divide")
    def divide_handler(sid: str, a: int, b: int) -> int:  # a synchronous handler
        return divide(a, b)

    @tsio.on("blob")
    async def blob(sid: str, data: bytes, name: str, chunks: list[bytes] | None = None) -> dict[str, Any]:
        return weigh(data, name, chunks)

    @tsio.on("health")
    async def health(sid: str) -> str:
        return "ok"

    return tsio


@validate_call
def _scene_oracle(data: Scene) -> dict[str, Any]:
    return summarise(data)


ORACLES: dict[str, Callable[..., Any]] = {
    "scene": _scene_oracle,
    "place": validate_call(place_on),
    "divide": validate_call(divide),
    "blob": validate_call(weigh),
}


SINGLE_PAYLOAD = {"scene"}
"""The events whose handler takes one payload argument."""


@dataclass
class Expected:
    """What the server must answer: ``status`` ``None`` for the handler's reply ``reply``."""

    status: int | None
    reply: Any = None
    error_count: int = 0
    error_types: list[str] = field(default_factory=list)
    error: str = ""


def decodable(data: list[Any]) -> bool:
    """False when the server's codec must refuse the packet carrying ``data`` (its argument list,
    the event name first): a value inside more than ``MAX_DEPTH`` containers, or an integer whose
    literal is longer than ``MAX_INT_DIGITS`` characters, its sign included (engine.io's bound). A
    binary attachment travels as a placeholder object, whose values sit one level below it."""
    stack: list[tuple[Any, int]] = [(data, 0)]  # (value, how many containers enclose it)
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            children = value if isinstance(value, list) else list(value.values())
            if children and depth + 1 > MAX_DEPTH:
                return False
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(value, bytes):
            if depth + 1 > MAX_DEPTH:
                return False
        elif type(value) is int and len(str(value)) > MAX_INT_DIGITS:
            return False
    return True


class Unresolved(Exception):
    """A placeholder object in a binary packet that names no attachment of it."""


def through_the_wire(args: list[Any]) -> list[Any]:
    """``args`` as the server's handler receives them from a python-socketio client.

    Every string goes through a JSON round trip (two surrogate code points in a row arrive as
    the one character they encode). In a packet with binary attachments the client puts a
    placeholder object ``{"_placeholder": true, "num": i}`` where each ``bytes`` was, and the
    server puts attachment ``i`` back wherever it finds an object with a true ``_placeholder``
    and a ``num`` key, the sender's own objects included: one whose ``num`` is not the index of
    an attachment raises ``Unresolved`` (the server refuses the packet)."""
    attachments: list[bytes] = []

    def out(value: Any) -> Any:  # the client: bytes to placeholders, strings through JSON
        if isinstance(value, bytes):
            attachments.append(value)
            return {"_placeholder": True, "num": len(attachments) - 1}
        if isinstance(value, str):
            return json.loads(json.dumps(value))
        if isinstance(value, list):
            return [out(item) for item in value]
        if isinstance(value, dict):
            return {out(key): out(item) for key, item in value.items()}
        return value

    def back(value: Any) -> Any:  # the server: placeholders to attachments
        if isinstance(value, list):
            return [back(item) for item in value]
        if isinstance(value, dict):
            if value.get("_placeholder") and "num" in value:
                try:
                    return attachments[value["num"]]
                except (IndexError, TypeError) as exc:
                    raise Unresolved from exc
            return {key: back(item) for key, item in value.items()}
        return value

    sent = out(args)
    return back(sent) if attachments else sent


def has_binary(value: Any) -> bool:
    """True when ``value`` holds bytes (a binary attachment) anywhere."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            return True
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


_LAST: list[tuple[str, list[Any], Expected]] = []
"""The last case ``expect`` answered for: the filter and the test ask about the same one."""


def expect(event: str, args: list[Any]) -> Expected:
    """The oracle: what the server must answer to ``event`` with ``args``."""
    if _LAST and _LAST[0][0] == event and _LAST[0][1] is args:
        return _LAST[0][2]
    expected = _expect(event, args)
    _LAST[:] = [(event, args, expected)]
    return expected


def attachment_count(value: Any) -> int:
    """How many binary attachments ``value`` is sent with (each ``bytes`` anywhere in it)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes):
            count += 1
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return count


def _expect(event: str, args: list[Any]) -> Expected:
    if not decodable([event, *args]):
        return Expected(400, error="UndecodablePacket")
    if attachment_count(args) > Bounds().max_attachments:  # refused before it is decoded
        return Expected(400, error="UndecodablePacket")
    try:
        received = through_the_wire(args)
    except Unresolved:
        return Expected(400, error="UndecodablePacket")
    if event in SINGLE_PAYLOAD and len(received) != 1:
        # the library's rule for a handler of one payload argument: a wrong number of arguments
        # is the error, the payload itself is not validated (middleware/validation.py)
        if not received:
            return _rejected(1, ["missing_argument"])
        extra = len(received) - 1
        return _rejected(extra, ["unexpected_positional_argument"] * extra)
    try:
        reply = ORACLES[event](*received)
    except ValidationError as exc:
        return _rejected(exc.error_count(), [error["type"] for error in exc.errors()])
    except Exception as exc:
        return Expected(500, error=type(exc).__name__)
    return Expected(None, reply=reply)


def _rejected(count: int, types: list[str]) -> Expected:
    return Expected(422, error_count=count, error_types=sorted(types), error="ValidationError")


def encoded_size(event: str, args: list[Any]) -> int:
    """Bytes of the packet the client sends, binary attachments included (about)."""
    attachments = 0

    def placeholder(value: Any) -> Any:
        nonlocal attachments
        assert isinstance(value, bytes)
        attachments += len(value)
        return {"_placeholder": True, "num": 0}

    text = json.dumps([event, *args], separators=(",", ":"), default=placeholder)
    return len(text) + attachments
