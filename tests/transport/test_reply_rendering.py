"""A reply of the declared model is written as JSON text in one pydantic-core call
(``codec.reply_renderer``): the wire text must be what the dict path wrote, and anything the call
cannot write must go the dict path."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import socketio
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field
from socketio import packet as sio_packet

from tests.support.models import Ping, Pong
from zndraw_socketio import wrap
from zndraw_socketio.testing import TestClient
from zndraw_socketio.transport.codec import PACKET_JSON, PydanticPacket, RenderedJson, reply_renderer


class Inner(BaseModel):
    x: float
    when: datetime.datetime


class Aliased(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    the_name: str = Field(alias="theName")
    other: int = Field(validation_alias=AliasChoices("o", "other"), serialization_alias="Other")


class Rich(BaseModel):
    text: str
    blob: bytes
    ratio: float
    inner: Inner
    items: list[Inner] = []
    maybe: int | None = None
    hidden: str = Field(default="h", exclude=True)
    aliased: Aliased | None = None

    @computed_field
    @property
    def size(self) -> int:
        return len(self.text)


class Constants(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")

    x: float


class HoldsAny(BaseModel):
    thing: Any


WHEN = datetime.datetime(2026, 12, 1, 12, 30, tzinfo=datetime.UTC)
VALUES: list[Any] = [
    Pong(reply="plain"),
    Pong(reply='ünïcødé ✓ \u2028 "quoted" \\ back'),
    Rich(
        text="t",
        blob=b"bytes\x00",
        ratio=float("nan"),
        inner=Inner(x=float("inf"), when=WHEN),
        items=[Inner(x=-float("inf"), when=WHEN), Inner(x=1.5, when=WHEN)],
        aliased=Aliased(theName="n", other=3),
    ),
    Aliased.model_validate({"theName": "only", "o": 1}),
]


def _sender(packet_class: type = PydanticPacket) -> Any:
    sio = socketio.AsyncServer()
    sio.packet_class = packet_class
    return sio


def _ack_text(value: Any) -> str:
    """The encoded ACK packet of ``value``, as python-socketio sends it."""
    text = PydanticPacket(sio_packet.ACK, namespace="/", data=[value], id=7).encode()
    assert isinstance(text, str)  # no binary attachments
    return text


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_the_rendered_reply_is_the_dict_paths_text(value: BaseModel) -> None:
    model = type(value)
    dump = model.__pydantic_serializer__.to_python
    render = reply_renderer(model, dump, _sender())
    rendered = render(value, mode="json")
    assert type(rendered) is RenderedJson
    assert _ack_text(rendered) == _ack_text(dump(value, mode="json"))
    json.loads(_json_of(_ack_text(rendered)))  # valid JSON: NaN and infinities went out as null


def test_nan_and_infinities_are_null_in_the_rendered_text() -> None:
    value = VALUES[2]
    text = reply_renderer(Rich, Rich.__pydantic_serializer__.to_python, _sender())(value).text
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["ratio"] is None


def test_a_model_asking_for_nan_constants_keeps_the_dict_path() -> None:
    dump = Constants.__pydantic_serializer__.to_python
    assert reply_renderer(Constants, dump, _sender()) is dump
    assert json.loads(_json_of(_ack_text(dump(Constants(x=float("nan")), mode="json")))) == [{"x": None}]


def test_what_pydantic_core_cannot_write_goes_the_dict_path() -> None:
    lone = Pong(reply="a\ud800b")  # a lone surrogate: the codec's fallback escapes it
    dump = Pong.__pydantic_serializer__.to_python
    render = reply_renderer(Pong, dump, _sender())
    reply = render(lone)
    assert reply == {"reply": "a\ud800b"}
    assert "\\ud800" in _ack_text(reply)


def test_no_renderer_without_the_codec() -> None:
    dump = Pong.__pydantic_serializer__.to_python
    assert reply_renderer(Pong, dump, _sender(sio_packet.Packet)) is dump


def test_another_packet_class_gets_the_dict() -> None:
    sender = _sender()
    render = reply_renderer(Pong, Pong.__pydantic_serializer__.to_python, sender)
    assert type(render(Pong(reply="x"))) is RenderedJson
    sender.packet_class = sio_packet.Packet  # changed after the entries were compiled
    assert render(Pong(reply="x")) == {"reply": "x"}


@pytest.mark.parametrize("codec", ["default", None])
async def test_replies_end_to_end_with_and_without_the_codec(codec: str | None) -> None:
    tsio = (
        wrap(socketio.AsyncServer(async_mode="asgi")) if codec else wrap(socketio.AsyncServer(), codec=None)
    )

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("rich")
    async def rich(sid: str, data: Any) -> Rich:
        return VALUES[2]  # type: ignore[return-value]

    @tsio.on("any")
    async def holds_any(sid: str, data: Any) -> HoldsAny:
        return HoldsAny(thing=object())  # neither path can write it: a 500, not silence

    async with TestClient(tsio) as client:
        assert await client.call(Ping(message="m"), response_model=Pong) == Pong(reply="m")
        got = await client.call("rich", {})
        if codec:
            assert got == json.loads(_stdlib_text(VALUES[2]))
        else:  # python-socketio's own codec: NaN goes out as NaN, as before
            assert {k: got[k] for k in ("text", "size", "blob")} == {
                "text": "t",
                "size": 1,
                "blob": "bytes\u0000",
            }
        problem = await client.call("any", {})
        assert problem["status"] == 500


def _json_of(packet_text: str) -> str:
    """The JSON of an encoded packet (after its type, namespace and id)."""
    return packet_text[packet_text.index("[") :]


def _stdlib_text(value: BaseModel) -> str:
    return PACKET_JSON.dumps(value.__pydantic_serializer__.to_python(value, mode="json"))
