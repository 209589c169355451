"""Shutdown and cancellation: in-flight handlers get a grace period, the rest are cancelled with
their dependencies closed and answered with a 503; a cancelled handler is not a crash."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import socketio
import structlog

from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server
from zndraw_socketio import Depends

if TYPE_CHECKING:
    from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def unavailable(event: str, detail: str = "the handler was cancelled before it replied") -> dict[str, Any]:
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": detail,
        "instance": event,
    }


async def test_a_handler_that_raises_cancelled_error_gets_a_503_not_an_empty_ack(
    live_server: LiveServer,
) -> None:
    tsio = new_server()

    @tsio.on("gives_up")
    async def gives_up(sid: str, text: str) -> str:
        raise asyncio.CancelledError

    @tsio.on("typed_gives_up")
    async def typed_gives_up(sid: str) -> str:
        await asyncio.sleep(0)
        raise asyncio.CancelledError

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            assert await client.call("gives_up", "x", timeout=TIMEOUT) == unavailable("gives_up")
            assert await client.call("typed_gives_up", timeout=TIMEOUT) == unavailable("typed_gives_up")
        failures = [e for e in logs if e.get("outcome") == "error"]
        assert [(e["sio_event"], e["error"]) for e in failures] == [
            ("gives_up", "CancelledError"),
            ("typed_gives_up", "CancelledError"),
        ]
        assert all(e.get("exc_info") is None for e in failures)  # not logged as a crash


async def test_shutdown_lets_quick_handlers_reply_and_cancels_the_rest(live_server: LiveServer) -> None:
    tsio = new_server()
    closed: list[str] = []

    async def resource() -> AsyncIterator[str]:
        try:
            yield "held"
        finally:
            closed.append("closed")

    @tsio.on("quick")
    async def quick(sid: str, text: str) -> str:
        await asyncio.sleep(0.3)
        return f"done {text}"

    @tsio.on("stuck")
    async def stuck(sid: str, text: str, held: str = Depends(resource)) -> str:
        await asyncio.sleep(3600)
        return "never"

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            calls = [
                asyncio.create_task(client.call("quick", "a", timeout=TIMEOUT)),
                asyncio.create_task(client.call("stuck", "b", timeout=TIMEOUT)),
                asyncio.create_task(client.call("quick", "c", timeout=TIMEOUT)),
            ]
            await asyncio.sleep(0.1)
            start = time.perf_counter()
            await tsio.shutdown(grace=1.0)
            took = time.perf_counter() - start
            replies = await asyncio.gather(*calls)
            # a new event after the shutdown began: refused at once, no handler runs
            late = await client.call("quick", "d", timeout=TIMEOUT)
            await tsio.shutdown(grace=1.0)  # again: nothing more to do
        assert replies == ["done a", unavailable("stuck"), "done c"]
        assert late == unavailable("quick", "the server is shutting down")
        assert closed == ["closed"]
        assert 0.9 <= took < 3.0
        [summary] = [e for e in logs if e["event"] == "sio shutdown"]
        assert (summary["in_flight"], summary["finished"], summary["cancelled"]) == (3, 2, 1)
        assert [(e["sio_event"], e["error"]) for e in logs if e.get("outcome") == "error"] == [
            ("stuck", "CancelledError"),
            ("quick", "ShuttingDown"),
        ]
        assert all(e.get("exc_info") is None for e in logs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


async def test_sigterm_under_uvicorn_drains_before_the_connections_close() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: ASYNC220 - a child process that lives through the test
        [sys.executable, "-m", "tests.support.shutdown_app", str(port), "1.5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 20)
        assert ready.strip() == "ready", ready
        await wait_for_port(port)
        client = socketio.AsyncClient()
        await client.connect(f"http://127.0.0.1:{port}", transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            quick = asyncio.create_task(client.call("quick", "a", timeout=TIMEOUT))
            stuck = asyncio.create_task(client.call("stuck", "b", timeout=TIMEOUT))
            await asyncio.sleep(0.2)
            start = time.perf_counter()
            process.send_signal(signal.SIGTERM)
            assert await quick == "done a"
            assert await stuck == unavailable("stuck")
            assert 1.2 <= time.perf_counter() - start < 5.0
        finally:
            await client.disconnect()
        out, err = await asyncio.to_thread(process.communicate, timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = out.splitlines()
    assert "dependency closed" in lines
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    [summary] = [e for e in entries if e["event"] == "sio shutdown"]
    assert (summary["in_flight"], summary["finished"], summary["cancelled"]) == (2, 1, 1)
    assert "Traceback" not in out + err, out + err
    assert process.returncode in (0, -signal.SIGTERM), (process.returncode, err)
