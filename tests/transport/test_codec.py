"""The wire codec: pydantic-core's JSON per wrapped object, the same wire format, bounded decoding."""

from __future__ import annotations

import json
import math
from typing import Any, cast

import engineio.json
import pytest
import socketio
import structlog
from socketio import packet

from tests.support.inprocess import AsyncClientPeer, AsyncServerPeer, SyncServerPeer
from zndraw_socketio import wrap
from zndraw_socketio.transport.codec import MAX_DEPTH, MAX_INT_DIGITS, MESSAGE_JSON, PydanticPacket


def _strict(text: str) -> Any:
    """``text`` parsed as JSON that a browser accepts: NaN and Infinity tokens are refused."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def _encoded(data: Any, **kwargs: Any) -> Any:
    return PydanticPacket(packet.EVENT, data=data, **kwargs).encode()


# -- the wire format -----------------------------------------------------------------------------
def test_packets_are_the_same_text_as_python_socketios_for_plain_json() -> None:
    data = ["ev", {"a": [1, 2.5, True, None], "b": {"c": "d"}}, 3]
    for kwargs in ({}, {"namespace": "/chat"}, {"id": 7}, {"namespace": "/chat", "id": 12}):
        ours = _encoded(data, **kwargs)
        theirs = packet.Packet(packet.EVENT, data=data, **kwargs).encode()
        assert ours == theirs
        assert PydanticPacket(encoded_packet=theirs).data == data


def test_nan_and_infinity_go_out_as_null_and_the_text_is_valid_json() -> None:
    text = _encoded(["ev", {"f": math.nan, "g": [math.inf, -math.inf, 1.5]}])
    assert text == '2["ev",{"f":null,"g":[null,null,1.5]}]'
    _strict(text[1:])
    # python-socketio's own codec writes tokens that JSON.parse throws on
    with pytest.raises(ValueError, match="not JSON"):
        _strict(str(packet.Packet(packet.EVENT, data=["ev", math.nan]).encode())[1:])


def test_unicode_is_sent_as_utf8_and_read_back_from_either_codec() -> None:
    data = ["ev", {"s": 'é ☃ 😀 \u2028 \x00 "q" \\'}]
    ours = _encoded(data)
    assert "😀" in ours  # not escaped
    assert _strict(ours[1:]) == data
    assert packet.Packet(encoded_packet=ours).data == data
    assert PydanticPacket(encoded_packet=packet.Packet(packet.EVENT, data=data).encode()).data == data


def test_a_lone_surrogate_is_sent_escaped_and_accepted_when_received() -> None:
    data = ["ev", "x\ud800y"]
    ours = _encoded(data)
    assert "\\ud800" in ours
    assert PydanticPacket(encoded_packet=ours).data == data


def test_binary_attachments_exactly_as_python_socketio_does_them() -> None:
    data = ["ev", {"blob": b"\x00\xff", "list": [bytearray(b"ab"), 1]}]
    ours = PydanticPacket(packet.EVENT, data=data, id=3).encode()
    theirs = packet.Packet(packet.EVENT, data=data, id=3).encode()
    assert ours == theirs
    assert ours[0].startswith("52-3[")
    received = PydanticPacket(encoded_packet=ours[0])
    for attachment in ours[1:]:
        received.add_attachment(attachment)
    assert received.data == ["ev", {"blob": b"\x00\xff", "list": [b"ab", 1]}]


def test_what_json_cannot_hold_raises_type_error_as_before() -> None:
    with pytest.raises(TypeError):
        _encoded(["ev", {"x": object()}])
    with pytest.raises(TypeError):  # a manager's pub/sub message never writes bytes as text
        MESSAGE_JSON.dumps({"data": b"raw"})
    assert json.loads(MESSAGE_JSON.dumps({"f": math.nan})) == {"f": None}


# -- bounds on what is received ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH, True),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),  # the innermost holds nothing
        ("[" * (MAX_DEPTH + 1) + "1" + "]" * (MAX_DEPTH + 1), False),
        ('["\\ud800",' + "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH + "]", False),  # the fallback too
        ('["\\ud800",' + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "]", True),
        ("[" * 100_000 + "]" * 100_000, False),
        ("[" + "9" * MAX_INT_DIGITS + "]", True),
        ("[-" + "9" * (MAX_INT_DIGITS - 1) + "]", True),  # 100 characters with the sign
        ("[-" + "9" * MAX_INT_DIGITS + "]", False),  # 101: engine.io's peers refuse it too
        ("[" + "9" * (MAX_INT_DIGITS + 1) + "]", False),
        ("[" + "9" * 1_000_000 + "]", False),
        ('["' + "9" * 1_000 + '"]', True),  # digits in a string are text
        ('["\\ud800' + "[" * (MAX_DEPTH + 1) + '"]', True),  # inside a string: not nesting
        ('["ab\\udc00"]', True),  # a lone trailing surrogate after hex-looking text
        ('["\\u00e9\\udfff", "\\ud83d\\ude00"]', True),  # after an escape; and a real pair
        ("[1e400]", True),
        ("{]", False),
        ('["unterminated', False),
    ],
)
def test_received_payloads_are_bounded(text: str, accepted: bool) -> None:
    encoded = "21" + text
    if accepted:
        PydanticPacket(encoded_packet=encoded)
    else:
        with pytest.raises(ValueError) as caught:
            PydanticPacket(encoded_packet=encoded)
        assert getattr(caught.value, "id", None) == 1


# -- installation --------------------------------------------------------------------------------
def test_wrap_installs_the_codec_on_the_object_only() -> None:
    sio = socketio.AsyncServer(async_mode="asgi")
    other = socketio.AsyncServer(async_mode="asgi")
    wrap(sio)
    assert issubclass(sio.packet_class, PydanticPacket)  # type: ignore[arg-type]
    assert sio.manager.json is MESSAGE_JSON
    assert other.packet_class is packet.Packet and other.manager.json is engineio.json
    assert packet.Packet.json is engineio.json  # python-socketio's class is untouched
    client = socketio.AsyncClient()
    wrap(client)
    assert issubclass(client.packet_class, PydanticPacket)  # type: ignore[arg-type]
    sync = socketio.Server()
    wrap(sync)
    assert issubclass(sync.packet_class, PydanticPacket)  # type: ignore[arg-type]


def test_wrap_keeps_a_serializer_or_json_the_user_chose_and_can_opt_out() -> None:
    class Own(packet.Packet):
        pass

    class OwnJSON(packet.Packet):
        json = json

    own: Any = Own  # python-socketio annotates serializer as a str, and takes a class too
    for sio in (
        socketio.AsyncServer(async_mode="asgi", serializer=own),
        socketio.AsyncClient(serializer=own),
    ):
        wrap(sio)
        assert sio.packet_class is Own
    chosen_json = socketio.Server(serializer=cast(Any, OwnJSON))
    wrap(chosen_json)
    assert chosen_json.packet_class is OwnJSON
    plain = socketio.AsyncServer(async_mode="asgi")
    wrap(plain, codec=None)
    assert plain.packet_class is packet.Packet
    with pytest.raises(ValueError, match="codec must be"):
        wrap(socketio.AsyncServer(async_mode="asgi"), codec="orjson")  # type: ignore[arg-type]


def test_simple_clients_and_client_managers_get_the_codec() -> None:
    simple = socketio.AsyncSimpleClient()
    wrap(simple)
    assert simple.client_kwargs["serializer"] is PydanticPacket
    chosen = socketio.SimpleClient(serializer="msgpack")
    wrap(chosen)
    assert chosen.client_kwargs["serializer"] == "msgpack"
    manager = socketio.AsyncRedisManager("redis://127.0.0.1:6379/0", write_only=True)
    wrap(manager)
    assert manager.json is MESSAGE_JSON


# -- undecodable packets: answered when they asked for an ack ------------------------------------
def _serving(peer: Any) -> None:
    tsio = wrap(peer.sio)
    tsio.on("ping", lambda *args: {"pong": args[-1]} if peer.kind == "sync_server" else _echo(args))


async def _echo(args: tuple[Any, ...]) -> dict[str, Any]:
    return {"pong": args[-1]}


@pytest.mark.parametrize("kind", ["async_server", "sync_server", "async_client"])
async def test_an_undecodable_packet_with_an_ack_id_gets_a_400_and_one_log_entry(kind: str) -> None:
    peer = {"async_server": AsyncServerPeer, "sync_server": SyncServerPeer, "async_client": AsyncClientPeer}[
        kind
    ]()
    _serving(peer)
    await peer.connect()
    handle = peer.sio.eio.handlers["message"]
    lead = () if kind == "async_client" else ("eio-test",)

    async def message(text: str) -> None:
        result = handle(*lead, text)
        if result is not None and kind != "sync_server":
            await result

    with structlog.testing.capture_logs() as logs:
        await message('27["ping",' + "[" * 300 + "]" * 300 + "]")
        await message('2["ping",{]')  # no ack id: nothing to answer, still logged
    acks = peer.acks()
    assert len(acks) == 1 and acks[0].startswith("37[")
    problem = json.loads(acks[0][2:])[0]
    assert problem["status"] == 400 and problem["kind"] == "error"
    assert "recursion" in problem["detail"] or "nesting" in problem["detail"]
    failures = [entry for entry in logs if entry["event"] == "sio packet undecodable"]
    assert len(failures) == 2 and all(entry["log_level"] == "error" for entry in failures)
    # the connection keeps serving
    await message('28["ping","again"]')
    assert peer.acks()[-1] == '38[{"pong":"again"}]'
