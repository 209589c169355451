"""The compiled entries in every handler shape, over real sockets where a client could produce the case.

The compiler builds a general entry, and for the commonest call (a server event with one payload
argument; ``async def h(sid, data: Model)`` with at most one dependency calls the handler in place) a
narrow one. These tests drive the shapes that take the general entry and the edges of the narrow one
(arity, overrides, cancellation, a model completed after registration).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated, Any

import pytest
import socketio
import structlog
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from structlog.testing import capture_logs

from tests.support.helpers import TIMEOUT, Inbox, asgi_app, connected, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import Depends

if TYPE_CHECKING:
    from tests.conftest import LiveServer


def first() -> str:
    return "first"


async def second() -> str:
    return "second"


_WORD_FAILS: list[bool] = []


async def word() -> str:
    """The lone dependency of the narrow entry's test; raises once told to."""
    if _WORD_FAILS:
        raise RuntimeError("secret detail")
    return "word"


def _assert_plain_500(reply: Any, event: str) -> None:
    assert reply["kind"] == "error"
    assert reply["status"] == 500
    assert "secret" not in str(reply)
    assert event in reply["instance"]


async def test_general_entry_validates_and_answers_failures(live_server: LiveServer) -> None:
    """Two payload arguments, no annotation, two dependencies: the general entry."""
    tsio = new_server()

    @tsio.on("add")
    async def add(sid: str, a: int, b: int) -> int:
        if a == 0:
            raise ValueError("secret detail")
        return a + b

    @tsio.on("untyped")
    async def untyped(sid: str, data):  # no annotation on purpose
        if data == "boom":
            raise RuntimeError("secret detail")
        return data

    @tsio.on("two_deps")
    async def two_deps(
        sid: str,
        data: Ping,
        a: Annotated[str, Depends(first)],
        b: Annotated[str, Depends(second)],
    ) -> Pong:
        return Pong(reply=f"{data.message}:{a}:{b}")

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("add", (2, "3"), timeout=TIMEOUT) == 5
        bad = await client.call("add", (2, "x"), timeout=TIMEOUT)
        assert bad["status"] == 422 and bad["errors"][0]["loc"][0] == "b"
        _assert_plain_500(await client.call("add", (0, 1), timeout=TIMEOUT), "add")
        assert await client.call("untyped", {"any": [1]}, timeout=TIMEOUT) == {"any": [1]}
        _assert_plain_500(await client.call("untyped", "boom", timeout=TIMEOUT), "untyped")

        ping = {"message": "hi"}
        assert await client.call("two_deps", ping, timeout=TIMEOUT) == {"reply": "hi:first:second"}
        tsio.dependency_overrides[second] = lambda: "replaced"
        assert await client.call("two_deps", ping, timeout=TIMEOUT) == {"reply": "hi:first:replaced"}
        tsio.dependency_overrides.clear()
        assert await client.call("two_deps", ping, timeout=TIMEOUT) == {"reply": "hi:first:second"}


async def test_narrow_entry_arity_and_lone_dependency(live_server: LiveServer) -> None:
    """``h(sid, data: Model, dep)``: missing and extra arguments get 422, an override applies,
    and a failing lone dependency is a 500 like a failing handler."""
    tsio = new_server()
    _WORD_FAILS.clear()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping, w: Annotated[str, Depends(word)]) -> Pong:
        return Pong(reply=f"{data.message}:{w}")

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a:word"}
        missing = await client.call("ping", timeout=TIMEOUT)
        assert missing["status"] == 422 and missing["errors"][0]["type"] == "missing_argument"
        extra = await client.call("ping", ({"message": "a"}, 2), timeout=TIMEOUT)
        assert extra["status"] == 422
        assert extra["errors"][0]["type"] == "unexpected_positional_argument"
        tsio.dependency_overrides[word] = lambda: "fake"
        assert await client.call("ping", {"message": "a"}, timeout=TIMEOUT) == {"reply": "a:fake"}
        tsio.dependency_overrides.clear()
        _WORD_FAILS.append(True)
        _assert_plain_500(await client.call("ping", {"message": "a"}, timeout=TIMEOUT), "ping")


class Outer(BaseModel):
    # ``Later`` is only defined by the test, after registering the handler: until then pydantic
    # cannot build Outer's validator
    inner: Later  # noqa: F821  # pyright: ignore[reportUndefinedVariable]


async def test_model_completed_after_registration(live_server: LiveServer) -> None:
    """A payload model that pydantic could not complete when it was defined (its forward reference
    came later) is registered as it is and validated once pydantic rebuilds it, on first use."""
    assert not Outer.__pydantic_complete__
    tsio = new_server()

    @tsio.on("outer")
    async def outer(sid: str, data: Outer) -> Outer:
        return data

    globals()["Later"] = type("Later", (BaseModel,), {"__annotations__": {"n": int}})
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("outer", {"inner": {"n": "4"}}, timeout=TIMEOUT) == {"inner": {"n": 4}}
        bad = await client.call("outer", {"inner": {}}, timeout=TIMEOUT)
        assert bad["status"] == 422


@pytest.mark.parametrize("shape", ["narrow", "general"])
async def test_cancelled_event_replies_503_is_logged_and_unbinds_its_context(shape: str) -> None:
    """A handler cancelled mid-event (its task cancelled, as a shutdown past its grace period
    does) ends with the 503 reply, which python-socketio sends as the ack (it swallows a
    handler's cancellation itself), logs the event as failed without a traceback and leaves no
    context variable bound."""
    tsio = new_server()
    started = asyncio.Event()

    if shape == "narrow":

        @tsio.on("slow")
        async def slow(sid: str, data: Ping) -> Pong:
            started.set()
            await asyncio.sleep(TIMEOUT * 10)
            raise AssertionError("not cancelled")

        args: tuple[Any, ...] = ("sid-1", {"message": "hi"})
    else:

        @tsio.on("slow")
        async def slow_general(sid: str, a: int, b: int) -> int:
            started.set()
            await asyncio.sleep(TIMEOUT * 10)
            raise AssertionError("not cancelled")

        args = ("sid-1", 1, 2)

    entry = tsio.sio.handlers["/"]["slow"]  # what python-socketio calls for the event
    with capture_logs() as logs:
        task = asyncio.ensure_future(entry(*args))
        await asyncio.wait_for(started.wait(), TIMEOUT)
        assert structlog.contextvars.get_contextvars() == {}  # bound inside the task only
        task.cancel()
        reply = await task
    assert reply["status"] == 503 and reply["instance"] == "slow"
    assert structlog.contextvars.get_contextvars() == {}
    [entry_log] = [e for e in logs if e.get("sio_event") == "slow"]
    assert entry_log["outcome"] == "error" and entry_log["log_level"] == "error"
    assert entry_log["error"] == "CancelledError" and entry_log["exc_info"] is None
    assert entry_log["sid"] == "sid-1" and entry_log["direction"] == "in"


def code_of(coroutine: Any) -> Any:
    """The code object a coroutine runs."""
    return coroutine.cr_code


class Odd(BaseModel):
    """A model that cannot be serialised once it holds an arbitrary object."""

    value: Any


async def test_server_emit_hands_socketio_its_own_coroutine(live_server: LiveServer) -> None:
    """With debug entries filtered out, a server's ``emit(Model(...))`` is socketio's own coroutine
    (no frame of ours while it awaits its sends), reaches the client all the same, and a model that
    cannot be serialised still raises with an error entry."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    tsio = new_server()
    inbox = Inbox()
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        client.on("ping", inbox.put)
        await tsio.emit(Ping(message="first"))  # the first event goes through the chain
        direct = tsio.emit(Ping(message="direct"))
        assert code_of(direct) is socketio.AsyncServer.emit.__code__
        await direct
        sid = client.get_sid()
        await tsio.emit(Ping(message="nobody"), room="empty-room")
        await tsio.emit(Ping(message="to"), to=sid)
        await tsio.emit(Ping(message="room"), room=sid)
        await tsio.emit(Ping(message="skipped"), skip_sid=sid)
        await tsio.emit(Ping(message="namespaced"), to=sid, namespace="/")
        chained = tsio.emit(Ping(message="acked"), callback=lambda *a: None)  # acks: the chain's job
        assert code_of(chained) is not socketio.AsyncServer.emit.__code__
        await chained
        received = [await inbox.get() for _ in range(6)]
        assert [r["message"] for r in received] == ["first", "direct", "to", "room", "namespaced", "acked"]
        assert inbox.empty()
        with capture_logs() as logs, pytest.raises(PydanticSerializationError):
            await tsio.emit(Odd(value=object()), room="nobody")
    [entry] = logs
    assert (entry["sio_event"], entry["direction"], entry["outcome"]) == ("odd", "out", "error")
    assert entry["sid"] == "nobody" and entry["log_level"] == "error"
