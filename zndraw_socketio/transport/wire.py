"""Installing the wire codec (``codec.py``) on one socketio object, as ``wrap()`` does.

Only the object given is changed, never python-socketio's classes: its ``packet_class`` (servers
and clients; a simple client's ``serializer`` for the client it makes when it connects), its
client manager's ``json``, and, on servers and clients, the engine.io ``message`` handler, which
answers an undecodable packet that asked for an ack with a 400 problem detail. A serializer or a
JSON module the user chose is kept.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from .bounds import Bounds
from .codec import (
    MESSAGE_JSON,
    PydanticPacket,
    UndecodablePacket,
    answer_undecodable,
    bounded_packet_class,
    chosen_by_user,
    is_default_json,
)

__all__ = ["install_codec"]


def install_codec(sio: Any, options: Any = None) -> None:
    """Give ``sio`` pydantic-core's JSON on the wire, unless its user chose a serializer, with
    the binary bounds of ``options.bounds`` (``Bounds()`` by default)."""
    bounds: Bounds = getattr(options, "bounds", None) or Bounds()
    if isinstance(sio, (socketio.AsyncSimpleClient, socketio.SimpleClient)):
        kwargs = sio.client_kwargs
        if "serializer" not in kwargs and "json" not in kwargs:
            kwargs["serializer"] = PydanticPacket
        return
    if isinstance(sio, (socketio.AsyncManager, socketio.Manager)):
        _manager_json(sio)
        return
    if chosen_by_user(sio.packet_class, sio.packet_class.json):
        return
    byte_limit = bounds.max_attachment_bytes
    if byte_limit is None:
        byte_limit = getattr(sio.eio, "max_http_buffer_size", None) or 1_000_000
    sio.packet_class = bounded_packet_class(bounds.max_attachments, byte_limit, bounds.attachment_timeout)
    manager = getattr(sio, "manager", None)
    if manager is not None:
        _manager_json(manager)
    _guard_messages(sio, bounds.attachment_timeout)


def _manager_json(manager: Any) -> None:
    if is_default_json(getattr(manager, "json", None)):
        manager.json = MESSAGE_JSON


def _guard_messages(sio: Any, timeout: float) -> None:
    """Wrap the engine.io ``message`` handler of ``sio`` so that an undecodable packet is logged
    once and, when it carries an ack id, answered with a 400 problem detail.

    A refused packet leaves no half-received binary packet behind: the pending one (whose
    attachment could not be added) is dropped, and the attachments a refused header announced
    are dropped as they arrive instead of being read as packets of their own. On an async
    server, a partial binary packet still waiting for attachments after ``timeout`` seconds is
    dropped the same way, even when nothing more arrives.
    """
    eio = sio.eio
    handle = eio.handlers.get("message")
    if handle is None:  # pragma: no cover - python-socketio always registers one
        return
    server = isinstance(sio, (socketio.AsyncServer, socketio.Server))
    is_async = isinstance(sio, (socketio.AsyncServer, socketio.AsyncClient))
    orphans: dict[Any, int] = {}  # engine.io sid (None on a client) -> attachments still to drop

    def orphaned(args: tuple[Any, ...]) -> bool:
        """True (and one fewer to drop) when this message is an attachment of a refused header."""
        key = args[0] if server else None
        left = orphans.get(key)
        if not left or not isinstance(args[-1], (bytes, bytearray)):
            return False
        if left == 1:
            del orphans[key]
        else:
            orphans[key] = left - 1
        return True

    def answer(args: tuple[Any, ...], exc: UndecodablePacket) -> Any:
        """Forget the packet, log ``exc`` and send the 400 reply when its namespace is connected."""
        eio_sid = args[0] if server else None
        if server:
            sio._binary_packet.pop(eio_sid, None)
        else:
            sio._binary_packet = None
        if exc.attachments:
            if len(orphans) >= _MAX_ORPHANED:  # connections that left before their attachments
                orphans.clear()
            orphans[eio_sid] = exc.attachments
        namespace = exc.namespace or "/"
        sid = sio.manager.sid_from_eio_sid(eio_sid, namespace) if server else None
        connected = sid is not None if server else namespace in sio.namespaces

        def send(pkt: Any) -> Any:
            if not connected:
                return None
            return sio._send_packet(eio_sid, pkt) if server else sio._send_packet(pkt)

        return answer_undecodable(exc, sid, send)

    def expire(eio_sid: Any, pkt: Any) -> None:
        """Drop ``pkt`` if it is still the connection's partial packet, as a refused one."""
        if sio._binary_packet.get(eio_sid) is not pkt:
            return
        left = pkt.attachment_count - len(pkt.attachments)
        exc = UndecodablePacket(
            f"binary attachments still missing after {timeout:g} s", pkt.id, pkt.namespace, left
        )
        sent = answer((eio_sid, None), exc)
        if sent is not None:
            replying = asyncio.ensure_future(sent)
            replies.add(replying)
            replying.add_done_callback(replies.discard)

    replies: set[asyncio.Future[Any]] = set()  # 400 replies to expired packets, while sent

    def watch_partial(eio_sid: Any) -> None:
        """Start the timeout of a partial binary packet the message just left pending."""
        pkt = sio._binary_packet.get(eio_sid)
        if pkt is not None and not getattr(pkt, "_expiry", None):
            pkt._expiry = asyncio.get_running_loop().call_later(timeout, expire, eio_sid, pkt)

    if is_async:

        async def message_async(*args: Any) -> Any:
            if orphans and orphaned(args):
                return None
            try:
                result = await handle(*args)
            except UndecodablePacket as exc:
                sent = answer(args, exc)
                if sent is not None:
                    await sent
                return None
            if server and sio._binary_packet:
                watch_partial(args[0])
            return result

        eio.on("message", message_async)
        return

    def message(*args: Any) -> Any:
        if orphans and orphaned(args):
            return None
        try:
            return handle(*args)
        except UndecodablePacket as exc:
            answer(args, exc)

    eio.on("message", message)


_MAX_ORPHANED = 10_000
