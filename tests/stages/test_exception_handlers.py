"""User exception handlers: lookup by MRO, namespace before global, replies and logging."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import structlog
from fastapi import HTTPException
from pydantic import ValidationError

from tests.support.helpers import STACKS, TIMEOUT, Inbox, asgi_app, connected, new_server, stack
from tests.support.models import Ping, Pong
from zndraw_socketio import EventContext
from zndraw_socketio.stages.exceptions import ExceptionHandlers

if TYPE_CHECKING:
    from tests.conftest import LiveServer


# -- exception handlers ----------------------------------------------------------------------------


async def test_most_specific_handler_by_mro(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on("raise")
    async def raiser(sid: str, name: str) -> None:
        raise {"key": KeyError, "index": IndexError, "runtime": RuntimeError, "base": Exception}[name]("x")

    @tsio.exception_handler(Exception)
    async def on_exception(ctx: EventContext, exc: Exception) -> str:
        return "Exception"

    @tsio.exception_handler(LookupError)
    def on_lookup(ctx: EventContext, exc: LookupError) -> str:
        return "LookupError"

    @tsio.exception_handler(KeyError)
    async def on_key(ctx: EventContext, exc: KeyError) -> str:
        return "KeyError"

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        got = {
            name: await client.call("raise", name, timeout=TIMEOUT)
            for name in ("key", "index", "runtime", "base")
        }
    assert got == {"key": "KeyError", "index": "LookupError", "runtime": "Exception", "base": "Exception"}


async def test_namespace_scoped_handler_before_global(live_server: LiveServer) -> None:
    tsio = new_server()

    async def fail(sid: str, data: Any) -> None:
        raise ValueError("x")

    tsio.on("fail", fail)
    tsio.on("fail", fail, namespace="/scoped")
    tsio.on("fail", fail, namespace="/other")

    @tsio.exception_handler(ValueError)
    def global_handler(ctx: EventContext, exc: ValueError) -> str:
        return f"global:{ctx.namespace}"

    @tsio.exception_handler(ValueError, namespace="/scoped")
    async def scoped_handler(ctx: EventContext, exc: ValueError) -> str:
        return f"scoped:{ctx.namespace}"

    namespaces = ["/", "/scoped", "/other"]
    async with live_server(asgi_app(tsio)) as url, connected(url, namespaces=namespaces) as client:
        got = [await client.call("fail", 1, namespace=ns, timeout=TIMEOUT) for ns in namespaces]
    assert got == ["global:/", "scoped:/scoped", "global:/other"]


@pytest.mark.parametrize("shape", STACKS)
async def test_exception_handler_context_and_model_reply(live_server: LiveServer, shape: str) -> None:
    tsio = new_server(stack(shape))
    contexts = Inbox()

    @tsio.on("fail")
    async def fail(sid: str, data: Any, extra: int) -> None:
        raise ValueError("reason")

    @tsio.on("whoami")
    async def whoami(sid: str) -> str:
        return sid

    @tsio.exception_handler(ValueError)
    async def on_value_error(ctx: EventContext, exc: ValueError) -> Pong:
        contexts.put((ctx.event, ctx.namespace, ctx.sid, ctx.data))
        return Pong(reply=str(exc))

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        sid = await client.call("whoami", timeout=TIMEOUT)
        assert await client.call("fail", ({"a": [1]}, 2), timeout=TIMEOUT) == {"reply": "reason"}
        assert await contexts.get() == ("fail", "/", sid, ({"a": [1]}, 2))


async def test_validation_error_handler_overrides_422(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    @tsio.exception_handler(ValidationError)
    def on_invalid(ctx: EventContext, exc: ValidationError) -> dict[str, Any]:
        return {"invalid": ctx.event, "count": exc.error_count()}

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": 1}, timeout=TIMEOUT) == {"invalid": "ping", "count": 1}


async def test_handled_exception_logged_without_traceback(live_server: LiveServer) -> None:
    tsio = new_server()

    @tsio.on("fail")
    async def fail(sid: str) -> None:
        raise ValueError("x")

    @tsio.exception_handler(ValueError)
    def on_value_error(ctx: EventContext, exc: ValueError) -> str:
        return "handled"

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            assert await client.call("fail", timeout=TIMEOUT) == "handled"
    [entry] = [e for e in logs if e.get("sio_event") == "fail"]
    assert (entry["outcome"], entry["log_level"], entry["error"], entry["exc_info"]) == (
        "error",
        "error",
        "ValueError",
        None,
    )


@pytest.mark.parametrize("shape", STACKS)
async def test_http_exception_keeps_its_status_and_detail(live_server: LiveServer, shape: str) -> None:
    tsio = new_server(stack(shape))

    @tsio.on("find")
    async def find(sid: str, key: str) -> str:
        raise HTTPException(status_code=404, detail=f"no {key}")

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("find", "k", timeout=TIMEOUT) == {
            "kind": "error",
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "no k",
            "instance": "find",
        }


# -- ExceptionHandlers.lookup as a unit -------------------------------------------------------------


def _h(ctx: EventContext, exc: BaseException) -> None:
    return None


def _g(ctx: EventContext, exc: BaseException) -> None:
    return None


def test_lookup_walks_mro_and_prefers_namespace() -> None:
    handlers = ExceptionHandlers()
    assert handlers.lookup("/", KeyError) is None
    handlers.add(LookupError, _h)
    assert handlers.lookup("/", KeyError) is _h
    assert handlers.lookup("/", ValueError) is None
    handlers.add(LookupError, _g, namespace="/ns")
    assert handlers.lookup("/ns", KeyError) is _g
    assert handlers.lookup("/", KeyError) is _h  # the cache was cleared by add()
    assert len(handlers) == 2


def test_exception_handler_requires_an_exception_class() -> None:
    tsio = new_server()
    with pytest.raises(TypeError, match="exception class"):
        tsio.exception_handler("ValueError")(_h)  # type: ignore[arg-type]
