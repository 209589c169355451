"""Dependency resolution over real sockets: markers, sync/async kinds, nesting, per-event caching,
class and callable-instance dependencies, dependencies in connect/disconnect handlers, and
``dependency_overrides``.

No ``from __future__ import annotations`` here on purpose: handlers are defined inside the tests and
their annotations must be real objects (the postponed case lives in ``deps_future_module``).
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any

import fastapi
import pytest
import socketio
import socketio.exceptions

from tests.support.deps_support import connected, make_server, wait_until, word_of_the_day
from tests.support.models import Ping, Pong
from zndraw_socketio import Depends, SioRequest

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.timeout(20)


# -- markers -------------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("use_cache", "expected", "total"),
    [
        pytest.param(
            True,
            [
                {"same": True, "calls": 1, "a_is_last": True, "b_is_last": True},
                {"same": True, "calls": 2, "a_is_last": True, "b_is_last": True},
            ],
            2,
            id="cached-runs-once-per-event",
        ),
        pytest.param(
            False,
            [
                {"same": False, "calls": 2, "a_is_last": False, "b_is_last": True},
                {"same": False, "calls": 4, "a_is_last": False, "b_is_last": True},
            ],
            4,
            id="use_cache_false-runs-per-use",
        ),
    ],
)
async def test_shared_subdependency_runs_once_per_event_unless_use_cache_is_false(
    live_server: "LiveServer", use_cache: bool, expected: list[dict[str, Any]], total: int
) -> None:
    tsio, asgi = make_server()
    handler, made = make_shared_tree(use_cache=use_cache)
    tsio.on("tree", handler)
    async with live_server(asgi) as url, connected(url) as client:
        first = await client.call("tree", 1, timeout=5)
        second = await client.call("tree", 2, timeout=5)
    assert [first, second] == expected
    assert len(made) == total


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


# -- classes and callable instances ---------------------------------------------------------------


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
