"""Dependency injection over real sockets: markers, nesting, caching, yield cleanup, errors, overrides.

No ``from __future__ import annotations`` here on purpose: handlers are defined inside the tests and
their annotations must be real objects (the postponed case lives in ``deps_future_module``).
"""

import asyncio
import inspect
import json
import typing
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import deps_future_module
import fastapi
import pytest
import socketio
import socketio.exceptions
from fastapi import FastAPI

from tests.models import Ping, Pong
from zndraw_socketio import AsyncServerWrapper, Depends, EventContext, SioRequest, wrap

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.timeout(20)


def make_server() -> tuple[AsyncServerWrapper, socketio.ASGIApp]:
    """A wrapped AsyncServer mounted in front of a FastAPI app."""
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))
    return tsio, socketio.ASGIApp(tsio.sio, other_asgi_app=FastAPI())


@asynccontextmanager
async def connected(
    url: str, *, headers: dict[str, str] | None = None, auth: Any = None
) -> AsyncIterator[socketio.AsyncClient]:
    """A raw socketio client connected over websocket, disconnected on exit."""
    client = socketio.AsyncClient()
    await client.connect(url, transports=["websocket"], headers=headers or {}, auth=auth, wait_timeout=5)
    try:
        yield client
    finally:
        await client.disconnect()


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - the state lives in plain lists
            await asyncio.sleep(0.01)


# -- markers -------------------------------------------------------------------------------------


def word_of_the_day() -> str:
    return "dep"


async def ours_annotated(sid: str, data: Ping, word: Annotated[str, Depends(word_of_the_day)]) -> Pong:
    return Pong(reply=f"{data.message}:{word}")


async def ours_default(sid: str, data: Ping, word: str = Depends(word_of_the_day)) -> Pong:
    return Pong(reply=f"{data.message}:{word}")


async def fastapi_annotated(
    sid: str, data: Ping, word: Annotated[str, fastapi.Depends(word_of_the_day)]
) -> Pong:
    return Pong(reply=f"{data.message}:{word}")


async def fastapi_default(sid: str, data: Ping, word: str = fastapi.Depends(word_of_the_day)) -> Pong:
    return Pong(reply=f"{data.message}:{word}")


@pytest.mark.parametrize(
    "handler", [ours_annotated, ours_default, fastapi_annotated, fastapi_default], ids=lambda f: f.__name__
)
async def test_both_markers_in_both_forms(live_server: "LiveServer", handler: Callable[..., Any]) -> None:
    tsio, asgi = make_server()
    tsio.on(Ping, handler)
    async with live_server(asgi) as url, connected(url) as client:
        first = await client.call("ping", {"message": "hi"}, timeout=5)
        second = await client.call("ping", {"message": "again"}, timeout=5)
    assert first == {"reply": "hi:dep"}
    assert second == {"reply": "again:dep"}


async def test_sync_and_async_dependencies_with_sync_and_async_handlers(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()

    def sync_dep() -> str:
        return "sync"

    async def async_dep() -> str:
        await asyncio.sleep(0)
        return "async"

    @tsio.on("async_handler")
    async def async_handler(
        sid: str, data: int, a: Annotated[str, Depends(sync_dep)], b: Annotated[str, Depends(async_dep)]
    ) -> list[Any]:
        return [data, a, b]

    @tsio.on("sync_handler")
    def sync_handler(
        sid: str, data: int, a: Annotated[str, Depends(sync_dep)], b: Annotated[str, Depends(async_dep)]
    ) -> list[Any]:
        return [data * 2, a, b]

    async with live_server(asgi) as url, connected(url) as client:
        from_async = await client.call("async_handler", "7", timeout=5)
        from_sync = await client.call("sync_handler", 4, timeout=5)
    assert from_async == [7, "sync", "async"]  # the payload was validated to int as well
    assert from_sync == [8, "sync", "async"]


async def test_nesting_four_levels_mixing_kinds_and_markers(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    calls: list[str] = []

    def level4() -> int:
        calls.append("level4")
        return 1

    async def level3(n: Annotated[int, fastapi.Depends(level4)]) -> int:
        calls.append("level3")
        return n + 10

    def level2(n: int = Depends(level3)) -> int:
        calls.append("level2")
        return n + 100

    async def level1(n: Annotated[int, Depends(level2)]) -> int:
        calls.append("level1")
        return n + 1000

    @tsio.on("deep")
    async def deep(sid: str, data: int, total: Annotated[int, Depends(level1)]) -> int:
        calls.append("handler")
        return total + data

    async with live_server(asgi) as url, connected(url) as client:
        reply: Any = await client.call("deep", 10000, timeout=5)
    assert reply == 11111
    assert calls == ["level4", "level3", "level2", "level1", "handler"]


# -- caching ----------------------------------------------------------------------------------------


def make_shared_tree(use_cache: bool) -> tuple[Callable[..., Any], list[object]]:
    """A handler whose two branches share one sub-dependency; the list records its results."""
    made: list[object] = []

    def shared() -> object:
        token = object()
        made.append(token)
        return token

    def left(token: Annotated[object, Depends(shared, use_cache=use_cache)]) -> object:
        return token

    async def right(token: Annotated[object, Depends(shared, use_cache=use_cache)]) -> object:
        return token

    async def handler(
        sid: str, data: int, a: Annotated[object, Depends(left)], b: Annotated[object, Depends(right)]
    ) -> dict[str, Any]:
        return {"same": a is b, "calls": len(made), "a_is_last": a is made[-1], "b_is_last": b is made[-1]}

    return handler, made


async def test_shared_subdependency_runs_once_per_event(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    handler, made = make_shared_tree(use_cache=True)
    tsio.on("tree", handler)
    async with live_server(asgi) as url, connected(url) as client:
        first = await client.call("tree", 1, timeout=5)
        second = await client.call("tree", 2, timeout=5)
    assert first == {"same": True, "calls": 1, "a_is_last": True, "b_is_last": True}
    assert second == {"same": True, "calls": 2, "a_is_last": True, "b_is_last": True}
    assert len(made) == 2


async def test_use_cache_false_runs_the_shared_dependency_per_use(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    handler, made = make_shared_tree(use_cache=False)
    tsio.on("tree", handler)
    async with live_server(asgi) as url, connected(url) as client:
        first = await client.call("tree", 1, timeout=5)
        second = await client.call("tree", 2, timeout=5)
    assert first == {"same": False, "calls": 2, "a_is_last": False, "b_is_last": True}
    assert second == {"same": False, "calls": 4, "a_is_last": False, "b_is_last": True}
    assert len(made) == 4


async def test_each_event_gets_a_fresh_cache(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    counter = [0]

    def next_number() -> int:
        counter[0] += 1
        return counter[0]

    @tsio.on("numbers")
    async def numbers(
        sid: str,
        data: int,
        a: Annotated[int, Depends(next_number)],
        b: int = Depends(next_number),
    ) -> list[int]:
        return [a, b]

    async with live_server(asgi) as url, connected(url) as client:
        replies = [await client.call("numbers", i, timeout=5) for i in range(3)]
    assert replies == [[1, 1], [2, 2], [3, 3]]


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


# -- registration errors --------------------------------------------------------------------------


def cycle_a(b: "Annotated[int, Depends(cycle_b)]") -> int:  # pyright: ignore[reportUndefinedVariable]
    return b


def cycle_b(c: "Annotated[int, Depends(cycle_c)]") -> int:  # pyright: ignore[reportUndefinedVariable]
    return c


def cycle_c(a: "Annotated[int, Depends(cycle_a)]") -> int:
    return a


def entry_to_cycle(b: "Annotated[int, Depends(cycle_b)]") -> int:
    return b


def test_a_dependency_cycle_is_a_type_error_at_registration_naming_it() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    async def handler(sid: str, data: int, a: Annotated[int, Depends(cycle_a)]) -> int:
        return a

    with pytest.raises(TypeError, match=r"cycle_a -> cycle_b -> cycle_c -> cycle_a"):
        tsio.on("cyclic", handler)

    async def enters_midway(sid: str, data: int, e: Annotated[int, Depends(entry_to_cycle)]) -> int:
        return e

    with pytest.raises(TypeError, match=r"cycle_b -> cycle_c -> cycle_a -> cycle_b"):
        tsio.on("midway", enters_midway)
    assert tsio.routes == ()
    assert "cyclic" not in tsio.sio.handlers.get("/", {})


@pytest.mark.parametrize("marker", [Depends, fastapi.Depends], ids=["ours", "fastapi"])
def test_depends_with_nothing_to_call_is_a_type_error_at_registration(marker: Callable[[], Any]) -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    async def handler(sid: str, data: int, x=marker()) -> None: ...  # noqa: B008

    with pytest.raises(TypeError, match=r"Depends\(\) in .*handler has nothing to call"):
        tsio.on("nothing", handler)
    assert tsio.routes == ()


async def test_class_and_callable_instance_dependencies(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()

    def page_size() -> int:
        return 25

    class Settings:
        """``Depends()`` with no argument calls the annotated class; its ``__init__`` gets injected."""

        def __init__(self, size: Annotated[int, Depends(page_size)], name: str = "settings") -> None:
            self.size = size
            self.name = name

    class Multiplier:
        def __init__(self, factor: int) -> None:
            self.factor = factor

        async def __call__(self, s: Annotated[Settings, Depends()]) -> int:
            return s.size * self.factor

    @tsio.on("settings")
    async def settings(
        sid: str,
        data: int,
        s: Annotated[Settings, Depends()],
        product: Annotated[int, Depends(Multiplier(3))],
    ) -> list[Any]:
        return [s.name, s.size, product, data]

    async with live_server(asgi) as url, connected(url) as client:
        reply = await client.call("settings", 1, timeout=5)
    assert reply == ["settings", 25, 75, 1]


def test_a_dependency_parameter_that_cannot_be_injected_is_named_at_registration() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    def needs_a_limit(limit: int) -> int:
        return limit

    def outer(n: Annotated[int, Depends(needs_a_limit)]) -> int:
        return n

    async def handler(sid: str, data: int, n: Annotated[int, Depends(outer)]) -> int:
        return n

    with pytest.raises(TypeError, match=r"'limit'.*needs_a_limit"):
        tsio.on("limited", handler)

    def defaulted(limit: int = 5) -> int:  # a default stands: fine
        return limit

    async def fine(sid: str, data: int, n: Annotated[int, Depends(defaulted)]) -> int:
        return n

    tsio.on("fine", fine)
    assert [r.event for r in tsio.routes] == ["fine"]


def test_an_injected_parameter_before_a_payload_parameter_is_a_type_error() -> None:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    async def handler(sid: str, n: Annotated[int, Depends(word_of_the_day)], data: Ping) -> None: ...

    with pytest.raises(TypeError, match=r"'data'.*'n'"):
        tsio.on(Ping, handler)

    async def with_request(sid: str, request: SioRequest, data: Ping) -> None: ...

    with pytest.raises(TypeError, match=r"'data'.*'request'"):
        tsio.on(Ping, with_request)
    assert tsio.routes == ()


# -- the plan is built once -------------------------------------------------------------------------


async def test_no_signature_or_type_hint_introspection_per_event(
    live_server: "LiveServer", monkeypatch: pytest.MonkeyPatch
) -> None:
    tsio, asgi = make_server()

    async def base(request: SioRequest) -> str:
        return request.event

    def middle(b: Annotated[str, Depends(base)]) -> str:
        return b.upper()

    async def resource(m: Annotated[str, fastapi.Depends(middle)]) -> AsyncIterator[str]:
        yield f"<{m}>"

    @tsio.on(Ping)
    async def handle(
        sid: str,
        data: Ping,
        r: Annotated[str, Depends(resource)],
        ctx: EventContext,
        request: fastapi.Request,
    ) -> Pong:
        return Pong(reply=f"{data.message}{r}{ctx.event}:{request.scope['type']}")

    calls: list[str] = []
    real_signature, real_hints = inspect.signature, typing.get_type_hints

    def spy_signature(obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        calls.append(f"signature({getattr(obj, '__qualname__', obj)})")
        return real_signature(obj, *args, **kwargs)

    def spy_hints(obj: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(f"get_type_hints({getattr(obj, '__qualname__', obj)})")
        return real_hints(obj, *args, **kwargs)

    async with live_server(asgi) as url, connected(url) as client:
        monkeypatch.setattr(inspect, "signature", spy_signature)
        monkeypatch.setattr(typing, "get_type_hints", spy_hints)
        replies = [await client.call("ping", {"message": str(i)}, timeout=5) for i in range(3)]
        during_events = list(calls)

        # the spies see what the package does at registration, so silence above means something
        async def probe(sid: str, data: int, m: Annotated[str, Depends(middle)]) -> str:
            return m

        tsio.on("probe", probe)
        monkeypatch.undo()
    assert replies == [{"reply": f"{i}<PING>ping:websocket"} for i in range(3)]
    assert during_events == []
    assert "signature(test_no_signature_or_type_hint_introspection_per_event.<locals>.probe)" in calls
    assert "get_type_hints(test_no_signature_or_type_hint_introspection_per_event.<locals>.middle)" in calls


async def test_handlers_and_dependencies_under_postponed_annotations(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    deps_future_module.register(tsio)
    deps_future_module.LOG.clear()
    async with live_server(asgi) as url, connected(url, headers={"X-Token": "t0k"}) as client:
        reply: Any = await client.call("greeting", {"name": "Ada"}, timeout=5)
        log = list(deps_future_module.LOG)
        bad: Any = await client.call("greeting", {"nom": "Ada"}, timeout=5)
    assert reply == {"text": "hello[t0k]! Ada", "token": "t0k", "event": "greeting"}
    # header_token is shared by salutation and the handler: once per event
    assert log == ["header_token", "punctuation", "salutation", "session open", "handler", "session close"]
    assert bad["status"] == 422  # the payload hint was resolved too


async def test_callable_instance_dependency_under_postponed_annotations(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    deps_future_module.register_checked(tsio)
    deps_future_module.LOG.clear()
    async with live_server(asgi) as url:
        async with connected(url, headers={"X-Token": "t0k"}) as client:
            good: Any = await client.call("checked", 1, timeout=5)
        async with connected(url, headers={"X-Token": "other"}) as client:
            wrong: Any = await client.call("checked", 2, timeout=5)
    assert good == [True, 1]
    assert wrong == [False, 2]
    assert deps_future_module.LOG == ["header_token", "checker for checked"] * 2


async def test_class_dependency_under_postponed_annotations(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    deps_future_module.register_paged(tsio)
    async with live_server(asgi) as url, connected(url, headers={"X-Token": "t0k"}) as client:
        reply: Any = await client.call("paged", 3, timeout=5)
    assert reply == ["t0k", 10, 3]


# -- connect and disconnect ---------------------------------------------------------------------------


async def test_depends_in_connect_and_disconnect_handlers(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    log: list[Any] = []

    def user_of(request: SioRequest) -> str:
        if not request.auth:
            raise socketio.exceptions.ConnectionRefusedError("who are you?")
        headers = request.headers
        assert headers is not None
        return f"{request.auth['user']}@{headers['x-device']}"

    async def audit() -> AsyncIterator[str]:
        log.append("audit open")
        yield "audit"
        log.append("audit close")

    @tsio.on("connect")
    async def connect(
        sid: str,
        environ: dict[str, Any],
        auth: dict[str, Any] | None,
        user: Annotated[str, Depends(user_of)],
        trail: Annotated[str, Depends(audit)],
    ) -> None:
        log.append(("connect", user, auth, trail))

    @tsio.on("disconnect")
    async def disconnect(sid: str, reason: str, user: Annotated[str, Depends(user_of)]) -> None:
        log.append(("disconnect", user, reason))

    async with live_server(asgi) as url:
        async with connected(url, headers={"X-Device": "laptop"}, auth={"user": "alice"}) as client:
            connect_log = list(log)
            await tsio.disconnect(client.get_sid())  # the server hangs up: a known reason
            await wait_until(lambda: len(log) == 4)

        refused = socketio.AsyncClient()
        errors: list[Any] = []
        refused.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(
                url, transports=["websocket"], headers={"X-Device": "phone"}, wait_timeout=5
            )
        await refused.disconnect()
    assert errors == [{"message": "who are you?"}]
    assert connect_log == [
        "audit open",
        ("connect", "alice@laptop", {"user": "alice"}, "audit"),
        "audit close",
    ]
    assert log == [
        *connect_log,
        ("disconnect", "alice@laptop", socketio.AsyncServer.reason.SERVER_DISCONNECT),
    ]


# -- overrides ---------------------------------------------------------------------------------------


async def test_dependency_overrides_replace_and_removal_restores(live_server: "LiveServer") -> None:
    tsio, asgi = make_server()
    log: list[str] = []

    def real_name() -> str:
        return "real"

    def greeting(name: Annotated[str, Depends(real_name)]) -> str:
        return f"hello {name}"

    @tsio.on("name")
    async def name(sid: str, data: int, n: Annotated[str, Depends(real_name)]) -> str:
        log.append("handler")
        return n

    @tsio.on("greet")
    async def greet(sid: str, data: int, g: Annotated[str, Depends(greeting)]) -> str:
        return g

    def fake_name() -> str:
        return "fake"

    async def generated_name(request: SioRequest) -> AsyncIterator[str]:
        log.append("override open")
        yield f"generated for {request.event}"
        log.append("override close")

    async with live_server(asgi) as url, connected(url) as client:
        replies = [await client.call("name", 0, timeout=5), await client.call("greet", 0, timeout=5)]
        tsio.dependency_overrides[real_name] = fake_name
        replies += [await client.call("name", 0, timeout=5), await client.call("greet", 0, timeout=5)]
        log.clear()
        tsio.dependency_overrides[real_name] = generated_name
        replies += [await client.call("name", 0, timeout=5)]
        at_reply = list(log)
        replies += [await client.call("greet", 0, timeout=5)]
        del tsio.dependency_overrides[real_name]
        replies += [await client.call("name", 0, timeout=5), await client.call("greet", 0, timeout=5)]
    assert replies == [
        "real",
        "hello real",
        "fake",
        "hello fake",
        "generated for name",
        "hello generated for greet",
        "real",
        "hello real",
    ]
    assert at_reply == ["override open", "handler", "override close"]
    assert tsio.dependency_overrides == {}


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


def test_dependency_plans_survive_a_middleware_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recomposing the chains (add_middleware) reuses the plans: nothing is inspected again."""
    from zndraw_socketio import Middleware

    tsio = wrap(socketio.AsyncServer(async_mode="asgi"))

    async def handler(sid: str, data: int, w: Annotated[str, Depends(word_of_the_day)]) -> str:
        return w

    tsio.on("w", handler)
    plan_before = tsio.routes[0].injected
    seen: list[Any] = []
    real_signature = inspect.signature

    def spy_signature(obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        seen.append(obj)
        return real_signature(obj, *args, **kwargs)

    monkeypatch.setattr(inspect, "signature", spy_signature)

    class Noop(Middleware):
        async def inbound(self, ctx: Any, call_next: Any) -> Any:
            return await call_next(ctx)

    tsio.add_middleware(Noop())
    monkeypatch.undo()
    assert seen == []
    assert tsio.routes[0].injected is plan_before
