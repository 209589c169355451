"""Connect and disconnect handlers: legacy signatures, refusals, typed auth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import socketio
import socketio.exceptions
import structlog
from pydantic import BaseModel

from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import EventContext, wrap

if TYPE_CHECKING:
    from tests.conftest import LiveServer


class AuthModel(BaseModel):
    token: str
    user: int


def refused_client() -> tuple[socketio.AsyncClient, Inbox]:
    client = socketio.AsyncClient(reconnection=False)
    errors = Inbox()
    client.on("connect_error", errors.put)
    return client, errors


async def assert_refused(url: str, client: socketio.AsyncClient, auth: Any = None) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError, match="One or more namespaces failed"):
        await client.connect(url, transports=["websocket"], auth=auth, wait_timeout=TIMEOUT)
    assert not client.connected


# -- disconnect ------------------------------------------------------------------------------------


async def test_legacy_one_argument_disconnect(live_server: LiveServer) -> None:
    tsio = new_server()
    gone = Inbox()

    @tsio.event
    async def disconnect(sid: str) -> None:
        gone.put(sid)

    @tsio.on("whoami")
    async def whoami(sid: str) -> str:
        return sid

    async with live_server(asgi_app(tsio)) as url:
        async with connected(url) as client:
            sid = await client.call("whoami", timeout=TIMEOUT)
        assert await gone.get() == sid


async def test_disconnect_with_reason(live_server: LiveServer) -> None:
    tsio = new_server()
    gone = Inbox()

    @tsio.event
    def disconnect(sid: str, reason: str) -> None:
        gone.put(reason)

    @tsio.on("whoami")
    async def whoami(sid: str) -> str:
        return sid

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        # a client's own disconnect reaches the server as "client disconnect" or "transport close"
        # depending on a race inside python-socketio; a server-side disconnect is deterministic
        await tsio.disconnect(await client.call("whoami", timeout=TIMEOUT))
        assert await gone.get() == tsio.reason.SERVER_DISCONNECT


# -- connect refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConnectionRefusedError("go away"), {"message": "Connection refused by server"}),
        (
            socketio.exceptions.ConnectionRefusedError("go away", {"code": 7}),
            {"message": "go away", "data": {"code": 7}},
        ),
    ],
    ids=["builtin", "socketio"],
)
async def test_connect_refusal(live_server: LiveServer, error: Exception, expected: Any) -> None:
    tsio = new_server()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        raise error

    @tsio.exception_handler(Exception)
    async def swallow(ctx: EventContext, exc: Exception) -> dict[str, str]:
        return {"accepted": "no"}

    async with live_server(asgi_app(tsio)) as url:
        client, errors = refused_client()
        await assert_refused(url, client)
        assert await errors.get() == expected


async def test_connect_failure_refuses_with_exception_handler_reply(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        raise ValueError("bad")

    @tsio.exception_handler(ValueError)
    def on_value_error(ctx: EventContext, exc: ValueError) -> dict[str, str]:
        return {"reason": f"{ctx.event}:{exc}"}

    async with live_server(asgi_app(tsio)) as url:
        client, errors = refused_client()
        await assert_refused(url, client)
        assert await errors.get() == {"message": "Connection refused", "data": {"reason": "connect:bad"}}


async def test_connect_unhandled_failure_refuses_with_500(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        raise RuntimeError("connect secret")

    async with live_server(asgi_app(tsio)) as url:
        client, errors = refused_client()
        with structlog.testing.capture_logs() as logs:
            await assert_refused(url, client)
        error = await errors.get()
        assert error["message"] == "Internal Server Error"
        assert error["data"]["status"] == 500
        assert "connect secret" not in str(error)
        assert [(e["sio_event"], e["outcome"]) for e in logs if e.get("outcome") == "error"] == [
            ("connect", "error")
        ]


async def test_typed_connect_auth(live_server: LiveServer) -> None:
    tsio = new_server()
    seen = Inbox()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any], auth: AuthModel) -> None:
        seen.put(auth)

    @tsio.on("ping")
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    async with live_server(asgi_app(tsio)) as url:
        for bad_auth, error_types in [
            ({"token": "hunter2", "user": "not-a-number"}, ["int_parsing"]),
            ({"token": "hunter2"}, ["missing"]),
            (None, ["model_type"]),
        ]:
            client, errors = refused_client()
            await assert_refused(url, client, auth=bad_auth)
            error = await errors.get()
            assert set(error) == {"message", "data"}
            assert error["message"] == "Unprocessable Content"
            problem = error["data"]
            assert (problem["kind"], problem["status"]) == ("error", 422)
            assert [e["type"] for e in problem["errors"]] == error_types
            assert "hunter2" not in str(error)
        assert seen.empty()

        async with connected(url, auth={"token": "t", "user": "5"}) as client:
            assert await seen.get() == AuthModel(token="t", user=5)
            assert await client.call("ping", {"message": "in"}, timeout=TIMEOUT) == {"reply": "in"}


async def test_connect_returning_false_refuses(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.event
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None = None) -> bool:
        return auth == {"let": "in"}

    async with live_server(asgi_app(tsio)) as url:
        client, errors = refused_client()
        await assert_refused(url, client, auth={"let": "out"})
        assert await errors.get() == {"message": "Connection rejected by server"}
        async with connected(url, auth={"let": "in"}) as accepted:
            assert accepted.connected


async def test_typed_auth_in_catch_all_namespace_and_typed_client_events(live_server: LiveServer) -> None:
    tsio = new_server(namespaces="*")
    events = Inbox()

    @tsio.on("connect", namespace="*")
    async def connect(namespace: str, sid: str, environ: dict[str, Any], auth: AuthModel) -> None:
        events.put(("server connect", namespace, auth))

    @tsio.on("disconnect", namespace="*")
    async def disconnect(namespace: str, sid: str, reason: str) -> None:
        events.put(("server disconnect", namespace, reason))

    def typed_client() -> Any:
        client = wrap(socketio.AsyncClient(reconnection=False))

        @client.event(namespace="/abc")
        async def connect_error(data: dict[str, Any]) -> None:
            events.put(("connect_error", data["message"], data["data"]["status"]))

        @client.event(namespace="/abc")
        def connect() -> None:
            events.put(("client connect",))

        return client

    async with live_server(asgi_app(tsio)) as url:
        bad = typed_client()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await bad.connect(
                url, namespaces=["/abc"], transports=["websocket"], auth={"token": 1, "user": 1}
            )
        assert await events.get() == ("connect_error", "Unprocessable Content", 422)

        good = typed_client()
        async with connected(url, good, namespaces=["/abc"], auth={"token": "t", "user": 2}):
            received = [await events.get(), await events.get()]
            assert sorted(received, key=str) == [
                ("client connect",),
                ("server connect", "/abc", AuthModel(token="t", user=2)),
            ]
            await tsio.disconnect(good.get_sid("/abc"), namespace="/abc")
            assert await events.get() == ("server disconnect", "/abc", tsio.reason.SERVER_DISCONNECT)
