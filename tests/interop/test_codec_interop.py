"""The wire codec against other peers over loopback: python-socketio with its own codec, and the
official JavaScript ``socket.io-client`` run by node; and hostile packets from a connected client."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import structlog

from tests.asyncapi.support import missing_tool
from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server, record_sids
from zndraw_socketio import AsyncServerWrapper, wrap
from zndraw_socketio.transport.codec import PydanticPacket

if TYPE_CHECKING:
    from tests.conftest import LiveServer

HERE = Path(__file__).parent
SOCKET_IO_CLIENT = HERE.parent / "typescript" / "node" / "node_modules" / "socket.io-client"
PAYLOAD = {"s": 'é ☃ 😀 \u2028 "q"', "f": 1.5, "n": -0.25, "big": 2**53 - 1, "nested": [[{"a": None}]]}


def _server() -> AsyncServerWrapper:
    tsio = new_server()

    @tsio.on("echo")
    async def echo(sid: str, data: Any) -> Any:
        return data

    @tsio.on("floats")
    async def floats(sid: str) -> dict[str, float]:
        return {"nan": math.nan, "inf": math.inf, "ok": 2.5}

    @tsio.on("call-me")
    async def call_me(sid: str, data: dict[str, Any]) -> Any:
        await tsio.emit("pushed", {"x": -math.inf}, to=sid)
        return await tsio.call("ask", data, to=sid, timeout=TIMEOUT)

    return tsio


# -- python-socketio with the standard library's codec, both directions ---------------------------
async def test_a_plain_python_socketio_client_and_a_wrapped_server(live_server: LiveServer) -> None:
    tsio = _server()
    async with live_server(asgi_app(tsio)) as url, connected(url) as plain:
        assert plain.packet_class is not PydanticPacket
        assert await plain.call("echo", PAYLOAD, timeout=TIMEOUT) == PAYLOAD
        sent_nan = await plain.call("echo", {"f": math.nan, "blob": b"\x00\xff"}, timeout=TIMEOUT)
        assert sent_nan == {"f": None, "blob": b"\x00\xff"}
        assert await plain.call("floats", timeout=TIMEOUT) == {"nan": None, "inf": None, "ok": 2.5}


async def test_a_wrapped_client_and_a_plain_python_socketio_server(live_server: LiveServer) -> None:
    plain = socketio.AsyncServer(async_mode="asgi")
    received: asyncio.Queue[Any] = asyncio.Queue()

    async def echo(sid: str, data: Any) -> Any:
        received.put_nowait(data)
        return data

    plain.on("echo", echo)

    client = wrap(socketio.AsyncClient())
    app = socketio.ASGIApp(plain)
    async with live_server(app) as url, connected(url, client):
        assert await client.call("echo", PAYLOAD, timeout=TIMEOUT) == PAYLOAD
        reply = await client.call("echo", {"f": math.inf, "blob": b"\x01"}, timeout=TIMEOUT)
        assert reply == {"f": None, "blob": b"\x01"}
        assert (await received.get()) == PAYLOAD


# -- the official JavaScript client --------------------------------------------------------------
@pytest.mark.parametrize("connect", ["websocket", "upgrade"])
async def test_the_javascript_socket_io_client_and_a_wrapped_server(
    live_server: LiveServer, connect: str
) -> None:
    """Over a websocket from the start, and after the client's default upgrade from long-polling
    (the path of a browser), which the wrapped server's websocket loop handles."""
    node = shutil.which("node")
    if node is None or not (SOCKET_IO_CLIENT / "package.json").is_file():
        missing_tool("node and socket.io-client are needed: run `npm ci` in tests/typescript/node")
    tsio = _server()
    async with live_server(asgi_app(tsio)) as url:
        process = await asyncio.create_subprocess_exec(
            str(node),
            str(HERE / "client.cjs"),
            url,
            connect,
            env={"SOCKET_IO_CLIENT": str(SOCKET_IO_CLIENT), "PATH": "/usr/bin:/bin"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
    checks = {line["check"]: line["value"] for line in map(json.loads, out.decode().strip().split("\n"))}
    assert process.returncode == 0, err.decode()
    assert "error" not in checks, checks
    assert checks["transport"] == "websocket"
    assert checks["echo"] == PAYLOAD
    assert checks["nan"] == {"f": None}
    assert checks["blob"] == {"isBuffer": True, "bytes": [0, 1, 255]}
    assert checks["floats"] == {"nan": None, "inf": None, "ok": 2.5}  # JSON.parse did not throw
    assert checks["called"] == {"got": {"k": "ü"}}
    assert checks["pushed"] == {"x": None}


# -- hostile packets over a real connection ------------------------------------------------------
async def _raw_call(client: socketio.AsyncClient, body: str) -> Any:
    """Send the EVENT packet text ``body`` (after its type and ack id) and wait for the ack."""
    answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    ack_id = client._generate_ack_id("/", lambda *args: answered.set_result(args))
    await client.eio.send(f"2{ack_id}{body}")
    return await asyncio.wait_for(answered, TIMEOUT)


async def test_undecodable_packets_are_answered_and_nobody_else_notices(live_server: LiveServer) -> None:
    tsio = _server()
    sids = record_sids(tsio)
    async with (
        live_server(asgi_app(tsio)) as url,
        connected(url) as hostile,
        connected(url, wrap(socketio.AsyncClient())) as bystander,
    ):
        await sids.get()
        await sids.get()
        with structlog.testing.capture_logs() as logs:
            for body in (
                '["echo",' + "[" * 5_000 + "]" * 5_000 + "]",
                '["echo",' + "9" * 10_000 + "]",
                '["echo",{"a":]',
            ):
                (problem,) = await _raw_call(hostile, body)
                assert problem["status"] == 400 and problem["kind"] == "error"
                assert len(json.dumps(problem)) < 600  # bounded, whatever the input
            assert await hostile.call("echo", {"still": "serving"}, timeout=TIMEOUT) == {"still": "serving"}
            assert await bystander.call("echo", [1], timeout=TIMEOUT) == [1]
        refused = [entry for entry in logs if entry["event"] == "sio packet undecodable"]
        assert len(refused) == 3
        assert all("9999" not in json.dumps(entry, default=str) for entry in refused)
