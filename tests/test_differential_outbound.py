"""Differential matrix, outbound: every ``emit``/``call`` shape gives the same packets, log entries
(less ``duration_ms``), results and errors with and without user middleware, on an async server,
an async client and the synchronous server face (``call`` where the face can answer in process)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from tests.differential import PassEverything, normalised
from tests.inprocess import PEERS, Peer
from tests.models import Ping, Pong
from zndraw_socketio import wrap


class Unserialisable:
    """Something no JSON encoder takes."""


def _target(peer: Peer) -> dict[str, Any]:
    return {"to": peer.sid} if peer.kind != "async_client" else {}


SHAPES: dict[str, Callable[[Any, Peer], Any]] = {
    "model": lambda t, p: t.emit(Ping(message="m"), **_target(p)),
    "model_again": lambda t, p: t.emit(Ping(message="n"), **_target(p)),
    "name_and_dict": lambda t, p: t.emit("custom", {"a": 1}, **_target(p)),
    "name_and_model": lambda t, p: t.emit("custom", Ping(message="m"), **_target(p)),
    "name_and_list_of_models": lambda t, p: t.emit(
        "custom", [Ping(message="a"), Ping(message="b")], **_target(p)
    ),
    "name_and_tuple": lambda t, p: t.emit("custom", (1, "two"), **_target(p)),
    "name_only": lambda t, p: t.emit("tick", **_target(p)),
    "model_and_data": lambda t, p: t.emit(Ping(message="m"), {"x": 1}),
    "model_and_data_keyword": lambda t, p: t.emit(Ping(message="m"), data={"x": 1}),
    "model_class": lambda t, p: t.emit(Ping),
    "not_an_event": lambda t, p: t.emit(42),
    "unserialisable": lambda t, p: t.emit("custom", Unserialisable(), **_target(p)),
    "unknown_keyword": lambda t, p: t.emit(Ping(message="m"), no_such_keyword=1),
    "namespace": lambda t, p: t.emit(Ping(message="m"), namespace="/", **_target(p)),
    "callback": lambda t, p: t.emit(Ping(message="m"), callback=lambda *a: None, **_target(p)),
}
CALLS: dict[str, Callable[[Any, Peer], Any]] = {
    "call_model": lambda t, p: t.call(Ping(message="m"), response_model=Pong, timeout=2, **_target(p)),
    "call_raw": lambda t, p: t.call("custom", {"a": 1}, timeout=2, **_target(p)),
    "call_wrong_reply": lambda t, p: t.call(Ping(message="m"), response_model=Ping, timeout=2, **_target(p)),
}
ANSWERS = {"call_model": {"reply": "r"}, "call_raw": [1, 2], "call_wrong_reply": {"reply": "r"}}
PROBLEM = {"kind": "error", "title": "Gone", "status": 410}


async def run_outbound(face: str, stack: str, level: int = logging.DEBUG) -> dict[str, Any]:
    """Every shape on a fresh ``face`` under ``stack``, with log entries below ``level`` filtered
    (at INFO an async server's emit of a known model takes the direct path)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))
    peer = PEERS[face]()
    if face == "async_server":
        peer.sio.async_handlers = True  # socketio's call() requires it; acks are still handled in place
    middleware = {"none": [], "one": [PassEverything()], "three": [PassEverything() for _ in range(3)]}[stack]
    tsio: Any = wrap(peer.sio, middleware=middleware)
    await peer.connect()
    shapes = dict(SHAPES)
    if face != "sync_server":  # a synchronous server's call blocks the thread the answer needs
        shapes.update(CALLS)
        shapes["call_problem"] = CALLS["call_model"]
    results: dict[str, Any] = {}
    for name, shape in shapes.items():
        peer.sent.clear()
        peer.answer_calls = PROBLEM if name == "call_problem" else ANSWERS.get(name)
        with structlog.testing.capture_logs() as logs:
            try:
                result = shape(tsio, peer)
                if hasattr(result, "__await__"):
                    result = await result
                outcome: Any = ("ok", repr(result))
            except Exception as exc:
                outcome = ("raised", type(exc).__name__)
        entries = [{k: normalised(v, peer) for k, v in e.items() if k != "duration_ms"} for e in logs]
        results[name] = (outcome, [p for p in peer.sent if not p.startswith("3")], entries)
    return results


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO], ids=["debug", "info"])
@pytest.mark.parametrize("face", list(PEERS))
async def test_outbound_user_middleware_changes_nothing(face: str, level: int) -> None:
    baseline = await run_outbound(face, "none", level)
    for stack in ("one", "three"):
        other = await run_outbound(face, stack, level)
        for name in baseline:
            assert other[name] == baseline[name], (stack, name)


@pytest.mark.parametrize("face", list(PEERS))
async def test_outbound_matrix_sees_what_it_claims(face: str) -> None:
    result = await run_outbound(face, "one")
    outcome, sent, _ = result["model"]
    assert outcome == ("ok", "None") and sent == ['2["ping",{"message":"m"}]']
    assert result["name_and_list_of_models"][1] == ['2["custom",[{"message":"a"},{"message":"b"}]]']
    assert result["model_and_data"][0] == ("raised", "TypeError")
    assert result["unserialisable"][0][0] == "raised"
    failed = result["unknown_keyword"][2]
    assert [(e["outcome"], e["error"]) for e in failed] == [("error", "TypeError")]
    if face != "sync_server":
        assert result["call_model"][0] == ("ok", "Pong(reply='r')")
        assert result["call_problem"][0] == ("raised", "ProblemDetailError")
        assert result["call_wrong_reply"][0] == ("raised", "ValidationError")
