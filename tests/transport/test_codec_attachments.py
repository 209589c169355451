"""Binary packets the codec refuses leave nothing behind: the header's attachments are dropped,
a pending packet whose attachment cannot be added is forgotten, and the caller gets a 400."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import structlog

from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server
from zndraw_socketio.transport.codec import MAX_INT_DIGITS

if TYPE_CHECKING:
    from tests.conftest import LiveServer

TOO_BIG = 10**MAX_INT_DIGITS  # 101 digits


def blob_server() -> Any:
    tsio = new_server()

    @tsio.on("blob")
    async def blob(sid: str, *args: Any) -> int:
        return len(args)

    @tsio.on("health")
    async def health(sid: str) -> str:
        return "ok"

    return tsio


def undecodable(logs: list[Any]) -> list[Any]:
    return [e for e in logs if e.get("error") == "UndecodablePacket"]


@pytest.mark.parametrize(
    "args",
    [
        (b"\x00", b"\x01", b"\x02", TOO_BIG),  # a refused header announcing three attachments
        (b"", "n", TOO_BIG),  # an empty attachment
    ],
    ids=["three-attachments", "empty-attachment"],
)
async def test_the_attachments_of_a_refused_header_are_dropped(live_server: LiveServer, args: Any) -> None:
    async with live_server(asgi_app(blob_server())) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call("blob", args, timeout=TIMEOUT)
            assert await client.call("health", timeout=TIMEOUT) == "ok"
            assert await client.call("blob", (b"a", b"b"), timeout=TIMEOUT) == 2
        assert reply["status"] == 400
        assert len(undecodable(logs)) == 1  # one entry for the packet, none per attachment
        assert [e for e in logs if e.get("outcome") == "error"] == undecodable(logs)


@pytest.mark.parametrize("num", [1, "0", None, -5], ids=repr)
async def test_a_placeholder_without_its_attachment_is_answered(live_server: LiveServer, num: Any) -> None:
    async with live_server(asgi_app(blob_server())) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call(
                "blob", (b"x", "n", [{"_placeholder": True, "num": num}]), timeout=TIMEOUT
            )
            assert await client.call("health", timeout=TIMEOUT) == "ok"
            assert await client.call("blob", (b"a",), timeout=TIMEOUT) == 1
        assert reply["status"] == 400 and "bad binary attachment" in reply["detail"]
        assert len(undecodable(logs)) == 1
