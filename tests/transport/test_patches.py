"""The registry of patches: checked when ``wrap()`` runs, reported on the wrapper, switched off
with one warning when an upstream internal is not where it was, never installed on a mock, and
never needed at import time."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from typing import TYPE_CHECKING, Any
from unittest.mock import MagicMock

import pytest
import socketio
from socketio.packet import Packet

from tests.support.helpers import TIMEOUT, asgi_app, connected
from tests.support.models import Ping, Pong
from zndraw_socketio import PatchState, wrap
from zndraw_socketio.transport.patches import Patch, install_patches
from zndraw_socketio.transport.registry import patch_names

if TYPE_CHECKING:
    from tests.conftest import LiveServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_patch_is_active_on_the_installed_releases() -> None:
    expected = {
        socketio.AsyncServer(async_mode="asgi"): {
            "codec",
            "server_websocket_loop",
            "reserved_events",
            "auth_on_leave",
            "future_call",
            "manager_emit",
            "admin_instrumentation",
            "graceful_shutdown",
        },
        socketio.AsyncClient(): {"codec", "client_websocket_loop", "reserved_events", "future_call"},
        socketio.Server(): {"codec", "reserved_events", "auth_on_leave", "admin_instrumentation"},
        socketio.Client(): {"codec", "reserved_events"},
        socketio.AsyncSimpleClient(): {"codec", "reserved_events"},
        socketio.SimpleClient(): {"codec", "reserved_events"},
        socketio.AsyncRedisManager("redis://127.0.0.1:6379/0", write_only=True): {"codec", "publish_logging"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no patch may switch itself off here
        for sio, names in expected.items():
            patches = wrap(sio).patches
            assert set(patches) == names, type(sio).__name__
            assert all(state.active and state.reason is None for state in patches.values()), patches


def test_patches_switched_off_in_wrap_say_so() -> None:
    tsio = wrap(
        socketio.AsyncServer(async_mode="asgi"),
        codec=None,
        websocket_loop=False,
        skip_patches=["reserved_events", "manager_emit"],
    )
    patches = tsio.patches
    for name in ("codec", "server_websocket_loop", "reserved_events", "manager_emit"):
        assert patches[name] == PatchState(False, patches[name].reason)
        assert not patches[name] and "wrap(" in str(patches[name].reason)
    assert patches["future_call"].active
    assert tsio.sio.packet_class is Packet
    with pytest.raises(ValueError, match="unknown patch names"):
        wrap(socketio.AsyncServer(async_mode="asgi"), skip_patches=["no_such_patch"])
    assert set(patch_names()) >= set(patches)


class _MovedInternal(socketio.AsyncServer):
    """A server whose ``_handle_event`` reads its arguments under other names, as an upstream
    release that reshuffled them would."""

    async def _handle_event(self, sid: Any, ns: Any, ack: Any, payload: Any) -> Any:  # type: ignore[override]
        return await super()._handle_event(sid, ns, ack, payload)


async def test_a_patch_whose_internal_moved_steps_aside_with_one_warning(live_server: LiveServer) -> None:
    """The plain upstream path runs: the typed handler still answers, and the reserved-event
    guard, whose check failed, is not in front of python-socketio's own handling."""
    with pytest.warns(RuntimeWarning, match=r"patch 'reserved_events'.*switched off.*python-socketio \d"):
        tsio = wrap(_MovedInternal(async_mode="asgi"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = wrap(_MovedInternal(async_mode="asgi"))  # one warning per process, not per wrap
    state = tsio.patches["reserved_events"]
    assert not state.active and "takes no 'eio_sid'" in str(state.reason)
    assert not again.patches["reserved_events"].active
    assert tsio.patches["codec"].active

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        return Pong(reply=data.message)

    async with live_server(asgi_app(tsio)) as url, connected(url) as client:
        assert await client.call("ping", {"message": "still typed"}, timeout=TIMEOUT) == {
            "reply": "still typed"
        }


def test_a_failing_check_is_reported_and_nothing_is_installed() -> None:
    installed: list[Any] = []

    def install(sio: Any, options: Any) -> None:
        installed.append(sio)

    def crash(sio: Any) -> str | None:
        raise ZeroDivisionError("division by zero")

    broken = Patch("broken", "a test patch", lambda sio: True, lambda sio: "it moved", install)
    crashing = Patch("crashing", "a test patch", lambda sio: True, crash, install)
    with pytest.warns(RuntimeWarning) as caught:
        states = install_patches(socketio.AsyncServer(), [broken, crashing], skipped={})
    assert states == {
        "broken": PatchState(False, "it moved"),
        "crashing": PatchState(False, "ZeroDivisionError: division by zero"),
    }
    assert installed == []
    assert len(caught) == 2


async def test_a_mock_with_spec_gets_no_patch_and_passes_calls_through() -> None:
    """As 0.1.6 did: registrations reach the mock's ``on``, emits its ``emit``, serialised."""
    mock = MagicMock(spec=socketio.AsyncClient)
    tsio = wrap(mock)
    assert tsio.patches and not any(state.active for state in tsio.patches.values())
    assert {state.reason for state in tsio.patches.values()} == {"not a python-socketio object"}

    @tsio.on(Ping)
    async def ping(data: Ping) -> Pong:
        return Pong(reply=data.message)

    (event, entry), kwargs = mock.on.call_args
    assert event == "ping" and kwargs == {"namespace": "/"}
    assert await entry({"message": "m"}) == {"reply": "m"}
    await tsio.emit(Ping(message="out"))
    mock.emit.assert_awaited_once_with("ping", {"message": "out"})

    server_mock = MagicMock(spec=socketio.AsyncServer)
    typed_server = wrap(server_mock)
    await typed_server.emit(Ping(message="all"), to="sid1")
    server_mock.emit.assert_awaited_once_with("ping", {"message": "all"}, to="sid1")


def test_importing_never_needs_an_internal_that_moved() -> None:
    """With engine.io's private websocket handler gone, the package imports and wrap() steps
    the websocket loop aside with its warning."""
    code = (
        "import warnings, engineio.async_socket as s\n"
        "del s.AsyncSocket._websocket_handler\n"
        "import zndraw_socketio, socketio\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    t = zndraw_socketio.wrap(socketio.AsyncServer(async_mode='asgi'))\n"
        "state = t.patches['server_websocket_loop']\n"
        "print(state.active, len(w), any('server_websocket_loop' in str(x.message) for x in w))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # one warning each for the two patches that follow that handler (the loop, the admin UI's)
    assert done.stdout.split() == ["False", "2", "True"]
