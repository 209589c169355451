"""The differential matrix's loopback subset: a few shapes through uvicorn and a real client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import socketio

from tests.support.differential import PassEverything
from tests.support.differential_cases import CASES, INPUTS, build_handler
from tests.support.helpers import TIMEOUT, asgi_app
from zndraw_socketio import wrap

if TYPE_CHECKING:
    from tests.conftest import LiveServer

SUBSET = (
    "model",
    "wraps_decorated",
    "callable_object",
    "dep_three_levels",
    "dependency_writes_state",
    "raises_http",
)


async def _replies(live_server: LiveServer, middleware: list[Any]) -> dict[tuple[str, str], Any]:
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=middleware)
    cases = [case for case in CASES if case.name in SUBSET]
    calls: list[Any] = []
    for case in cases:
        if case.setup is not None:
            case.setup(tsio, calls)
        tsio.on(case.name, build_handler(case, is_async=True, server=True))
    replies: dict[tuple[str, str], Any] = {}
    async with live_server(asgi_app(tsio)) as url:
        client = socketio.AsyncClient()
        await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        try:
            for case in cases:
                for name, make in INPUTS.items():
                    if name == "one_megabyte_string":  # over engine.io's default message limit
                        continue
                    args = make(case)
                    data = args[0] if len(args) == 1 else (tuple(args) if args else None)
                    replies[(case.name, name)] = await client.call(case.name, data, timeout=TIMEOUT)
        finally:
            await client.disconnect()
    return replies


@pytest.mark.parametrize("stack", ["one", "three"])
async def test_loopback_replies_do_not_depend_on_user_middleware(live_server: LiveServer, stack: str) -> None:
    baseline = await _replies(live_server, [])
    other = await _replies(live_server, [PassEverything() for _ in range({"one": 1, "three": 3}[stack])])
    assert other == baseline
    assert baseline[("model", "valid")] == {"reply": "hi"}
    assert baseline[("wraps_decorated", "valid")] == {"reply": "hi"}
    assert baseline[("raises_http", "valid")]["status"] == 404
    assert baseline[("model", "wrong_type")]["status"] == 422
