"""Dependency plans built at registration: the errors registration raises (cycles, empty
``Depends()``, parameters that cannot be injected, parameter order), the promise that no
signature or type-hint introspection happens per event or on a middleware change, and
handlers and dependencies written under postponed annotations (``deps_future_module``).

No ``from __future__ import annotations`` here on purpose: handlers are defined inside the tests and
their annotations must be real objects; the string annotations of the cycle below are resolved
against this module's globals.
"""

import inspect
import typing
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any

import fastapi
import pytest
import socketio

from tests.support import deps_future_module
from tests.support.deps_support import connected, make_server, word_of_the_day
from tests.support.models import Ping, Pong
from zndraw_socketio import Depends, EventContext, SioRequest, wrap

if TYPE_CHECKING:
    from conftest import LiveServer

pytestmark = pytest.mark.timeout(20)


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


# -- postponed annotations ---------------------------------------------------------------------------


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
