"""The request object handlers and dependencies get, over real sockets.

No ``from __future__ import annotations``: handlers are defined inside the tests.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import fastapi
import pytest
import socketio
import starlette.requests
from fastapi import FastAPI
from starlette.datastructures import State

from zndraw_socketio import AsyncClientWrapper, AsyncServerWrapper, Depends, SioRequest, wrap

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.timeout(20)

HEADERS = {"X-Token": "abc123", "Cookie": "session=s-1; theme=dark"}
AUTH = {"user": "alice", "roles": ["admin"]}


def make_server() -> tuple[AsyncServerWrapper, socketio.ASGIApp]:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    return tsio, socketio.ASGIApp(tsio.sio, other_asgi_app=FastAPI())


def app_with(x: str) -> FastAPI:
    app = FastAPI()
    app.state.x = x
    return app


@asynccontextmanager
async def connected(
    url: str, *, headers: dict[str, str] | None = None, auth: Any = None
) -> AsyncIterator[socketio.AsyncClient]:
    client = socketio.AsyncClient()
    # a copy: engine.io moves the Cookie header out of the dict it is given
    await client.connect(
        url, transports=["websocket"], headers=dict(headers or {}), auth=auth, wait_timeout=5
    )
    try:
        yield client
    finally:
        await client.disconnect()


def describe(request: Any) -> dict[str, Any]:
    """What a request says about the connection, as JSON-able data."""
    return {
        "type": type(request).__name__,
        "app_x": request.app.state.x,
        "token": request.headers["x-token"],
        "cookies": dict(request.cookies),
        "client": [request.client.host, request.client.port],
        "url": [request.url.scheme, request.url.hostname, request.url.port, request.url.path],
        "url_query": dict(part.split("=", 1) for part in request.url.query.split("&")),
        "query_params": dict(request.query_params),
        "scope": [
            request.scope["type"],
            request.scope["path"],
            dict(request.scope["headers"])[b"x-token"].decode(),
        ],
        "auth": request.auth,
        "state_is_state": isinstance(request.state, State),
    }


def from_fastapi(request: fastapi.Request) -> dict[str, Any]:
    return describe(request)


def from_starlette(request: starlette.requests.Request) -> dict[str, Any]:
    return describe(request)


async def from_sio(request: SioRequest) -> dict[str, Any]:
    return describe(request)


def register_describers(tsio: AsyncServerWrapper) -> None:
    """Six events: each request type, received by a handler and by a dependency."""

    @tsio.on("handler_fastapi")
    async def handler_fastapi(sid: str, data: int, request: fastapi.Request) -> dict[str, Any]:
        return describe(request)

    @tsio.on("handler_starlette")
    def handler_starlette(sid: str, data: int, request: starlette.requests.Request) -> dict[str, Any]:
        return describe(request)

    @tsio.on("handler_sio")
    async def handler_sio(sid: str, data: int, request: SioRequest) -> dict[str, Any]:
        return describe(request)

    @tsio.on("dep_fastapi")
    async def dep_fastapi(sid: str, data: int, d: Annotated[dict[str, Any], Depends(from_fastapi)]) -> Any:
        return d

    @tsio.on("dep_starlette")
    async def dep_starlette(
        sid: str, data: int, d: Annotated[dict[str, Any], Depends(from_starlette)]
    ) -> Any:
        return d

    @tsio.on("dep_sio")
    async def dep_sio(sid: str, data: int, d: Annotated[dict[str, Any], Depends(from_sio)]) -> Any:
        return d


EVENTS = ["handler_fastapi", "handler_starlette", "handler_sio", "dep_fastapi", "dep_starlette", "dep_sio"]


@pytest.mark.parametrize("with_connect_handler", [False, True], ids=["no-connect-handler", "connect-handler"])
@pytest.mark.parametrize("event", EVENTS)
async def test_request_describes_the_connection(
    live_server: "LiveServer", event: str, with_connect_handler: bool
) -> None:
    tsio, asgi = make_server()
    connects: list[Any] = []
    if with_connect_handler:

        @tsio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
            connects.append(auth)

    register_describers(tsio)
    tsio.app = app_with("first")  # set after registration: read at event time
    async with (
        live_server(asgi) as url,
        connected(url + "/?token=q-1&lang=de", headers=HEADERS, auth=AUTH) as c,
    ):
        reply: Any = await c.call(event, 1, timeout=5)
        tsio.app = app_with("second")
        again: Any = await c.call(event, 2, timeout=5)
    port = urlsplit(url).port
    stamp = reply["query_params"].get("t", "")  # engine.io's cache-busting timestamp
    query = {"token": "q-1", "lang": "de", "transport": "websocket", "EIO": "4", "t": stamp}
    assert reply == {
        "type": "SioRequest",
        "app_x": "first",
        "token": "abc123",
        "cookies": {"session": "s-1", "theme": "dark"},
        "client": ["127.0.0.1", reply["client"][1]],
        "url": ["ws", "127.0.0.1", port, "/socket.io/"],
        "url_query": query,
        "query_params": query,
        "scope": ["websocket", "/socket.io/", "abc123"],
        "auth": AUTH,
        "state_is_state": True,
    }
    assert float(stamp) > 0
    assert isinstance(reply["client"][1], int)
    assert reply["client"][1] not in (0, port)
    assert again == {**reply, "app_x": "second"}
    assert connects == ([AUTH] if with_connect_handler else [])


async def test_request_without_app_cookies_or_auth(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()

    @tsio.on("bare")
    async def bare(sid: str, data: int, request: SioRequest) -> dict[str, Any]:
        return {"app": request.app, "cookies": request.cookies, "auth": request.auth}

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("bare", 0, timeout=5)
    assert reply == {"app": None, "cookies": {}, "auth": None}


async def test_state_is_one_object_per_event_shared_by_handler_and_dependencies(
    live_server: "LiveServer",
) -> None:
    tsio, asgi = make_server()
    states: list[State] = []

    def stamp(request: fastapi.Request) -> bool:
        fresh = not hasattr(request.state, "marks")
        request.state.marks = ["dep"]
        return fresh

    def the_request(request: SioRequest) -> SioRequest:
        return request

    @tsio.on("visit")
    async def visit(
        sid: str,
        data: int,
        fresh: Annotated[bool, Depends(stamp)],
        dep_request: Annotated[SioRequest, Depends(the_request)],
        request: starlette.requests.Request,
    ) -> dict[str, Any]:
        request.state.marks.append("handler")
        states.append(request.state)
        return {
            "fresh": fresh,
            "marks": request.state.marks,
            "same_state": request.state is request.state,
            "same_request": dep_request is request,
        }

    async with live_server(asgi) as url, connected(url) as client:
        replies = [await client.call("visit", i, timeout=5) for i in range(2)]
    expected = {"fresh": True, "marks": ["dep", "handler"], "same_state": True, "same_request": True}
    assert replies == [expected, expected]
    assert len(states) == 2
    assert states[0] is not states[1]


async def test_auth_is_per_connection(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()

    def user(request: SioRequest) -> Any:
        return request.auth

    @tsio.on("whoami")
    async def whoami(sid: str, data: int, who: Annotated[Any, Depends(user)]) -> Any:
        return who

    async with (
        live_server(asgi) as url,
        connected(url, auth={"user": "alice"}) as alice,
        connected(url, auth={"user": "bob"}) as bob,
        connected(url) as anonymous,
    ):
        replies = [await c.call("whoami", 0, timeout=5) for c in (alice, bob, anonymous, alice)]
    assert replies == [{"user": "alice"}, {"user": "bob"}, None, {"user": "alice"}]


@pytest.mark.parametrize("order", ["connect-first", "connect-last"])
@pytest.mark.parametrize("style", ["catch-all-namespace", "class-based-namespace"])
async def test_auth_with_a_connect_handler_socketio_resolves_after_namespace_handlers(
    live_server: "LiveServer", style: str, order: str
) -> None:
    tsio, asgi = make_server()
    connects: list[Any] = []

    def add_connect_handler() -> None:
        if style == "catch-all-namespace":

            async def connect(namespace: str, sid: str, environ: dict[str, Any], auth: Any) -> None:
                connects.append((namespace, auth))

            tsio.on("connect", connect, namespace="*")
        else:

            class Root(socketio.AsyncNamespace):
                async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
                    connects.append(("/", auth))

            tsio.register_namespace(Root("/"))

    async def whoami(sid: str, data: int, request: SioRequest) -> Any:
        return request.auth

    if order == "connect-first":
        add_connect_handler()
        tsio.on("whoami", whoami)
    else:
        tsio.on("whoami", whoami)
        add_connect_handler()

    async with live_server(asgi) as url, connected(url, auth={"user": "alice"}) as client:
        reply = await client.call("whoami", 0, timeout=5)
    assert connects == [("/", {"user": "alice"})]
    assert reply == {"user": "alice"}


async def test_auth_in_a_catch_all_namespace_handler_without_connect_handler(
    live_server: "LiveServer",
) -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi", namespaces="*"))
    asgi = socketio.ASGIApp(tsio.sio, other_asgi_app=FastAPI())

    @tsio.on("whoami", namespace="*")
    async def whoami(namespace: str, sid: str, data: int, request: SioRequest) -> Any:
        return [namespace, request.namespace, request.auth]

    async with live_server(asgi) as url:
        client = socketio.AsyncClient()
        await client.connect(
            url, transports=["websocket"], auth={"user": "alice"}, namespaces=["/", "/chat"], wait_timeout=5
        )
        try:
            root: Any = await client.call("whoami", 0, timeout=5)
            chat: Any = await client.call("whoami", 0, namespace="/chat", timeout=5)
        finally:
            await client.disconnect()
    assert root == ["/", "/", {"user": "alice"}]
    assert chat == ["/chat", "/chat", {"user": "alice"}]


async def test_request_in_a_client_handler_dependency_has_no_connection(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    sids: list[str] = []

    @tsio.on("connect")
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        sids.append(sid)

    def peek(request: fastapi.Request) -> dict[str, Any]:
        return {
            "type": type(request).__name__,
            "app": request.app,
            "headers": request.headers,
            "cookies": request.cookies,
            "client": request.client,
            "url": request.url,
            "query_params": request.query_params,
            "scope": request.scope,
            "auth": request.auth,
            "state_is_state": isinstance(request.state, State),
        }

    ctsio = wrap(socketio.AsyncClient())
    assert isinstance(ctsio, AsyncClientWrapper)

    @ctsio.on("probe")
    async def probe(data: int, seen: Annotated[dict[str, Any], Depends(peek)]) -> dict[str, Any]:
        return {"data": data, **seen}

    async with live_server(asgi) as url:
        await ctsio.connect(url, transports=["websocket"], headers=dict(HEADERS), auth=AUTH, wait_timeout=5)
        client_sid = ctsio.get_sid()
        try:
            reply: Any = await tsio.call("probe", 5, to=client_sid, timeout=5)
        finally:
            await ctsio.disconnect()
    assert sids == [client_sid]
    assert reply == {
        "data": 5,
        "type": "SioRequest",
        "app": None,
        "headers": None,
        "cookies": {},
        "client": None,
        "url": None,
        "query_params": None,
        "scope": None,
        "auth": None,
        "state_is_state": True,
    }


async def test_client_wrapper_app_is_read_at_event_time(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    ctsio = wrap(socketio.AsyncClient())

    @ctsio.on("which_app")
    async def which_app(data: int, request: SioRequest) -> Any:
        return request.app.state.x

    ctsio.app = app_with("client-app")
    async with live_server(asgi) as url:
        await ctsio.connect(url, transports=["websocket"], wait_timeout=5)
        try:
            reply: Any = await tsio.call("which_app", 0, to=ctsio.get_sid(), timeout=5)
        finally:
            await ctsio.disconnect()
    assert reply == "client-app"


FACES: dict[str, Callable[[], Any]] = {
    "AsyncServer": lambda: socketio.AsyncServer(async_mode="asgi"),
    "AsyncClient": socketio.AsyncClient,
    "Server": socketio.Server,
    "Client": socketio.Client,
    "AsyncSimpleClient": socketio.AsyncSimpleClient,
    "SimpleClient": socketio.SimpleClient,
    "AsyncManager": socketio.AsyncManager,
    "Manager": socketio.Manager,
}


@pytest.mark.parametrize("make", FACES.values(), ids=FACES.keys())
def test_app_defaults_to_none_and_is_the_wrappers_own(make: Callable[[], Any]) -> None:
    raw = make()
    tsio = wrap(raw)
    assert tsio.app is None
    app = FastAPI()
    tsio.app = app
    assert tsio.app is app
    assert not hasattr(raw, "app")  # kept on the wrapper, not passed through to socketio
    tsio.app = None
    assert tsio.app is None


async def test_an_injected_context_and_request_need_no_depends(live_server: "LiveServer") -> None:
    """Request parameters are recognised by type alone, next to payload parameters with defaults."""
    tsio, asgi = make_server()

    @tsio.on("multi")
    async def multi(sid: str, a: int, b: str = "dflt", *, request: SioRequest) -> list[Any]:
        return [a, b, request.event, request.sid == sid, request.namespace]

    async with live_server(asgi) as url, connected(url) as client:
        one = await client.call("multi", 1, timeout=5)
        two = await client.call("multi", (2, "given"), timeout=5)
    assert one == [1, "dflt", "multi", True, "/"]
    assert two == [2, "given", "multi", True, "/"]
