"""Installing the wire codec (``codec.py``) on one socketio object, as ``wrap()`` does.

Only the object given is changed, never python-socketio's classes: its ``packet_class`` (servers
and clients; a simple client's ``serializer`` for the client it makes when it connects), its
client manager's ``json``, and, on servers and clients, the engine.io ``message`` handler, which
answers an undecodable packet that asked for an ack with a 400 problem detail. A serializer or a
JSON module the user chose is kept.
"""

from __future__ import annotations

from typing import Any

import socketio

from .codec import (
    MESSAGE_JSON,
    PydanticPacket,
    UndecodablePacket,
    answer_undecodable,
    chosen_by_user,
    is_default_json,
)

__all__ = ["install_codec"]


def install_codec(sio: Any) -> None:
    """Give ``sio`` pydantic-core's JSON on the wire, unless its user chose a serializer."""
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
    sio.packet_class = PydanticPacket
    manager = getattr(sio, "manager", None)
    if manager is not None:
        _manager_json(manager)
    _guard_messages(sio)


def _manager_json(manager: Any) -> None:
    if is_default_json(getattr(manager, "json", None)):
        manager.json = MESSAGE_JSON


def _guard_messages(sio: Any) -> None:
    """Wrap the engine.io ``message`` handler of ``sio`` so that an undecodable packet is logged
    once and, when it carries an ack id, answered with a 400 problem detail.

    A refused packet leaves no half-received binary packet behind: the pending one (whose
    attachment could not be added) is dropped, and the attachments a refused header announced
    are dropped as they arrive instead of being read as packets of their own.
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

    if is_async:

        async def message_async(*args: Any) -> Any:
            if orphans and orphaned(args):
                return None
            try:
                return await handle(*args)
            except UndecodablePacket as exc:
                sent = answer(args, exc)
                if sent is not None:
                    await sent

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
