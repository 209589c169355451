"""Hostile peers for the bounds tests and measurements: a websocket client written by hand over a
raw TCP socket that stops reading, with a small receive buffer."""

from __future__ import annotations

import asyncio
import base64
import os
import socket


def ws_frame(payload: str | bytes) -> bytes:
    """One masked websocket frame (text for ``str``, binary for ``bytes``), as a client sends it."""
    data = payload.encode() if isinstance(payload, str) else payload
    opcode = 0x81 if isinstance(payload, str) else 0x82
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    size = len(data)
    if size < 126:
        head = bytes([opcode, 0x80 | size])
    elif size < 65536:
        head = bytes([opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + mask + masked


async def stalled_websocket(url: str, *messages: str) -> asyncio.StreamWriter:
    """Open an engine.io websocket to ``url``, connect to namespace ``/``, send ``messages`` (raw
    engine.io text, e.g. ``'421["join"]'``), and never read again; close the returned writer."""
    host, port = url.split("//", 1)[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    for message in ("40", *messages):
        writer.write(ws_frame(message))
    await writer.drain()
    return writer
