"""The typed faces' ``call()`` waits on one future: it must behave as python-socketio's own ``call``.

Each case runs the same call through a wrapped peer (``acks.awaiting_call``) and through
python-socketio's ``call`` of a plain peer, against one real server, and compares what comes back
or what is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest
import socketio
from socketio.exceptions import BadNamespaceError
from socketio.exceptions import TimeoutError as CallTimeoutError

from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server, record_sids
from tests.support.models import Ping, Pong
from zndraw_socketio import wrap
from zndraw_socketio.transport.acks import awaiting_call

if TYPE_CHECKING:
    from tests.conftest import LiveServer

REPLIES: dict[str, tuple[Any, ...]] = {
    "none": (),
    "one": ({"a": 1},),
    "two": ("x", [1, 2]),
    "null": (None,),
}


def _replying_server() -> Any:
    """A typed server whose raw handlers reply with the arguments of ``REPLIES[data]``, and one
    (``slow``) that never replies."""
    tsio = new_server()
    for name, reply in REPLIES.items():

        async def handler(sid: str, data: Any, reply: tuple[Any, ...] = reply) -> Any:
            return reply if len(reply) != 1 else reply[0]

        tsio.sio.on(name, handler)

    async def slow(sid: str, data: Any) -> None:
        await asyncio.sleep(30)

    tsio.sio.on("slow", slow)
    return tsio


@asynccontextmanager
async def _plain_and_typed(live_server: LiveServer) -> AsyncIterator[tuple[Any, Any]]:
    """A plain and a wrapped client, both connected to one ``_replying_server``."""
    async with (
        live_server(asgi_app(_replying_server())) as url,
        connected(url) as plain,
        connected(url, wrap(socketio.AsyncClient())) as typed,
    ):
        yield plain, typed


@pytest.mark.parametrize("name", sorted(REPLIES))
async def test_client_call_returns_what_socketio_returns(live_server: LiveServer, name: str) -> None:
    async with _plain_and_typed(live_server) as (plain, typed):
        expected = await plain.call(name, "x", timeout=TIMEOUT)
        assert await typed.call(name, "x", timeout=TIMEOUT) == expected
        # python-socketio: no argument -> None, one -> itself, several -> their tuple
        assert expected == {"none": None, "one": {"a": 1}, "two": ("x", [1, 2]), "null": None}[name]


async def test_client_call_times_out_as_socketio_does(live_server: LiveServer) -> None:
    async with _plain_and_typed(live_server) as (plain, typed):
        with pytest.raises(CallTimeoutError):
            await plain.call("slow", 1, timeout=0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(CallTimeoutError):
            await typed.call("slow", 1, timeout=0.2)
        assert 0.15 < loop.time() - started < 2
        # the connection carries on after a timeout
        assert await typed.call("one", 1, timeout=TIMEOUT) == {"a": 1}


async def test_client_call_to_a_namespace_not_connected(live_server: LiveServer) -> None:
    async with _plain_and_typed(live_server) as (plain, typed):
        with pytest.raises(BadNamespaceError):
            await plain.call("one", 1, namespace="/elsewhere", timeout=TIMEOUT)
        with pytest.raises(BadNamespaceError):
            await typed.call("one", 1, namespace="/elsewhere", timeout=TIMEOUT)


async def test_a_cancelled_call_leaves_nothing_behind(live_server: LiveServer) -> None:
    """The caller cancelled while it waits: its timer is cancelled with it, and the late reply
    finds the future done without an error."""
    tsio = new_server()
    release = asyncio.Event()

    async def late(sid: str, data: Any) -> str:
        await release.wait()
        return "late"

    tsio.sio.on("late", late)
    loop = asyncio.get_running_loop()
    errors: list[Any] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    async with live_server(asgi_app(tsio)) as url, connected(url, wrap(socketio.AsyncClient())) as typed:
        timers = len(loop._scheduled)  # type: ignore[attr-defined]
        waiting = asyncio.ensure_future(typed.call("late", 1, timeout=60))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0)
        assert len([h for h in loop._scheduled if not h.cancelled()]) <= timers  # type: ignore[attr-defined]
        release.set()
        await asyncio.sleep(0.3)  # the reply arrives for a cancelled call
        assert await typed.call("late", 2, timeout=TIMEOUT) == "late"
    loop.set_exception_handler(None)
    assert errors == []


async def test_server_call_returns_and_refuses_as_socketio_does(live_server: LiveServer) -> None:
    tsio = new_server()
    sids = record_sids(tsio)
    plain_server = tsio.sio
    client = socketio.AsyncClient()
    release = asyncio.Event()

    async def echo(*args: Any) -> Any:
        return args if len(args) != 1 else args[0]

    async def hang(data: Any) -> None:
        await release.wait()

    client.on("echo", echo)
    client.on("hang", hang)

    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = await sids.get()
        for data in ({"a": 1}, ("x", 2), None):
            expected = await plain_server.call("echo", data, to=sid, timeout=TIMEOUT)
            assert await tsio.call("echo", data, to=sid, timeout=TIMEOUT) == expected
        assert await tsio.call("echo", {"b": 2}, sid=sid, timeout=TIMEOUT) == {"b": 2}
        with pytest.raises(ValueError, match="broadcast"):
            await tsio.call("echo", {"a": 1}, timeout=TIMEOUT)
        with pytest.raises(CallTimeoutError):
            await tsio.call("hang", {"a": 1}, to=sid, timeout=0.2)
        release.set()
        plain_server.async_handlers = False
        try:
            with pytest.raises(RuntimeError, match="async_handlers"):
                await tsio.call("echo", {"a": 1}, to=sid, timeout=TIMEOUT)
        finally:
            plain_server.async_handlers = True


def test_only_socketio_own_call_is_replaced() -> None:
    class OwnCall(socketio.AsyncClient):
        async def call(self, *args: Any, **kwargs: Any) -> Any:
            return "own"

    assert awaiting_call(socketio.AsyncClient()) is not None
    assert awaiting_call(socketio.AsyncServer()) is not None
    assert awaiting_call(OwnCall()) is None
    assert awaiting_call(socketio.Client()) is None  # a sync client keeps its threading wait
    assert awaiting_call(socketio.AsyncSimpleClient()) is None  # it reconnects around its call


async def test_a_subclass_call_is_used_by_the_face() -> None:
    class OwnCall(socketio.AsyncClient):
        async def call(self, *args: Any, **kwargs: Any) -> Any:
            return {"own": list(args)}

    face = wrap(OwnCall())
    assert await face.call("ev", {"x": 1}) == {"own": ["ev", {"x": 1}]}


async def test_the_typed_call_is_the_future_based_one(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The face's call does not reach python-socketio's ``call`` (spied on before wrapping), for a
    model call with a response model either."""
    tsio = _replying_server()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    used: list[Any] = []
    own = socketio.AsyncClient.call

    async def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        used.append(args)
        return await own(self, *args, **kwargs)

    monkeypatch.setattr(socketio.AsyncClient, "call", spy)
    async with live_server(asgi_app(tsio)) as url, connected(url, wrap(socketio.AsyncClient())) as typed:
        assert await typed.call("one", 1, timeout=TIMEOUT) == {"a": 1}
        assert await typed.call(Ping(message="m"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="m")
        assert used == []
        assert await typed.sio.call("one", 1, timeout=TIMEOUT) == {"a": 1}  # the spy itself works
        assert used == [("one", 1)]
