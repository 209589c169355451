"""Yield dependencies and failing dependencies over real sockets: cleanup order and timing, what
cleanup sees of a handler's exception, failing cleanups, client disconnects mid-call, and the
reply a failing dependency (or a bad payload) produces.

No ``from __future__ import annotations`` here on purpose: handlers are defined inside the tests and
their annotations must be real objects.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import fastapi
import pytest
import socketio

from tests.support.deps_support import connected, make_server, wait_until
from tests.support.models import Ping, Pong
from zndraw_socketio import Depends, EventContext, SioRequest

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.timeout(20)


# -- yield dependencies -----------------------------------------------------------------------------


def make_yield_deps(log: list[str], kind: str) -> Callable[..., Any]:
    """An outer and an inner yield dependency of ``kind`` ("sync" or "async"); returns the inner."""
    if kind == "sync":

        def outer() -> Iterator[str]:
            log.append("open outer")
            try:
                yield "outer"
            except Exception as exc:
                log.append(f"outer caught {type(exc).__name__}: {exc}")
                raise
            finally:
                log.append("close outer")

        def inner(o: Annotated[str, Depends(outer)]) -> Iterator[str]:
            log.append("open inner")
            try:
                yield f"inner<{o}>"
            except Exception as exc:
                log.append(f"inner caught {type(exc).__name__}: {exc}")
                raise
            finally:
                log.append("close inner")

        return inner

    async def aouter() -> AsyncIterator[str]:
        log.append("open outer")
        try:
            yield "outer"
        except Exception as exc:
            log.append(f"outer caught {type(exc).__name__}: {exc}")
            raise
        finally:
            await asyncio.sleep(0.05)  # a slow cleanup: the reply must still wait for it
            log.append("close outer")

    async def ainner(o: Annotated[str, Depends(aouter)]) -> AsyncIterator[str]:
        log.append("open inner")
        try:
            yield f"inner<{o}>"
        except Exception as exc:
            log.append(f"inner caught {type(exc).__name__}: {exc}")
            raise
        finally:
            await asyncio.sleep(0.05)
            log.append("close inner")

    return ainner


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_yield_cleanup_runs_after_handler_and_before_the_reply(
    live_server: "LiveServer", kind: str
) -> None:
    tsio, asgi = make_server()
    log: list[str] = []
    inner = make_yield_deps(log, kind)

    @tsio.on("work")
    async def work(sid: str, data: str, res: Annotated[str, Depends(inner)]) -> str:
        log.append("handler")
        return f"{data} with {res}"

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", "job", timeout=5)
        at_reply = list(log)
    assert reply == "job with inner<outer>"
    assert at_reply == ["open outer", "open inner", "handler", "close inner", "close outer"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_yield_cleanup_gets_the_handler_exception_and_client_gets_500(
    live_server: "LiveServer", kind: str
) -> None:
    tsio, asgi = make_server()
    log: list[str] = []
    inner = make_yield_deps(log, kind)

    @tsio.on("work")
    async def work(sid: str, data: str, res: Annotated[str, Depends(inner)]) -> str:
        log.append("handler")
        raise RuntimeError("secret-detail-42")

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", "job", timeout=5)
        at_reply = list(log)
    assert at_reply == [
        "open outer",
        "open inner",
        "handler",
        "inner caught RuntimeError: secret-detail-42",
        "close inner",
        "outer caught RuntimeError: secret-detail-42",
        "close outer",
    ]
    assert reply["kind"] == "error"
    assert reply["status"] == 500
    assert "secret-detail-42" not in json.dumps(reply)


async def test_generator_that_swallows_the_handler_error_does_not_turn_it_into_success(
    live_server: "LiveServer",
) -> None:
    tsio, asgi = make_server()
    log: list[str] = []

    def swallowing() -> Iterator[str]:
        try:
            yield "x"
        except ValueError:
            log.append("swallowed")

    @tsio.on("work")
    async def work(sid: str, data: str, res: Annotated[str, Depends(swallowing)]) -> str:
        raise ValueError("hidden")

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", "job", timeout=5)
    assert log == ["swallowed"]
    assert reply["status"] == 500
    assert "hidden" not in json.dumps(reply)


async def test_a_failing_cleanup_replies_500_instead_of_the_handler_result(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    log: list[str] = []

    async def fragile() -> AsyncIterator[str]:
        yield "x"
        log.append("cleanup")
        raise RuntimeError("cleanup-secret")

    @tsio.on("work")
    async def work(sid: str, data: str, r: Annotated[str, Depends(fragile)]) -> str:
        log.append("handler")
        return "result"

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", "job", timeout=5)
    assert log == ["handler", "cleanup"]
    assert reply["status"] == 500
    assert "cleanup-secret" not in json.dumps(reply)


async def test_a_failing_dependency_closes_the_generators_opened_before_it(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    log: list[str] = []

    async def opened() -> AsyncIterator[str]:
        log.append("open")
        try:
            yield "resource"
        except Exception as exc:
            log.append(f"caught {type(exc).__name__}")
            raise
        finally:
            log.append("close")

    def failing() -> str:
        log.append("failing")
        raise LookupError("gone")

    @tsio.on("work")
    async def work(
        sid: str, data: str, r: Annotated[str, Depends(opened)], f: Annotated[str, Depends(failing)]
    ) -> str:
        log.append("handler")
        return "unreachable"

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", "job", timeout=5)
        at_reply = list(log)
    assert at_reply == ["open", "failing", "caught LookupError", "close"]
    assert reply["status"] == 500


async def test_yield_cleanup_runs_when_the_client_disconnects_mid_call(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    log: list[str] = []
    release = asyncio.Event()

    async def resource() -> AsyncIterator[str]:
        log.append("open")
        try:
            yield "r"
        finally:
            log.append("close")

    @tsio.on("slow")
    async def slow(sid: str, data: str, r: Annotated[str, Depends(resource)]) -> str:
        log.append("handler start")
        await asyncio.wait_for(release.wait(), timeout=5)
        log.append("handler end")
        return "done"

    @tsio.on("disconnect")
    async def on_disconnect(sid: str, reason: str) -> None:
        log.append("disconnected")

    acks: list[Any] = []
    async with live_server(asgi) as url:
        client = socketio.AsyncClient()
        await client.connect(url, transports=["websocket"], wait_timeout=5)
        try:
            await client.emit("slow", "job", callback=lambda *args: acks.append(args))
            await wait_until(lambda: "handler start" in log)
        finally:
            await client.disconnect()
        await wait_until(lambda: "disconnected" in log)
        release.set()
        await wait_until(lambda: "close" in log)
    assert log == ["open", "handler start", "disconnected", "handler end", "close"]
    assert acks == []  # the reply had nobody to go to


# -- failures ----------------------------------------------------------------------------------------


class DependencyFailed(Exception):
    pass


async def test_a_failing_dependency_goes_to_the_user_exception_handler(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    ran: list[str] = []

    async def broken() -> str:
        raise DependencyFailed("db down")

    @tsio.exception_handler(DependencyFailed)
    async def on_failure(ctx: EventContext, exc: DependencyFailed) -> dict[str, Any]:
        return {"handled": str(exc), "event": ctx.event, "data": ctx.data}

    @tsio.on("work")
    async def work(sid: str, data: int, b: Annotated[str, Depends(broken)]) -> str:
        ran.append("handler")
        return b

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", 3, timeout=5)
    assert reply == {"handled": "db down", "event": "work", "data": 3}
    assert ran == []


async def test_a_failing_dependency_without_a_handler_replies_500_without_text(
    live_server: "LiveServer",
) -> None:
    tsio, asgi = make_server()
    ran: list[str] = []

    def broken() -> str:
        raise DependencyFailed("password=hunter2")

    @tsio.on("work")
    async def work(sid: str, data: int, b: Annotated[str, Depends(broken)]) -> str:
        ran.append("handler")
        return b

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("work", 3, timeout=5)
    assert reply["kind"] == "error"
    assert reply["status"] == 500
    assert reply["title"] == "Internal Server Error"
    assert "hunter2" not in json.dumps(reply)
    assert "DependencyFailed" not in json.dumps(reply)
    assert ran == []


async def test_http_exception_in_a_dependency_is_a_problem_reply_with_its_status(
    live_server: "LiveServer",
) -> None:
    tsio, asgi = make_server()

    def guard(request: SioRequest) -> str:
        raise fastapi.HTTPException(status_code=403, detail="nope")

    @tsio.on("guarded")
    async def guarded(sid: str, data: int, g: Annotated[str, Depends(guard)]) -> str:
        return g

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("guarded", 1, timeout=5)
    assert reply["kind"] == "error"
    assert reply["status"] == 403
    assert reply["detail"] == "nope"
    assert reply["title"] == "Forbidden"


async def test_bad_payload_with_dependencies_is_422_and_no_dependency_runs(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    ran: list[str] = []

    def dep() -> str:
        ran.append("dep")
        return "d"

    async def gen_dep() -> AsyncIterator[str]:
        ran.append("gen")
        yield "g"

    @tsio.on(Ping)
    async def handle(
        sid: str, data: Ping, d: Annotated[str, Depends(dep)], g: Annotated[str, Depends(gen_dep)]
    ) -> Pong:
        ran.append("handler")
        return Pong(reply=data.message + d + g)

    async with live_server(asgi) as url, connected(url) as client:
        wrong_type: Any = await client.call("ping", {"message": ["not", "a", "string"]}, timeout=5)
        not_an_object: Any = await client.call("ping", 12, timeout=5)
        ran_before_good = list(ran)
        good = await client.call("ping", {"message": "ok"}, timeout=5)
    assert wrong_type["status"] == 422
    assert [e["loc"] for e in wrong_type["errors"]] == [["message"]]
    assert not_an_object["status"] == 422
    assert ran_before_good == []
    assert good == {"reply": "okdg"}
    assert ran == ["dep", "gen", "handler"]
