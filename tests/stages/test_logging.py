"""Structured logging: one structlog entry per event, context variables bound while handlers run."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import socketio.exceptions
import structlog
from structlog.typing import EventDict

from tests.support.helpers import STACKS, TIMEOUT, Inbox, asgi_app, connected, new_server, stack
from tests.support.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, ProblemDetailError, merge_sio_context, wrap
from zndraw_socketio.transport.codec import RenderedJson

if TYPE_CHECKING:
    from tests.conftest import LiveServer


KEYS = ("sio_event", "sid", "namespace", "direction", "outcome")
MERGES = {
    "structlog_vars": (structlog.contextvars.merge_contextvars,),
    "merge_sio_context": (merge_sio_context, structlog.contextvars.merge_contextvars),  # as the README
}
"""The two ways a handler's own lines get the event's keys: structlog's three context variables, or
the one ``merge_sio_context`` reads (the README's production configuration, which keeps
``merge_contextvars`` for what the app binds itself)."""


def capture(*processors: Any) -> Any:
    return structlog.testing.capture_logs(processors=processors or [structlog.contextvars.merge_contextvars])


def event_entries(logs: list[EventDict]) -> list[EventDict]:
    """The chain's per-event entries (leaving out handlers' own lines)."""
    return [e for e in logs if e["event"] in ("sio event", "sio event failed")]


def summary(logs: list[EventDict]) -> list[tuple[Any, ...]]:
    return [tuple(e[k] for k in KEYS) for e in event_entries(logs)]


def server(shape: str = "default", handler_log: list[dict[str, Any]] | None = None) -> AsyncServerWrapper:
    tsio = new_server(stack(shape), namespaces=["/", "/chat"])

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        structlog.get_logger("app").info("handling ping", message=data.message)
        if handler_log is not None:
            handler_log.append(structlog.contextvars.get_contextvars())
        return Pong(reply=data.message)

    @tsio.on(Ping, namespace="/chat")
    async def chat_ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.on("slow")
    async def slow(sid: str) -> None:
        await asyncio.sleep(0.05)

    @tsio.on("boom")
    async def boom(sid: str) -> None:
        raise RuntimeError("boom")

    @tsio.on("whoami")
    async def whoami(sid: str) -> str:
        return sid

    return tsio


@pytest.mark.parametrize("shape", STACKS)
async def test_one_entry_per_inbound_and_outbound_event(live_server: LiveServer, shape: str) -> None:
    tsio = server(shape)
    inbox = Inbox()
    client = socketio.AsyncClient()
    client.on("pong", inbox.put)
    async with live_server(asgi_app(tsio)) as url, connected(url, client, namespaces=["/", "/chat"]):
        sid = await client.call("whoami", timeout=TIMEOUT)
        chat_sid = client.get_sid("/chat")
        with capture() as logs:
            await client.call("ping", {"message": "a"}, timeout=TIMEOUT)
            await client.call("ping", {"message": "b"}, namespace="/chat", timeout=TIMEOUT)
            await tsio.emit(Pong(reply="r"), to=sid)
            assert await inbox.get() == {"reply": "r"}
    assert summary(logs) == [
        ("ping", sid, "/", "in", "ok"),
        ("ping", chat_sid, "/chat", "in", "ok"),
        ("pong", sid, "/", "out", "ok"),
    ]
    for entry in event_entries(logs):
        assert entry["log_level"] == "debug"
        assert entry["event"] == "sio event"
        assert isinstance(entry["duration_ms"], float)
        assert entry["duration_ms"] >= 0.0


@pytest.mark.parametrize("shape", STACKS)
async def test_typed_client_logs_its_side_too(live_server: LiveServer, shape: str) -> None:
    tsio = server(shape)
    client = wrap(socketio.AsyncClient(), middleware=stack(shape))
    async with live_server(asgi_app(tsio)) as url, connected(url, client):
        sid = client.get_sid("/")
        with capture() as logs:
            assert await client.call(Ping(message="x"), response_model=Pong, timeout=TIMEOUT) == Pong(
                reply="x"
            )
    # the server's entry is written before its reply leaves, the client's once the reply is back
    assert summary(logs) == [("ping", sid, "/", "in", "ok"), ("ping", None, "/", "out", "ok")]


async def test_duration_measures_the_handler(live_server: LiveServer) -> None:
    async with live_server(asgi_app(server())) as url, connected(url) as client:
        with capture() as logs:
            await client.call("slow", timeout=TIMEOUT)
    [entry] = event_entries(logs)
    assert entry["sio_event"] == "slow"
    assert 50.0 <= entry["duration_ms"] < 1000.0


@pytest.mark.parametrize("shape", STACKS)
async def test_failures_log_at_error_level(live_server: LiveServer, shape: str) -> None:
    client = wrap(socketio.AsyncClient(), middleware=stack(shape))
    async with live_server(asgi_app(server(shape))) as url, connected(url, client):
        sid = client.get_sid("/")
        with capture() as logs, pytest.raises(ProblemDetailError):
            await client.call("boom", None, response_model=Pong, timeout=TIMEOUT)
    assert summary(logs) == [("boom", sid, "/", "in", "error"), ("boom", None, "/", "out", "error")]
    server_entry, client_entry = event_entries(logs)
    assert (server_entry["log_level"], server_entry["event"], server_entry["error"]) == (
        "error",
        "sio event failed",
        "RuntimeError",
    )
    assert isinstance(server_entry["exc_info"], RuntimeError)
    # a problem reply is an expected outcome on the caller's side: no traceback
    assert (client_entry["log_level"], client_entry["error"], client_entry["exc_info"]) == (
        "error",
        "ProblemDetailError",
        None,
    )


async def test_outbound_timeout_is_logged_as_error(live_server: LiveServer) -> None:
    tsio = new_server()
    release = asyncio.Event()

    @tsio.on("never")
    async def never(sid: str) -> None:
        await release.wait()

    async with live_server(asgi_app(tsio)) as url, connected(url, wrap(socketio.AsyncClient())) as client:
        with capture() as logs, pytest.raises(socketio.exceptions.TimeoutError):
            await client.call("never", timeout=0.1)
        release.set()
    entries = [e for e in event_entries(logs) if e["direction"] == "out"]
    assert [(e["sio_event"], e["outcome"], e["log_level"], e["error"]) for e in entries] == [
        ("never", "error", "error", "TimeoutError")
    ]


@pytest.mark.parametrize("shape", STACKS)
async def test_handler_log_lines_carry_the_event_context(live_server: LiveServer, shape: str) -> None:
    bound: list[dict[str, Any]] = []
    async with live_server(asgi_app(server(shape, bound))) as url, connected(url) as client:
        sid = await client.call("whoami", timeout=TIMEOUT)
        with capture() as logs:
            await client.call("ping", {"message": "m"}, timeout=TIMEOUT)
    [own] = [e for e in logs if e["event"] == "handling ping"]
    assert own == {
        "event": "handling ping",
        "message": "m",
        "log_level": "info",
        "sio_event": "ping",
        "sid": sid,
        "namespace": "/",
    }
    assert bound == [{"sio_event": "ping", "sid": sid, "namespace": "/"}]


@pytest.mark.parametrize("shape", STACKS)
async def test_context_variables_are_restored_after_the_handler(shape: str) -> None:
    # the compiled chain python-socketio stores, called directly in this task
    seen: list[dict[str, Any]] = []
    tsio = server(shape, seen)
    entry = tsio.sio.handlers["/"]["ping"]
    structlog.contextvars.bind_contextvars(request_id="r1")
    reply = await entry("sid-1", {"message": "m"})
    assert isinstance(reply, RenderedJson)  # the declared model's reply, written by the codec's JSON
    assert json.loads(reply.text) == {"reply": "m"}
    assert seen == [{"request_id": "r1", "sio_event": "ping", "sid": "sid-1", "namespace": "/"}]
    assert structlog.contextvars.get_contextvars() == {"request_id": "r1"}

    structlog.contextvars.bind_contextvars(sio_event="outer", sid="outer-sid")
    assert (await tsio.sio.handlers["/"]["boom"]("sid-2"))["status"] == 500
    assert structlog.contextvars.get_contextvars() == {
        "request_id": "r1",
        "sio_event": "outer",
        "sid": "outer-sid",
    }


@pytest.mark.parametrize("merges", MERGES)
@pytest.mark.parametrize("shape", STACKS)
async def test_filtered_level_drops_successes_but_keeps_failures(
    live_server: LiveServer, shape: str, merges: str
) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    tsio = server(shape)  # created after structlog is configured
    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        with capture(*MERGES[merges]) as logs:  # before the first event: each chain's logger sees it
            sid = await client.call("whoami", timeout=TIMEOUT)
            assert await client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
            assert (await client.call("boom", timeout=TIMEOUT))["status"] == 500
    assert summary(logs) == [("boom", sid, "/", "in", "error")]
    # the handler's own info line still gets through, with its context
    assert [
        (e["event"], e["sio_event"], e["sid"], e["namespace"]) for e in logs if e["log_level"] == "info"
    ] == [("handling ping", "ping", sid, "/")]


@pytest.mark.parametrize("shape", STACKS)
async def test_merge_sio_context_processor(live_server: LiveServer, shape: str) -> None:
    # configured before the first event, as the logging stage asks
    with capture(merge_sio_context) as logs:
        async with live_server(asgi_app(server(shape))) as url, connected(url) as client:
            sid = await client.call("whoami", timeout=TIMEOUT)
            await client.call("ping", {"message": "m"}, timeout=TIMEOUT)
    [own] = [e for e in logs if e["event"] == "handling ping"]
    assert (own["sio_event"], own["sid"], own["namespace"], own["message"]) == ("ping", sid, "/", "m")
    assert summary(logs) == [("whoami", sid, "/", "in", "ok"), ("ping", sid, "/", "in", "ok")]


@pytest.mark.parametrize("merges", MERGES)
@pytest.mark.parametrize("shape", STACKS)
async def test_concurrent_handlers_keep_their_own_context(
    live_server: LiveServer, shape: str, merges: str
) -> None:
    tsio = new_server(stack(shape))
    arrived: list[str] = []
    both_in = asyncio.Event()

    @tsio.on("wait")
    async def wait(sid: str) -> str:
        structlog.contextvars.bind_contextvars(mine=sid)  # what the app binds itself
        arrived.append(sid)
        if len(arrived) == 2:
            both_in.set()
        await asyncio.wait_for(both_in.wait(), TIMEOUT)
        structlog.get_logger("app").info("after the wait")
        return sid

    with capture(*MERGES[merges]) as logs:
        async with live_server(asgi_app(tsio)) as url, connected(url) as one, connected(url) as two:
            sids = await asyncio.gather(one.call("wait", timeout=TIMEOUT), two.call("wait", timeout=TIMEOUT))
    lines = [(e["sio_event"], e["sid"], e["mine"]) for e in logs if e["event"] == "after the wait"]
    assert sorted(lines) == sorted(("wait", sid, sid) for sid in sids)
    assert sids[0] != sids[1]
