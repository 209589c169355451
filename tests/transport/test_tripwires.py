"""Tripwires: a fingerprint of every upstream function a patch copies, reimplements or shadows.

Each patch in ``zndraw_socketio.transport.registry`` was written against the source of the
python-socketio and python-engineio functions below, at the releases recorded with each
fingerprint. When an installed release changes one of them, the test fails and names the patch
to re-read against the new source: carry over what upstream changed (a fix, a new argument), then
add the new fingerprint with the release it was verified on.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from importlib import metadata
from typing import Any

import pytest

from zndraw_socketio.transport.registry import patch_names

# patch -> upstream function -> {fingerprint: "python-socketio X, python-engineio Y"} it was
# verified on (the first 16 hex digits of the sha256 of its source)
_NEWEST = "python-socketio 5.18.1, python-engineio 4.15.1"
_FLOOR = "python-socketio 5.16.3, python-engineio 4.13.2"
_BOTH = f"{_NEWEST}; {_FLOOR}"
# at the floor: engine.io's client read loop does not yet stop when the write loop has ended,
# which ours does in both (its write loop clears write_loop_task); the manager's
# basic_disconnect does not yet drop a pending connect, which the wrapper leaves to it
FINGERPRINTS: dict[str, dict[str, dict[str, str]]] = {
    "server_websocket_loop": {
        "engineio.async_socket:AsyncSocket._websocket_handler": {"27f120df4d717a24": _NEWEST},
    },
    "client_websocket_loop": {
        "engineio.async_client:AsyncClient._read_loop_websocket": {
            "83f5111bf4e5b524": _NEWEST,
            "db6559318c8aa2d5": _FLOOR,
        },
        "engineio.async_client:AsyncClient._write_loop": {
            "f7cf58bb0cc880c4": _NEWEST,
            "0fe0bb1330795397": _FLOOR,
        },
    },
    "future_call": {
        "socketio.async_server:AsyncServer.call": {"4b7ae754cf3dffbc": _NEWEST},
        "socketio.async_client:AsyncClient.call": {"5ac9b0d0c48abb5a": _NEWEST},
    },
    "manager_emit": {
        "socketio.async_server:AsyncServer.emit": {"84391bfd624104d1": _NEWEST},
    },
    "reserved_events": {
        "socketio.async_server:AsyncServer._handle_event": {"65178105ef8b593d": _NEWEST},
        "socketio.async_client:AsyncClient._handle_event": {"58ff46b471407cce": _NEWEST},
        "socketio.server:Server._handle_event": {"3f64c030f25eb785": _NEWEST},
        "socketio.client:Client._handle_event": {"63f1579a7b4d9b0b": _NEWEST},
    },
    "admin_instrumentation": {
        "socketio.async_admin:InstrumentedAsyncServer.__init__": {"e602b4b5f484eba8": _BOTH},
        "socketio.async_admin:InstrumentedAsyncServer.instrument": {"b93e005e951b8ad4": _BOTH},
        "socketio.async_admin:InstrumentedAsyncServer.uninstrument": {"e5eea1dfbb2194c5": _BOTH},
        "socketio.async_admin:InstrumentedAsyncServer._eio_handle_post_request": {"701d9a80954ea3fd": _BOTH},
        "socketio.async_admin:InstrumentedAsyncServer._eio_websocket_handler": {"19cc54847f74f290": _BOTH},
        "socketio.async_admin:InstrumentedAsyncServer._eio_send_ping": {"fe074aeebecfc4fd": _BOTH},
        "socketio.admin:InstrumentedServer.__init__": {"e99a7d48687233d9": _BOTH},
        "socketio.admin:InstrumentedServer.instrument": {"13a68a5c75c17519": _BOTH},
        "socketio.admin:InstrumentedServer.uninstrument": {"e175c7539d149190": _BOTH},
        "socketio.admin:InstrumentedServer._eio_handle_post_request": {"689f7a5650add13b": _BOTH},
        "socketio.admin:InstrumentedServer._eio_websocket_handler": {"930703770bde47d2": _BOTH},
        "socketio.admin:InstrumentedServer._eio_send_ping": {"c14a831270a12427": _BOTH},
    },
    "graceful_shutdown": {
        "socketio.async_server:AsyncServer._handle_event_internal": {"472e8b723a12d507": _NEWEST},
    },
    "auth_on_leave": {
        "socketio.base_manager:BaseManager.basic_disconnect": {
            "2933b50bc4b2ea7b": _NEWEST,
            "8a1deee863be08b8": _FLOOR,
        },
    },
    "codec": {
        "socketio.packet:Packet.decode": {"61ad7904b539f472": _NEWEST},
        "socketio.packet:Packet.add_attachment": {"01e024038f3d99f5": _NEWEST},
        "socketio.async_server:AsyncServer._handle_eio_message": {"bef50fc0e1635921": _NEWEST},
    },
}


def fingerprint(reference: str) -> str:
    """The fingerprint of ``module:Qualified.name``'s source as installed."""
    module, qualname = reference.split(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()[:16]


CASES = [(patch, ref) for patch, refs in FINGERPRINTS.items() for ref in refs]


@pytest.mark.parametrize(("patch", "reference"), CASES, ids=[ref for _, ref in CASES])
def test_upstream_source_is_the_one_the_patch_was_verified_against(patch: str, reference: str) -> None:
    found = fingerprint(reference)
    known = FINGERPRINTS[patch][reference]
    installed = f"python-socketio {metadata.version('python-socketio')}, " + (
        f"python-engineio {metadata.version('python-engineio')}"
    )
    assert found in known, (
        f"{reference} changed upstream ({installed}: fingerprint {found}); re-verify the patch "
        f"{patch!r} against it (verified: {sorted(set(known.values()))})"
    )


def test_every_patch_that_copies_upstream_has_a_tripwire() -> None:
    """The patches whose code follows an upstream function have its fingerprint; the ones left
    only wrap a method without reading its body (the publish logging)."""
    assert set(FINGERPRINTS) == set(patch_names()) - {"publish_logging"}
