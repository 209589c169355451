"""Reliability under faults (bad input never leaves a caller waiting), over real sockets.

- A client that disconnects while its slow handler runs: the handler finishes, nothing unhandled
  is logged, the server keeps serving, and the asyncio tasks return to their baseline.
- A slow handler against ``call(timeout=)``: the caller gets python-socketio's ``TimeoutError`` at
  its timeout, the late reply is dropped quietly, and the next call of the same client works.
- A failing dependency, a failing user middleware and a failing exception handler: each caller
  gets a 500 problem detail at once, with exactly one error entry per event.

The broker outages are in ``test_reliability_brokers.py``. No ``from __future__ import
annotations``: handlers are defined inside the tests and their annotations must be real objects.
"""

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import pytest
import socketio
import socketio.exceptions
import structlog
from pydantic import BaseModel
from structlog.typing import EventDict

from tests.support.helpers import (
    TIMEOUT,
    Inbox,
    asgi_app,
    connected,
    new_server,
    typed_client,
    wait_for_condition,
)
from zndraw_socketio import (
    AsyncClientWrapper,
    AsyncServerWrapper,
    Depends,
    EventContext,
    InboundContext,
    Middleware,
    ProblemDetail,
)
from zndraw_socketio.middleware import InboundNext

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.reliability

SECRET = "s3cr3t-exception-text"
"""Text of every exception raised on purpose: a 500 reply must never carry it."""


class Slow(BaseModel):
    message: str
    delay: float


class Ping(BaseModel):
    message: str


class Pong(BaseModel):
    reply: str


class Job(BaseModel):
    n: int


# -- helpers ---------------------------------------------------------------------------------------


def errors(records: list[logging.LogRecord]) -> list[str]:
    """python logging records at error level or above, as text (for assertion messages)."""
    return [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.ERROR]


def structlog_errors(logs: Sequence[EventDict]) -> list[EventDict]:
    return [e for e in logs if e.get("log_level") in ("error", "critical", "exception")]


def serve_ping(tsio: AsyncServerWrapper) -> None:
    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)


async def still_serves(client: AsyncClientWrapper, text: str) -> None:
    assert await client.call(Ping(message=text), response_model=Pong, timeout=TIMEOUT) == Pong(reply=text)


# -- 1. a client disconnects while its handler runs -------------------------------------------------


async def test_disconnect_mid_handler_lets_the_handler_finish_quietly(
    live_server: "LiveServer", caplog: pytest.LogCaptureFixture
) -> None:
    tsio = new_server(ping_interval=1)  # engine.io's ping task of a closed socket ends at its next ping
    serve_ping(tsio)
    started, finished = Inbox(), Inbox()

    @tsio.on(Slow)
    async def slow(sid: str, data: Slow) -> Pong:
        started.put(sid)
        await asyncio.sleep(data.delay)
        finished.put(sid)
        return Pong(reply=data.message)

    caplog.set_level(logging.WARNING)
    with structlog.testing.capture_logs() as logs:
        async with live_server(asgi_app(tsio)) as url, connected(url, typed_client()) as other:
            await still_serves(other, "before")
            await asyncio.sleep(0.1)  # let the connection's own tasks settle
            baseline = len(asyncio.all_tasks())

            replies = Inbox()
            async with connected(url, typed_client()) as leaving:
                await leaving.emit(Slow(message="never read", delay=2.0), callback=replies.put)
                sid = await started.get()
                await leaving.disconnect()
            # while the orphaned handler runs, the server answers everyone else
            await still_serves(other, "during")
            assert finished.empty(), "the handler should still be running"
            assert await finished.get() == sid  # it ran to its end, not cancelled
            await still_serves(other, "after")
            assert await replies.nothing_within(0.2), "a disconnected client must not get the reply"

            await wait_for_condition(lambda: len(asyncio.all_tasks()) <= baseline)
            assert len(asyncio.all_tasks()) == baseline

    slow_entries = [e for e in logs if e.get("sio_event") == "slow" and e["direction"] == "in"]
    assert [(e["outcome"], e["sid"]) for e in slow_entries] == [("ok", sid)], slow_entries
    assert structlog_errors(logs) == []
    assert errors(caplog.records) == []


# -- 2. a slow handler against call(timeout=) -------------------------------------------------------


async def test_call_timeout_raises_at_its_timeout_and_the_late_reply_is_dropped(
    live_server: "LiveServer", caplog: pytest.LogCaptureFixture
) -> None:
    tsio = new_server()
    serve_ping(tsio)
    finished = Inbox()

    @tsio.on(Slow)
    async def slow(sid: str, data: Slow) -> Pong:
        await asyncio.sleep(data.delay)
        finished.put(data.message)
        return Pong(reply=data.message)

    caplog.set_level(logging.WARNING)
    with structlog.testing.capture_logs() as logs:
        async with live_server(asgi_app(tsio)) as url, connected(url, typed_client()) as client:
            begun = time.perf_counter()
            with pytest.raises(socketio.exceptions.TimeoutError):
                await client.call(Slow(message="first", delay=0.8), response_model=Pong, timeout=0.3)
            waited = time.perf_counter() - begun
            assert 0.3 <= waited < 0.7, waited

            # the next call is pending when the first reply arrives late: it gets its own reply
            second = asyncio.create_task(
                client.call(Slow(message="second", delay=0.8), response_model=Pong, timeout=TIMEOUT)
            )
            assert await finished.get() == "first"
            assert not second.done()
            assert await asyncio.wait_for(second, TIMEOUT) == Pong(reply="second")
            await still_serves(client, "third")

    server_side = [e for e in logs if e.get("direction") == "in" and e.get("sio_event") == "slow"]
    assert [e["outcome"] for e in server_side] == ["ok", "ok"], server_side
    # the one error is the caller's own: its call timed out
    assert [(e["direction"], e["sio_event"], e["error"]) for e in structlog_errors(logs)] == [
        ("out", "slow", "TimeoutError")
    ]
    assert errors(caplog.records) == []


# -- 3. failing dependency, failing middleware, failing exception handler ---------------------------


class BrokenDependency(RuntimeError):
    pass


class HandledError(Exception):
    pass


class FailingMiddleware(Middleware):
    """Raises in its inbound hook, for the ``job`` event only."""

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        if ctx.event == "job":
            raise RuntimeError(SECRET)
        return await call_next(ctx)


def broken_dependency() -> int:
    raise BrokenDependency(SECRET)


def failing_server(case: str) -> AsyncServerWrapper:
    """A server whose ``job`` event fails in the way ``case`` names, and whose ``ping`` works."""
    tsio = new_server([FailingMiddleware()] if case == "middleware" else [])
    serve_ping(tsio)
    if case == "dependency":

        @tsio.on(Job)
        async def job_with_a_broken_dependency(
            sid: str, data: Job, value: Annotated[int, Depends(broken_dependency)]
        ) -> Pong:
            return Pong(reply=str(value))

    elif case == "middleware":

        @tsio.on(Job)
        async def job_behind_a_failing_middleware(sid: str, data: Job) -> Pong:
            return Pong(reply=str(data.n))

    else:  # an exception handler that raises itself

        @tsio.on(Job)
        async def job_raising(sid: str, data: Job) -> Pong:
            raise HandledError(SECRET)

        @tsio.exception_handler(HandledError)
        async def on_handled(ctx: EventContext, exc: HandledError) -> Any:
            raise RuntimeError(f"the handler failed too: {SECRET}")

    return tsio


@pytest.mark.parametrize("case", ["dependency", "middleware", "exception-handler"])
async def test_a_failure_around_the_handler_answers_500_once_logged(
    live_server: "LiveServer", caplog: pytest.LogCaptureFixture, case: str
) -> None:
    tsio = failing_server(case)
    caplog.set_level(logging.WARNING)
    calls = 3
    with structlog.testing.capture_logs() as logs:
        async with live_server(asgi_app(tsio)) as url, connected(url, typed_client()) as client:
            for n in range(calls):
                begun = time.perf_counter()
                problem = await client.call(Job(n=n), response_model=Pong | ProblemDetail, timeout=TIMEOUT)
                assert time.perf_counter() - begun < 1.0  # promptly, not at a timeout
                assert isinstance(problem, ProblemDetail)
                assert (problem.status, problem.title, problem.detail) == (500, "Internal Server Error", None)
                assert SECRET not in problem.model_dump_json()
                await still_serves(client, f"after {n}")

    failures = structlog_errors(logs)
    assert [(e.get("sio_event"), e.get("direction"), e.get("outcome")) for e in failures] == [
        ("job", "in", "error")
    ] * calls
    job_entries = [e for e in logs if e.get("sio_event") == "job"]
    assert len(job_entries) == calls * 2  # the client's call (ok: it accepts a problem) + the server's
    assert all(e.get("exc_info") for e in failures), "a 500 is logged with its traceback"
    assert errors(caplog.records) == []
