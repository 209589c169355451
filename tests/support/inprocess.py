"""In-process socket.io peers: python-socketio's own packet handling with engine.io stubbed.

A peer is a real python-socketio server or client whose engine.io transport is replaced by a
recorder: packets are fed to ``_handle_eio_message`` as a remote peer would send them, and what
socketio would send back (acks, emits) is recorded as encoded text. No network, no event loop
tricks: events run through socketio's decoding, handler lookup and ack encoding.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import socketio
from socketio import packet

EIO_SID = "eio-test"
ENVIRON = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "testserver", "QUERY_STRING": ""}


def event_packet(event: str, *args: Any, ack: int | None = 1) -> str:
    """The text of an EVENT packet for namespace ``/`` (with ack id ``ack``)."""
    return f"2{'' if ack is None else ack}{json.dumps([event, *args], separators=(',', ':'))}"


class Peer:
    """What every in-process peer records: the encoded packets socketio sent, in order."""

    sio: Any
    sent: list[str]
    kind: str
    sid: Any = None
    answer_calls: Any = None
    """A reply given to every EVENT packet with an ack id that this peer sends (for ``call``)."""

    def record(self, data: Any) -> None:
        self.sent.append(data if isinstance(data, str) else repr(data))

    async def connect(self) -> None:
        """Connect the peer to namespace ``/``."""
        raise NotImplementedError

    async def feed(self, text: str) -> None:
        """Hand ``text`` to socketio as a packet from the remote peer."""
        raise NotImplementedError

    def maybe_answer(self, text: Any) -> None:
        """Answer an EVENT packet this peer sent with an ack id, as the remote peer would."""
        if self.answer_calls is None or not isinstance(text, str) or not text.startswith("2"):
            return
        pkt = self.sio.packet_class(encoded_packet=text)
        if pkt.id is None:
            return
        reply = self.sio.packet_class(
            packet.ACK, namespace=pkt.namespace, id=pkt.id, data=[self.answer_calls]
        )
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.feed(reply.encode())))

    def acks(self) -> list[str]:
        """The ACK packets sent so far."""
        return [p for p in self.sent if p.startswith("3")]


class AsyncServerPeer(Peer):
    """An ``AsyncServer`` with one connected client (its sid in ``sid``)."""

    kind = "async_server"

    def __init__(self, server_class: type[socketio.AsyncServer] = socketio.AsyncServer) -> None:
        self.sio = server_class(async_mode="asgi", async_handlers=False)
        self.sent: list[str] = []
        self.sid = ""
        eio = self.sio.eio

        async def send(eio_sid: str, data: Any) -> None:  # acks, and emits with a callback
            self.record(data)
            self.maybe_answer(data)

        async def send_packet(eio_sid: str, pkt: Any) -> None:
            self.record(pkt.data)
            self.maybe_answer(pkt.data)

        eio.send = send
        eio.send_packet = send_packet

    async def connect(self) -> None:
        await self.sio._handle_eio_connect(EIO_SID, dict(ENVIRON))
        await self.sio._handle_eio_message(EIO_SID, "0")
        sid = self.sio.manager.sid_from_eio_sid(EIO_SID, "/")
        assert sid is not None
        self.sid = sid

    async def feed(self, text: str) -> None:
        await self.sio._handle_eio_message(EIO_SID, text)


class AsyncClientPeer(Peer):
    """An ``AsyncClient`` connected to namespace ``/`` of an imaginary server."""

    kind = "async_client"

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient()
        self.sent: list[str] = []
        self.sid = None

        async def send(data: Any) -> None:
            self.record(data)
            self.maybe_answer(data)

        self.sio.eio.send = send

    async def connect(self) -> None:
        self.sio.connected = True
        self.sio._connect_event = asyncio.Event()
        await self.sio._handle_eio_message('0{"sid":"client-sid"}')

    async def feed(self, text: str) -> None:
        await self.sio._handle_eio_message(text)


class SyncServerPeer(Peer):
    """A ``Server`` (the synchronous face) with one connected client."""

    kind = "sync_server"

    def __init__(self) -> None:
        self.sio = socketio.Server(async_handlers=False)
        self.sent: list[str] = []
        self.sid = ""
        eio = self.sio.eio

        def send(eio_sid: str, data: Any) -> None:
            self.record(data)

        def send_packet(eio_sid: str, pkt: Any) -> None:
            self.record(pkt.data)

        eio.send = send
        eio.send_packet = send_packet

    async def connect(self) -> None:
        self.sio._handle_eio_connect(EIO_SID, dict(ENVIRON))
        self.sio._handle_eio_message(EIO_SID, "0")
        sid = self.sio.manager.sid_from_eio_sid(EIO_SID, "/")
        assert sid is not None
        self.sid = sid

    async def feed(self, text: str) -> None:
        self.sio._handle_eio_message(EIO_SID, text)


PEERS: dict[str, type[Peer]] = {
    "async_server": AsyncServerPeer,
    "async_client": AsyncClientPeer,
    "sync_server": SyncServerPeer,
}
