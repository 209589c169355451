"""The websocket read and write loops of an asyncio engine.io client that await each packet in
place, installed per instance (the client half of what ``websocket_loop.py`` describes).

``install_client_loops(eio)`` shadows the client's ``_read_loop_websocket`` and ``_write_loop`` on
the instance; its write loop over long-polling stays engine.io's.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from engineio import base_client
from engineio import packet as eio_packet

__all__ = ["client_loop_needs", "install_client_loops"]

_INSTALLED = "_zndraw_websocket_loop"

_SETTLE_TURNS = 8


async def _settle() -> None:
    """Turns of the event loop before the client's read loop reports the connection's end, so
    that the handlers its last packets started, and what they wake, run first. engine.io's loop
    spent three more turns on every packet, and python-socketio relies on that: its client's
    ``connect()`` resumes three turns after the CONNECT reply is handled, and a disconnect
    reported before then is lost (the client would stay "connected" to a closed transport). Eight
    turns: twice what that needs. The server's loop needs none: engine.io hands it each packet to
    handle in place."""
    for _ in range(_SETTLE_TURNS):
        await asyncio.sleep(0)


def client_loop_needs(sio: Any) -> str | None:
    """What ``install_client_loops`` needs of ``sio.eio`` (see ``patches.py``)."""
    eio = getattr(sio, "eio", None)
    for name in (
        "_read_loop_websocket",
        "_write_loop",
        "_receive_packet",
        "_reset",
        "_trigger_event",
        "queue_empty",
        "reason",
        "state",
        "current_transport",
    ):
        if not hasattr(eio, name):
            return f"the engine.io client has no {name!r}"
    if not hasattr(base_client, "connected_clients"):
        return "engine.io's base_client keeps no connected_clients"
    return None


def install_client_loops(eio: Any) -> None:
    """Give the asyncio engine.io client ``eio`` the read and write loops of this module (once)."""
    if getattr(eio, _INSTALLED, False):
        return
    own_write_loop = eio._write_loop

    async def read_loop() -> None:
        await _client_read(eio)

    async def write_loop() -> None:
        if eio.current_transport != "websocket":
            await own_write_loop()
            return
        await _client_write(eio)

    eio._read_loop_websocket = read_loop
    eio._write_loop = write_loop
    setattr(eio, _INSTALLED, True)


async def _client_read(client: Any) -> None:
    """Read packets from the client's websocket until it closes, fails or goes silent."""
    import aiohttp  # the asyncio engine.io client's own transport

    closing = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING)
    while client.state == "connected" and client.write_loop_task:
        try:
            async with asyncio.timeout(client.ping_interval + client.ping_timeout):
                message = await client.ws.receive()
            if not isinstance(message.data, (str, bytes)):
                client.logger.warning(
                    "Server sent %s packet data %s, aborting",
                    "close" if message.type in closing else str(message.type),
                    str(message.data),
                )
                await client.queue.put(None)
                break  # the connection is broken
            data = message.data
        except TimeoutError:
            client.logger.warning("Server has stopped communicating, aborting")
            await client.queue.put(None)
            break
        except aiohttp.ServerDisconnectedError:
            client.logger.info("Read loop: WebSocket connection was closed, aborting")
            await client.queue.put(None)
            break
        except Exception as exc:
            client.logger.info('Unexpected error receiving packet: "%s", aborting', str(exc))
            await client.queue.put(None)
            break
        try:
            pkt = eio_packet.Packet(encoded_packet=data)
        except Exception as exc:
            client.logger.info('Unexpected error decoding packet: "%s", aborting', str(exc))
            await client.queue.put(None)
            break
        await client._receive_packet(pkt)

    await _settle()
    if client.write_loop_task:
        client.logger.info("Waiting for write loop task to end")
        await client.write_loop_task
    if client.state == "connected":
        await client._trigger_event("disconnect", client.reason.TRANSPORT_ERROR, run_async=False)
        with contextlib.suppress(ValueError):  # removed by a disconnect() meanwhile
            base_client.connected_clients.remove(client)
        await client._reset()
    client.logger.info("Exiting read loop task")


async def _client_write(client: Any) -> None:
    """Send the packets queued on the client over its websocket, as they are queued, until the
    queue says to stop (``None``), stays empty past the ping timeout, or a send fails."""
    import aiohttp  # the asyncio engine.io client's own transport

    queue = client.queue
    closed = (aiohttp.ServerDisconnectedError, BrokenPipeError, OSError)
    while client.state == "connected":
        try:  # the larger of the ping interval and timeout, and 5 s of grace, as engine.io waits
            async with asyncio.timeout(max(client.ping_interval, client.ping_timeout) + 5):
                first = await queue.get()
        except (client.queue_empty, TimeoutError):
            client.logger.error("packet queue is empty, aborting")
            break
        except asyncio.CancelledError:  # pragma: no cover - as engine.io's loop: it ends
            break
        if first is None:  # the signal to end
            queue.task_done()
            break
        packets = [first]
        while True:  # everything else already queued goes out in the same turn
            try:
                packets.append(queue.get_nowait())
            except client.queue_empty:
                break
            if packets[-1] is None:
                packets.pop()
                queue.task_done()
                break
        try:
            for pkt in packets:
                if pkt.binary:
                    await client.ws.send_bytes(pkt.encode())
                else:
                    await client.ws.send_str(pkt.encode())
                queue.task_done()
        except closed:
            client.logger.info("Write loop: WebSocket connection was closed, aborting")
            break
    client.logger.info("Exiting write loop task")
    client.write_loop_task = None
